"""The hubs table: what is stored for each hub, and reading it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kenmap.workspace import Workspace

if TYPE_CHECKING:
    import geopandas as gpd

HUBS = "hubs"
STATUSES = ("existing", "planned", "candidate")
EDITABLE = ("type", "name", "status", "address", "schedule", "host", "operator", "responsible")


def read_hubs(ws: Workspace) -> gpd.GeoDataFrame:
    """The workspace's hubs (an empty frame when there are none)."""
    import geopandas as gpd

    if HUBS not in ws.tables():
        return gpd.GeoDataFrame({"id": pd.Series(dtype="int64"), "type": pd.Series(dtype=object),
                                 "name": pd.Series(dtype=object),
                                 "status": pd.Series(dtype=object)},
                                geometry=gpd.GeoSeries([], crs=ws.crs_epsg))
    return ws.read_table(HUBS)


def hub_record(row: pd.Series, crs: int | None) -> dict[str, Any]:
    """A hub as JSON: its fields, lon/lat and area codes."""
    from kenmap.geo.crs import transformer

    lon, lat = transformer(int(crs), 4326).transform(row.geometry.x, row.geometry.y) \
        if crs is not None else (row.geometry.x, row.geometry.y)
    out: dict[str, Any] = {"id": int(row["id"]), "version": int(row["version"]),
                           "lon": round(lon, 7), "lat": round(lat, 7)}
    for key in EDITABLE:
        value = row.get(key)
        out[key] = None if value is None or (isinstance(value, float) and np.isnan(value)) \
            else str(value)
    out["areas"] = {k.removeprefix("area_"): (None if pd.isna(v) else str(v))
                    for k, v in row.items() if str(k).startswith("area_")}
    return out
