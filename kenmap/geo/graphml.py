"""OSMnx graphs saved as GraphML (``ox.save_graphml``), read with networkx.

Nodes carry ``x``/``y`` (in the graph's ``crs``, longitude/latitude unless projected) and
perhaps ``elevation``; edges ``length``, ``highway`` and a WKT ``geometry`` when OSMnx
simplified them (a straight line between the nodes otherwise).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from kenmap.errors import KenmapError
from kenmap.optional import need


def read_graphml(path: Path) -> tuple[pd.DataFrame, str | None]:
    """Edges of an OSMnx GraphML as lines (``u``, ``v``, ``highway``, ``foot``, ``access``,
    ``geometry`` with Z from the nodes' ``elevation`` when every node has one) and the graph's
    CRS text (None when it names none)."""
    nx = need("networkx", "network", "GraphML（OSMnx）の読み込み")
    try:
        graph = nx.read_graphml(path)
    except Exception as exc:
        raise KenmapError(f"GraphML として読めません（{str(exc)[:120]}）", file=path) from exc
    crs = graph.graph.get("crs")
    nodes: dict[Any, tuple[float, float, float]] = {}
    for node, data in graph.nodes(data=True):
        try:
            nodes[node] = (float(data["x"]), float(data["y"]),
                           float(data.get("elevation", "nan")))
        except (KeyError, ValueError) as exc:
            raise KenmapError(f"ノード {node} に x, y の座標がありません（OSMnx の GraphML で"
                              "はないようです）", file=path, field="x") from exc
    with_z = bool(nodes) and all(np.isfinite(z) for _, _, z in nodes.values())
    rows: dict[str, list[Any]] = {"u": [], "v": [], "highway": [], "foot": [], "access": [],
                                  "geometry": []}
    for u, v, data in graph.edges(data=True):
        ux, uy, uz = nodes[u]
        vx, vy, vz = nodes[v]
        line = None
        if data.get("geometry"):
            try:
                line = shapely.from_wkt(str(data["geometry"]))
            except shapely.errors.ShapelyError:
                line = None
        if line is None or line.geom_type != "LineString":
            line = shapely.LineString([(ux, uy), (vx, vy)])
        if with_z:  # the ends' elevations, in between by distance along the line
            coords = shapely.get_coordinates(line)
            along = np.r_[0, np.cumsum(np.hypot(*np.diff(coords, axis=0).T))]
            share = along / along[-1] if along[-1] > 0 else np.zeros(len(along))
            line = shapely.LineString(np.c_[coords, uz + (vz - uz) * share])
        rows["u"].append(u)
        rows["v"].append(v)
        rows["geometry"].append(line)
        for key in ("highway", "foot", "access"):
            rows[key].append(data.get(key))
    return pd.DataFrame(rows), (str(crs) if crs else None)
