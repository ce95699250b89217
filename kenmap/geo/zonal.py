"""Zonal sums: apportioning counts held on one set of polygons to another by shared area."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray


def apportion(sources: NDArray[np.object_], values: NDArray[np.float64],
              targets: NDArray[np.object_]) -> NDArray[np.float64]:
    """Each target's share of the source values, in proportion to the area they share.

    A source's value is split over targets by the fraction of the source's area each covers;
    the part of a source outside every target is lost (it lies outside the study area).
    """
    out = np.zeros(len(targets))
    if len(sources) == 0 or len(targets) == 0:
        return out
    tree = shapely.STRtree(targets)
    src, tgt = tree.query(sources, predicate="intersects")
    if len(src) == 0:
        return out
    shared = shapely.area(shapely.intersection(sources[src], targets[tgt]))
    source_area = shapely.area(sources)
    with np.errstate(invalid="ignore", divide="ignore"):
        part = np.where(source_area[src] > 0, shared / source_area[src], 0.0)
    np.add.at(out, tgt, np.nan_to_num(values[src]) * part)
    return out
