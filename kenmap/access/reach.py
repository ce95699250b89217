"""Reach of hubs: membership (the plans' count) and walking distance over demand cells."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from kenmap.access.demand import Demand
from kenmap.errors import KenmapError
from kenmap.hubs.table import read_hubs
from kenmap.layers.locate import area_column
from kenmap.model.catalogue import catalogue_of
from kenmap.workspace import Workspace

DEFAULT_DETOUR = 1.3


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
    hubs = read_hubs(ws)
    statuses = ["existing", "planned"] if with_planned else ["existing"]
    chosen = hubs[(hubs["type"] == hub_type) & hubs["status"].isin(statuses)] if len(hubs) \
        else hubs
    xs = chosen.geometry.x.to_numpy() if len(chosen) else np.array([])
    ys = chosen.geometry.y.to_numpy() if len(chosen) else np.array([])
    frame = pd.DataFrame(chosen.drop(columns="geometry")) if len(chosen) else pd.DataFrame()
    if extra is not None and len(extra):
        xs = np.concatenate([xs, extra["x"].to_numpy(dtype=float)])
        ys = np.concatenate([ys, extra["y"].to_numpy(dtype=float)])
        frame = pd.concat([frame, extra.drop(columns=["x", "y"])], ignore_index=True)
    return HubSet(hub_type, frame.reset_index(drop=True), xs, ys)


def nearest_walk(demand: Demand, hubs: HubSet, detour: float) -> NDArray[np.float64]:
    """Walking distance (straight line × detour) from each demand cell to its nearest hub."""
    if detour < 1:
        raise KenmapError("--detour must be at least 1 (walking is never shorter than a "
                          "straight line)", field="--detour")
    if len(hubs) == 0:
        return np.full(len(demand), np.inf)
    key = (id(demand), hubs.x.tobytes(), hubs.y.tobytes())
    straight = _NEAREST.get(key)
    if straight is None:
        tree = shapely.STRtree(np.asarray(shapely.points(hubs.x, hubs.y)))
        (src, _), dist = tree.query_nearest(demand.points(), return_distance=True,
                                            all_matches=False)
        straight = np.full(len(demand), np.inf)
        straight[src] = dist
        if len(_NEAREST) > 32:
            _NEAREST.clear()
        _NEAREST[key] = straight
    return straight * detour


#: Nearest-hub distances by demand model and hub set: one query serves every layer.
_NEAREST: dict[tuple[int, bytes, bytes], NDArray[np.float64]] = {}


def responsible_codes(hubs: HubSet) -> set[str]:
    """Area codes that the hubs name as their responsibility (担当区域)."""
    if "responsible" not in hubs.frame.columns:
        return set()
    codes: set[str] = set()
    for value in hubs.frame["responsible"].dropna():
        codes |= {c.strip() for c in re.split(r"[;,、\s]+", str(value)) if c.strip()}
    return codes


def hubs_inside(hubs: HubSet, layer: str) -> pd.Series:
    """Number of hubs standing in each area code of ``layer``."""
    column = area_column(layer)
    if len(hubs) == 0 or column not in hubs.frame.columns:
        return pd.Series(dtype=int)
    return hubs.frame[column].dropna().value_counts()
