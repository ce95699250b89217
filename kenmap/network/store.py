"""The walking network's table in the workspace: one line per undirected edge (from its ``u``
node to its ``v`` node) with its length, its two walking costs and its ends' elevations, in
the workspace's plane CRS, so a GIS officer can open it in QGIS beside the areas."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from kenmap.errors import KenmapError
from kenmap.geo.network import Network
from kenmap.workspace import Workspace

NETWORK = "network"
#: The workspace's facts about its network (source, counts, terrain).
NETWORK_INFO = "network"

_CACHE: dict[tuple[Any, ...], Network] = {}


def write_network(ws: Workspace, net: Network) -> None:
    """Replace the workspace's network. Call inside a transaction."""
    import geopandas as gpd

    frame = gpd.GeoDataFrame({
        "u": net.u, "v": net.v, "length": net.length, "cost_uv": net.cost_uv,
        "cost_vu": net.cost_vu,
        "highway": [None if h is None else str(h) for h in net.highway]
        if len(net.highway) == net.n_edges else [None] * net.n_edges,
        "z_u": net.z[net.u], "z_v": net.z[net.v]},
        geometry=shapely.force_2d(net.geometry), crs=ws.crs_epsg)
    ws.write_table(NETWORK, frame)


def has_network(ws: Workspace) -> bool:
    return NETWORK in ws.tables()


def read_network(ws: Workspace) -> Network:
    """The workspace's network (cached by its version); refused when none was imported."""
    if not has_network(ws):
        raise KenmapError("道路網がありません。先に 'kenmap import network' で取り込んでください",
                          field="--network")
    key = ws.state_of([NETWORK])
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    frame = ws.read_table(NETWORK)
    u = frame["u"].to_numpy(dtype=np.int64)
    v = frame["v"].to_numpy(dtype=np.int64)
    lines = frame.geometry.to_numpy()
    n = int(max(u.max(), v.max())) + 1 if len(u) else 0
    x, y, z = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    start, end = shapely.get_point(lines, 0), shapely.get_point(lines, -1)
    x[v], y[v] = shapely.get_x(end), shapely.get_y(end)
    x[u], y[u] = shapely.get_x(start), shapely.get_y(start)
    z[v] = frame["z_v"].to_numpy(dtype=float)
    z[u] = frame["z_u"].to_numpy(dtype=float)
    net = Network(x, y, z, u, v, frame["length"].to_numpy(dtype=float), lines,
                  frame["cost_uv"].to_numpy(dtype=float), frame["cost_vu"].to_numpy(dtype=float),
                  frame["highway"].to_numpy(dtype=object))
    if len(_CACHE) >= 4:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = net
    return net
