"""Geometry repair for polygon layers."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray


def polygonal_part(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Keep only the polygonal part of each geometry (collections from make_valid)."""
    out = geoms.copy()
    types = shapely.get_type_id(out)
    is_collection = types == 7
    for i in np.flatnonzero(is_collection):  # rare: only repaired geometries reach here
        parts = shapely.get_parts(out[i])
        polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[i] = shapely.union_all(polys) if len(polys) else shapely.Polygon()
    return out


def repair_polygons(
    geoms: NDArray[np.object_],
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Repair invalid polygons.

    Returns
    -------
    repaired, was_invalid
        The repaired geometries and a mask of those that had to be repaired.
    """
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return geoms, invalid
    fixed = geoms.copy()
    with np.errstate(all="ignore"):  # degenerate rings: reported by the caller, not numpy
        fixed[invalid] = polygonal_part(shapely.make_valid(geoms[invalid]))
    return fixed, invalid
