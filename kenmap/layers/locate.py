"""Points in areas: which area of every layer holds each point.

Point tables of the workspace (hubs, and any other located points) carry one ``area_{layer}``
column per layer; when areas change they are located again here, so the area hierarchy never
needs to know what the points are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from kenmap.layers.hierarchy import filled_layers, overlay_layers
from kenmap.workspace import Workspace

if TYPE_CHECKING:
    import geopandas as gpd


def area_column(layer: str) -> str:
    """The point-table column holding the code of the ``layer`` area each point is in."""
    return f"area_{layer}"


#: Up to this many points are located through the spatial index instead of whole layers.
FEW_POINTS = 8


def located_layers(ws: Workspace) -> list[str]:
    """The layers points are located on: every nested layer that has areas, then the overlays
    (a hub stands in one 包括 area as it stands in one 地区)."""
    return [*filled_layers(ws), *overlay_layers(ws)]


def locate_point(ws: Workspace, x: float, y: float) -> dict[str, str | None]:
    """The code of the area holding the point (x, y) in the workspace CRS, on every layer that
    has areas, keyed by :func:`area_column` (None outside the layer's areas), read through
    the GeoPackage's spatial index."""
    keys = located_layers(ws)
    found = ws.areas_holding(keys, x, y)
    return {area_column(key): found[key] for key in keys}


def locate(ws: Workspace, points: gpd.GeoSeries) -> pd.DataFrame:
    """The code of the area holding each point, on every layer that has areas.

    A few points (one hub edit) read only the areas near them through the GeoPackage's
    spatial index, so an edit costs the same on a city and on a whole country.
    """
    out = pd.DataFrame(index=points.index)
    geoms = points.to_numpy()
    if 0 < len(geoms) <= FEW_POINTS and shapely.get_type_id(geoms).tolist() == \
            [0] * len(geoms):
        found = [locate_point(ws, float(g.x), float(g.y)) for g in geoms]
        for key in located_layers(ws):
            out[area_column(key)] = [f[area_column(key)] for f in found]
        return out
    for key in located_layers(ws):
        areas = ws.read_layer(key)
        tree = shapely.STRtree(areas.geometry.to_numpy())
        pt, area = tree.query(geoms, predicate="intersects")
        codes = np.full(len(geoms), None, dtype=object)
        order = np.argsort(pt, kind="stable")
        pt, area = pt[order], area[order]
        first = np.unique(pt, return_index=True)[1]  # a point on a shared edge takes one area
        codes[pt[first]] = areas["code"].to_numpy()[area[first]]
        out[area_column(key)] = codes
    return out


def located_share(ws: Workspace, points: gpd.GeoSeries) -> float:
    """Share of points that fall in some area of the top layer."""
    located = locate(ws, points)
    return float(located.iloc[:, 0].notna().mean()) if len(located.columns) else 0.0


def relocate_points(ws: Workspace) -> None:
    """Recompute the area codes of every point table after areas changed. Call inside a
    transaction."""
    for table in ws.point_tables():
        points = ws.read_table(table)
        if len(points) == 0 or not any(str(c).startswith("area_") for c in points.columns):
            continue
        stale = [c for c in points.columns if str(c).startswith("area_")]
        points = points.drop(columns=stale)
        located = locate(ws, points.geometry)
        import geopandas as gpd

        ws.write_table(table, gpd.GeoDataFrame(pd.concat([points, located], axis=1),
                                               geometry="geometry", crs=points.crs))
