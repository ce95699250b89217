"""Simplifying a coverage of polygons for web maps without opening gaps between them."""

from __future__ import annotations

import numpy as np
import shapely


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
