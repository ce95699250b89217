"""Simplifying a coverage of polygons for web maps without opening gaps between them."""

from __future__ import annotations

import math

import numpy as np
import shapely


def display_tolerance(total_area_m2: float, count: int) -> float:
    """Simplification tolerance for display: about 2 % of a typical area's width, 1–30 m.

    Invisible at the zoom that shows an area whole; shared edges stay shared.
    """
    if count == 0:
        return 0.0
    typical = math.sqrt(total_area_m2 / count)
    return float(min(30.0, max(1.0, typical * 0.02)))


def simplify_coverage(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Simplify polygons that tile an area without opening gaps or overlaps between them.

    Shared edges are simplified once, so neighbours keep identical boundaries (GEOS coverage
    simplification). Falls back to per-polygon simplification for layers that are not a clean
    coverage.
    """
    if tolerance <= 0 or len(geoms) == 0:
        return geoms
    try:
        return np.asarray(shapely.coverage_simplify(geoms, tolerance))
    except shapely.errors.GEOSException:
        return np.asarray(shapely.simplify(geoms, tolerance, preserve_topology=True))
