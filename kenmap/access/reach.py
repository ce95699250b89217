"""Reach of hubs: membership (the plans' count) and walking distance over demand cells."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from kenmap.access.demand import Demand
from kenmap.errors import KenmapError
from kenmap.hubs.table import HUBS, counting, split_codes
from kenmap.layers.locate import area_column
from kenmap.model import settings
from kenmap.model.catalogue import catalogue_of
from kenmap.workspace import Workspace

DEFAULT_DETOUR = settings.DETOUR


@dataclass
class HubSet:
    """The hubs of one type that count (existing, and planned when asked)."""

    hub_type: str
    frame: pd.DataFrame
    x: NDArray[np.float64]
    y: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.x)


def hubs_of(ws: Workspace, hub_type: str, *, with_planned: bool = False,
            extra: pd.DataFrame | None = None) -> HubSet:
    """Hubs of ``hub_type``; ``extra`` adds hypothetical ones (x, y columns) for siting."""
    catalogue_of(ws.get("hub_types")).get(hub_type)
    hubs = ws.read_points(HUBS)
    statuses = ("existing", "planned") if with_planned else ("existing",)
    chosen = counting(hubs[hubs["type"] == hub_type], ws, statuses) if len(hubs) else hubs
    chosen = chosen[chosen["x"].notna()] if len(chosen) else chosen
    xs = chosen["x"].to_numpy(dtype=float) if len(chosen) else np.array([])
    ys = chosen["y"].to_numpy(dtype=float) if len(chosen) else np.array([])
    if len(chosen) and "position" in chosen.columns:
        # 位置未確定 (placed in the area it names): inside that area, but no walking distance.
        vague = (chosen["position"] == "area").to_numpy()
        xs, ys = np.where(vague, np.nan, xs), np.where(vague, np.nan, ys)
    frame = pd.DataFrame(chosen.drop(columns=["x", "y"])) if len(chosen) else pd.DataFrame()
    if extra is not None and len(extra):
        xs = np.concatenate([xs, extra["x"].to_numpy(dtype=float)])
        ys = np.concatenate([ys, extra["y"].to_numpy(dtype=float)])
        frame = pd.concat([frame, extra.drop(columns=["x", "y"])], ignore_index=True)
    return HubSet(hub_type, frame.reset_index(drop=True), xs, ys)


def nearest_walk(demand: Demand, hubs: HubSet, detour: float) -> NDArray[np.float64]:
    """Walking distance (straight line × detour) from each demand cell to its nearest hub."""
    if detour < 1:
        raise KenmapError("--detour は1以上にしてください（歩く距離が直線距離より"
                          "短くなることはありません）", field="--detour")
    exact = np.isfinite(hubs.x) & np.isfinite(hubs.y)
    if not exact.any():
        return np.full(len(demand), np.inf)
    return nearest_straight(demand, hubs.x[exact], hubs.y[exact]).distance * detour


@dataclass
class Nearest:
    """For each demand cell: the straight-line distance to the nearest hub and which hub."""

    hub_x: NDArray[np.float64]
    hub_y: NDArray[np.float64]
    distance: NDArray[np.float64]
    hub: NDArray[np.intp]

    def coords(self) -> set[tuple[float, float]]:
        """The hub positions these distances were computed for, as (x, y) pairs."""
        return set(zip(self.hub_x.tolist(), self.hub_y.tolist()))


#: Nearest hubs by demand cells (their input key) and hub positions. Keyed by content, never
#: by ``id()``: an object freed by one cache cannot hand its distances to another.
_NEAREST: dict[tuple[Any, ...], Nearest] = {}
#: Up to this many hubs added, moved or removed: update the previous answer, not recompute.
INCREMENTAL_LIMIT = 32


def nearest_straight(demand: Demand, xs: NDArray[np.float64], ys: NDArray[np.float64]
                     ) -> Nearest:
    """Nearest hub of every demand cell, cached; after a few hubs changed it is updated
    incrementally (only cells the changed hubs can affect are looked at)."""
    digest = hashlib.sha256(np.asarray(xs, dtype=float).tobytes()
                            + np.asarray(ys, dtype=float).tobytes()).hexdigest()
    key = (demand.key or id(demand), len(demand), digest)
    found = _NEAREST.get(key)
    if found is not None:
        return found
    previous = [n for k, n in _NEAREST.items() if k[:2] == key[:2]]
    result = None
    wanted = set(zip(np.asarray(xs, dtype=float).tolist(), np.asarray(ys, dtype=float).tolist()))
    for old in reversed(previous):
        have = old.coords()
        if len(have ^ wanted) <= INCREMENTAL_LIMIT and len(wanted) == len(xs):
            result = _update(demand, old, xs, ys)
            break
    if result is None:
        result = _full(demand, xs, ys)
    if len(_NEAREST) > 32:
        _NEAREST.pop(next(iter(_NEAREST)))
    _NEAREST[key] = result
    return result


def _query(demand: Demand, rows: NDArray[np.intp] | None, xs: NDArray[np.float64],
           ys: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Distance to and index of the nearest of the points (xs, ys) for each cell of ``rows``
    (all cells when None), through an R-tree of the points."""
    tree = shapely.STRtree(np.asarray(shapely.points(xs, ys)))
    cells = demand.points() if rows is None else demand.points()[rows]
    (src, hub), dist = tree.query_nearest(cells, return_distance=True, all_matches=False)
    distance = np.full(len(cells), np.inf)
    nearest = np.full(len(cells), -1, dtype=np.intp)
    distance[src] = dist
    nearest[src] = hub
    return distance, nearest


def _full(demand: Demand, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> Nearest:
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    distance, nearest = _query(demand, None, xs, ys)
    return Nearest(xs, ys, distance, nearest)


def _update(demand: Demand, old: Nearest, xs: NDArray[np.float64], ys: NDArray[np.float64]
            ) -> Nearest:
    """``old`` adjusted to the hubs at (xs, ys): cells whose nearest hub went away are looked
    up again among the remaining hubs; every cell is compared with the hubs that came."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    position = {xy: i for i, xy in enumerate(zip(xs.tolist(), ys.tolist()))}
    old_to_new = np.array([position.get(xy, -1) for xy in
                           zip(old.hub_x.tolist(), old.hub_y.tolist())], dtype=np.intp)
    have = old.coords()
    added = [i for i, xy in enumerate(zip(xs.tolist(), ys.tolist())) if xy not in have]
    hub = np.where(old.hub >= 0, old_to_new[np.maximum(old.hub, 0)], -1)
    distance = old.distance.copy()
    lost = (hub < 0) & (old.hub >= 0)
    if lost.any():
        kept = np.setdiff1d(np.arange(len(xs)), np.asarray(added, dtype=np.intp))
        distance[lost] = np.inf
        if len(kept):
            rows = np.flatnonzero(lost)
            dist, found = _query(demand, rows, xs[kept], ys[kept])
            distance[rows] = dist
            hub[rows] = np.where(found >= 0, kept[np.maximum(found, 0)], -1)
    for i in added:
        d = np.hypot(demand.x - xs[i], demand.y - ys[i])
        closer = d < distance
        distance[closer] = d[closer]
        hub[closer] = i
    return Nearest(xs, ys, distance, hub)


def responsible_codes(hubs: HubSet) -> set[str]:
    """Area codes that the hubs name as their responsibility (担当区域)."""
    if "responsible" not in hubs.frame.columns:
        return set()
    codes: set[str] = set()
    for value in hubs.frame["responsible"].dropna():
        codes.update(split_codes(value))
    return codes


def hubs_inside(hubs: HubSet, layer: str) -> pd.Series:
    """Number of hubs standing in each area code of ``layer``."""
    column = area_column(layer)
    if len(hubs) == 0 or column not in hubs.frame.columns:
        return pd.Series(dtype=int)
    return hubs.frame[column].dropna().value_counts()
