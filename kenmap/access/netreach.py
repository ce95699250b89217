"""Reach along the walking network: every demand cell's walk to its nearest hub at once.

A cell walks straight from its centre to the nearest point of the network, along the network,
and straight from the network to the hub — home to hub, so on a slope the walk up to a hub on
a hill takes longer than the walk down from it. In metres the walk is the length; in minutes
each segment's time follows Tobler's hiking function scaled to ``speed`` m/s on the flat
(the access legs are flat). One multi-source search (scipy's csgraph) serves every hub.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from kenmap.access.demand import Demand
from kenmap.access.reach import HubSet
from kenmap.errors import KenmapError
from kenmap.geo.network import (
    Costs,
    Network,
    Snap,
    nearest_and_which,
    snap,
    tobler_factor,
    within,
)
from kenmap.model import settings
from kenmap.network.store import NETWORK, read_network
from kenmap.workspace import Workspace

DEFAULT_SPEED = settings.WALK_SPEED_MS


@dataclass(frozen=True)
class Walking:
    """How reach is measured along the network: metres, or ``minutes`` at ``speed`` m/s on
    the flat (slower uphill by Tobler's function when the network has elevations)."""

    minutes: bool = False
    speed: float = DEFAULT_SPEED

    def __post_init__(self) -> None:
        if not 0.1 <= self.speed <= 3.0:
            raise KenmapError("--speed は 0.1～3.0 m/秒にしてください（高齢者の平地の歩行は"
                              "およそ 1.0 m/秒）", field="--speed")

    @property
    def unit(self) -> str:
        return "分" if self.minutes else "m"

    def costs(self) -> Costs:
        """Flat-equivalent metres → this measure's unit."""
        return Costs(hilly=self.minutes, per_metre=1 / (60 * self.speed) if self.minutes
                     else 1.0)

    def describe(self, net: Network) -> str:
        if not self.minutes:
            return "道路に沿った距離"
        slope = "坂はトブラーの式で補正" if net.has_terrain else "標高がないため平地として"
        return f"道路に沿った徒歩時間、平地で秒速 {self.speed:g} m、{slope}"


@dataclass
class NetworkReach:
    """The network of a workspace, ready to measure walks from demand cells."""

    network: Network
    walking: Walking
    key: tuple[Any, ...]

    def cells(self, demand: Demand) -> Snap:
        """The demand cells placed on the network (made once per set of cells)."""
        cache_key = (self.key, demand.key or id(demand))
        found = _SNAPS.get(cache_key)
        if found is None:
            found = snap(self.network, demand.x, demand.y)
            if len(_SNAPS) >= 8:
                _SNAPS.pop(next(iter(_SNAPS)))
            _SNAPS[cache_key] = found
        return found

    def nearest(self, demand: Demand, hubs: HubSet) -> tuple[NDArray[np.float64],
                                                              NDArray[np.int64]]:
        """Each cell's walk to the nearest hub (metres or minutes; inf when none can be
        reached) and which hub (-1: none)."""
        exact = np.isfinite(hubs.x) & np.isfinite(hubs.y)
        if not exact.any():
            return np.full(len(demand), np.inf), np.full(len(demand), -1, dtype=np.int64)
        digest = hashlib.sha256(hubs.x[exact].tobytes() + hubs.y[exact].tobytes()).hexdigest()
        cache_key = (self.key, self.walking, demand.key or id(demand), digest)
        found = _NEAREST.get(cache_key)
        if found is None:
            where = snap(self.network, hubs.x[exact], hubs.y[exact])
            dist, which = nearest_and_which(self.network, where, self.cells(demand),
                                            self.walking.costs())
            index = np.flatnonzero(exact)
            found = (dist, np.where(which >= 0, index[np.maximum(which, 0)], -1))
            if len(_NEAREST) >= 32:
                _NEAREST.pop(next(iter(_NEAREST)))
            _NEAREST[cache_key] = found
        return found

    def in_metres(self) -> NetworkReach:
        """The same network measuring metres."""
        return NetworkReach(self.network, Walking(minutes=False, speed=self.walking.speed),
                            self.key)

    def walk(self, demand: Demand, hubs: HubSet) -> NDArray[np.float64]:
        return self.nearest(demand, hubs)[0]

    def reached_from(self, x: NDArray[np.float64], y: NDArray[np.float64], demand: Demand,
                     rows: NDArray[np.intp], limit: float) -> sparse.csr_matrix:
        """Which of the demand cells ``rows`` a hub at each point (x, y) would reach within
        ``limit``: a sparse boolean matrix (points × rows), from one bounded search per point
        (siting's coverage)."""
        cells = self.cells(demand)
        targets = Snap(cells.edge[rows], cells.t[rows], cells.leg[rows])
        return within(self.network, snap(self.network, np.asarray(x, dtype=float),
                                         np.asarray(y, dtype=float)),
                      targets, self.walking.costs(), limit)


_SNAPS: dict[tuple[Any, ...], Snap] = {}
_NEAREST: dict[tuple[Any, ...], tuple[NDArray[np.float64], NDArray[np.int64]]] = {}


def straight_reach(radius: float, detour: float, network: NetworkReach | None) -> float:
    """The farthest a reach of ``radius`` can be in a straight line (metres): R ÷ detour, or
    along a network R metres, or R minutes at the fastest Tobler pace (a gentle descent)."""
    if network is None:
        return radius / detour
    if not network.walking.minutes:
        return radius
    fastest = float(tobler_factor(np.array([-0.05]))[0])
    return radius * 60 * network.walking.speed / fastest


def network_reach(ws: Workspace, walking: Walking | None = None) -> NetworkReach:
    """The workspace's network for measuring walks (refused when none was imported)."""
    net = read_network(ws)
    return NetworkReach(net, walking or Walking(), ws.state_of([NETWORK]))


def walk_minutes(ws: Workspace, layer: str, walking: Walking | None = None
                 ) -> dict[str, dict[str, float | None]]:
    """For every area of ``layer``: the walking minutes along the network to the nearest hub
    of each type that has hubs, averaged over its older residents (its cells' 65+; the
    residents where 65+ is unknown). Empty when the workspace has no network."""
    from kenmap.access.demand import demand_cells
    from kenmap.access.reach import hubs_of
    from kenmap.hubs.table import type_counts
    from kenmap.network.store import has_network

    if not has_network(ws):
        return {}
    reach = network_reach(ws, walking or Walking(minutes=True))
    demand = demand_cells(ws)
    if layer not in demand.codes:
        return {}
    from kenmap.hubs.table import HUBS

    memo = (reach.key, reach.walking, demand.key, ws.state_of([HUBS]), layer)
    if memo in _MINUTES:
        return _MINUTES[memo]
    weight = np.where(np.isnan(demand.pop65), np.nan_to_num(demand.total), demand.pop65)
    out: dict[str, dict[str, float | None]] = {}
    for hub_type in type_counts(ws):
        walk = reach.walk(demand, hubs_of(ws, hub_type))
        ok = np.isfinite(walk) & (weight > 0)
        total = demand.per_area(layer, np.where(ok, weight * walk, np.nan))
        people = demand.per_area(layer, np.where(ok, weight, np.nan))
        for code in total.index:
            value = total[code] / people[code] if people[code] > 0 else np.nan
            out.setdefault(str(code), {})[hub_type] = None if np.isnan(value) else \
                round(float(value), 1)
    if len(_MINUTES) >= 16:
        _MINUTES.pop(next(iter(_MINUTES)))
    _MINUTES[memo] = out
    return out


_MINUTES: dict[tuple[Any, ...], dict[str, dict[str, float | None]]] = {}
