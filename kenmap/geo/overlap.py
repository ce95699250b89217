"""How polygons of two layers overlap: the basis of nesting checks and parent assignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray


def overlap_pairs(
    children: NDArray[np.object_], parents: NDArray[np.object_]
) -> pd.DataFrame:
    """Every (child, parent) pair that shares area, with the shared area.

    Children lying wholly inside one parent are found with a prepared ``within`` test and skip
    the costly intersection; only boundary cases are intersected.

    Returns
    -------
    DataFrame with columns ``child``, ``parent`` (positions) and ``area``.
    """
    tree = shapely.STRtree(parents)
    inside_c, inside_p = tree.query(children, predicate="within")
    child_area = shapely.area(children)
    inside = pd.DataFrame({"child": inside_c, "parent": inside_p,
                           "area": child_area[inside_c]})
    rest = np.setdiff1d(np.arange(len(children)), inside_c)
    if len(rest) == 0:
        return inside
    rest_c, rest_p = tree.query(children[rest], predicate="intersects")
    rest_c = rest[rest_c]
    shared = shapely.area(shapely.intersection(children[rest_c], parents[rest_p], grid_size=None))
    keep = shared > 0
    boundary = pd.DataFrame({"child": rest_c[keep], "parent": rest_p[keep], "area": shared[keep]})
    return pd.concat([inside, boundary], ignore_index=True)


def best_parent(
    children: NDArray[np.object_], parents: NDArray[np.object_]
) -> pd.DataFrame:
    """For each child, the parent holding the largest share of it.

    Returns
    -------
    DataFrame indexed by child position with ``parent`` (position, -1 when none), ``share`` of
    the child inside that parent, and ``others`` (list of (parent position, share) for the rest).
    """
    pairs = overlap_pairs(children, parents)
    child_area = shapely.area(children)
    pairs["share"] = pairs["area"] / np.where(child_area > 0, child_area, 1)[pairs["child"]]
    pairs = pairs.sort_values(["child", "share"], ascending=[True, False])
    top = pairs.drop_duplicates("child").set_index("child")
    out = pd.DataFrame({"parent": -1, "share": 0.0}, index=pd.RangeIndex(len(children)))
    out.loc[top.index, "parent"] = top["parent"].astype(int)
    out.loc[top.index, "share"] = top["share"]
    second = pairs[pairs.duplicated("child")]
    others: dict[int, list[tuple[int, float]]] = {}
    for c, p, share in zip(second["child"].to_numpy(), second["parent"].to_numpy(),
                           second["share"].to_numpy()):
        others.setdefault(int(c), []).append((int(p), round(float(share), 4)))
    out["others"] = pd.Series([others.get(i, []) for i in range(len(children))], dtype=object)
    return out


def self_overlaps(geoms: NDArray[np.object_]) -> pd.DataFrame:
    """Pairs of polygons in one layer whose interiors overlap, with the overlapping area."""
    if len(geoms) < 2 or shapely.coverage_is_valid(geoms):
        return pd.DataFrame({"a": [], "b": [], "area": []})
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="overlaps")
    keep = a < b
    a, b = a[keep], b[keep]
    more_a, more_b = tree.query(geoms, predicate="contains")
    keep = more_a != more_b
    a = np.concatenate([a, more_a[keep]])
    b = np.concatenate([b, more_b[keep]])
    area = shapely.area(shapely.intersection(geoms[a], geoms[b])) if len(a) else np.array([])
    return pd.DataFrame({"a": a, "b": b, "area": area})
