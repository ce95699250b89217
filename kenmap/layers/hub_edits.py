"""Editing single hubs (add, change, move, delete) with optimistic versioning.

Each hub carries a ``version``; a change names the version it was based on, and a change based
on an old version is refused, so two planners editing at once never overwrite each other.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kenmap.errors import KenmapError
from kenmap.layers.catalogue import catalogue_of
from kenmap.layers.hubs import HUBS, STATUSES, locate, read_hubs
from kenmap.workspace import Workspace

EDITABLE = ("type", "name", "status", "address", "schedule", "host", "operator", "responsible")


class VersionConflict(KenmapError):
    """The hub changed since the version the edit was based on."""


class NotFound(KenmapError):
    """No such hub."""


def hub_record(row: pd.Series, crs: int | None) -> dict[str, Any]:
    """A hub as JSON: its fields, lon/lat and area codes."""
    point = gpd.GeoSeries([row.geometry], crs=crs).to_crs(4326).iloc[0]
    out: dict[str, Any] = {"id": int(row["id"]), "version": int(row["version"]),
                           "lon": round(point.x, 7), "lat": round(point.y, 7)}
    for key in EDITABLE:
        value = row.get(key)
        out[key] = None if value is None or (isinstance(value, float) and np.isnan(value)) \
            else str(value)
    out["areas"] = {k.removeprefix("area_"): (None if pd.isna(v) else str(v))
                    for k, v in row.items() if str(k).startswith("area_")}
    return out


def _check(ws: Workspace, values: dict[str, Any]) -> None:
    catalogue = catalogue_of(ws.get("hub_types"))
    if "type" in values:
        catalogue.get(str(values["type"]))
    if "status" in values and values["status"] not in STATUSES:
        raise KenmapError(f"status must be one of {', '.join(STATUSES)}", field="status")
    if "name" in values and not str(values["name"] or "").strip():
        raise KenmapError("a hub needs a name", field="name")


def _point(ws: Workspace, lon: float, lat: float) -> shapely.Point:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise KenmapError(f"({lon}, {lat}) is not a longitude/latitude", field="lon")
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326).to_crs(ws.crs_epsg).iloc[0]
    located = locate(ws, gpd.GeoSeries([point], crs=ws.crs_epsg))
    if located.iloc[0].isna().all():
        raise KenmapError(f"({lon}, {lat}) is outside the city (longitude and latitude "
                          "swapped?)", field="lon")
    return point


def _write(tx: Workspace, hubs: gpd.GeoDataFrame) -> None:
    stale = [c for c in hubs.columns if c.startswith("area_")]
    hubs = hubs.drop(columns=stale)
    located = locate(tx, hubs.geometry)
    tx.write_table(HUBS, gpd.GeoDataFrame(pd.concat([hubs.reset_index(drop=True),
                                                     located.reset_index(drop=True)], axis=1),
                                          geometry="geometry", crs=hubs.crs))


def add_hub(ws: Workspace, values: dict[str, Any], point: shapely.Point | None = None
            ) -> dict[str, Any]:
    """Add one hub (``type``, ``name``, ``lon``, ``lat`` and optional fields).

    ``point`` (in the workspace CRS) overrides lon/lat when the exact position is known.
    """
    if ws.crs_epsg is None:
        raise KenmapError("import areas before adding hubs")
    for key in ("type", "name", "lon", "lat"):
        if values.get(key) is None:
            raise KenmapError("required", field=key)
    values = {**values, "status": values.get("status") or "existing"}
    _check(ws, values)
    with ws.transaction() as tx:
        if point is None:
            point = _point(tx, float(values["lon"]), float(values["lat"]))
        hubs = read_hubs(tx)
        new_id = int(hubs["id"].max()) + 1 if len(hubs) else 1
        row = {k: values.get(k) for k in EDITABLE}
        row.update({"id": new_id, "version": 1, "source": "api", "source_row": None})
        new = gpd.GeoDataFrame([row], geometry=[point], crs=tx.crs_epsg)
        combined = gpd.GeoDataFrame(pd.concat([hubs, new], ignore_index=True),
                                    geometry="geometry", crs=tx.crs_epsg)
        _write(tx, combined)
        tx.record("add hub", id=new_id)
        result = read_hubs(tx)
    return hub_record(result[result["id"] == new_id].iloc[0], result.crs.to_epsg())


def _locate_version(hubs: gpd.GeoDataFrame, hub_id: int, version: int | None) -> int:
    match = np.flatnonzero(hubs["id"].to_numpy() == hub_id) if len(hubs) else np.array([])
    if len(match) == 0:
        raise NotFound(f"no hub with id {hub_id}", field="id")
    i = int(match[0])
    current = int(hubs["version"].iloc[i])
    if version is None:
        raise KenmapError("give the version your change is based on", field="version")
    if version != current:
        raise VersionConflict(f"hub {hub_id} is at version {current}, your change was based on "
                              f"version {version}: reload it and try again", field="version")
    return i


def update_hub(ws: Workspace, hub_id: int, version: int | None, changes: dict[str, Any]
               ) -> dict[str, Any]:
    """Change fields of a hub, or move it (``lon``/``lat``), if ``version`` is current."""
    _check(ws, changes)
    with ws.transaction() as tx:
        hubs = read_hubs(tx)
        i = _locate_version(hubs, hub_id, version)
        for key in EDITABLE:
            if key in changes:
                hubs.loc[hubs.index[i], key] = changes[key]
        if "lon" in changes or "lat" in changes:
            old = gpd.GeoSeries([hubs.geometry.iloc[i]], crs=hubs.crs).to_crs(4326).iloc[0]
            lon = float(changes["lon"]) if changes.get("lon") is not None else old.x
            lat = float(changes["lat"]) if changes.get("lat") is not None else old.y
            geoms = hubs.geometry.to_numpy().copy()
            geoms[i] = _point(tx, lon, lat)
            hubs = hubs.set_geometry(geoms, crs=hubs.crs)
        hubs.loc[hubs.index[i], "version"] = int(hubs["version"].iloc[i]) + 1
        _write(tx, hubs)
        tx.record("update hub", id=hub_id)
        result = read_hubs(tx)
    return hub_record(result[result["id"] == hub_id].iloc[0], result.crs.to_epsg())


def delete_hub(ws: Workspace, hub_id: int, version: int | None) -> None:
    """Delete a hub if ``version`` is current."""
    with ws.transaction() as tx:
        hubs = read_hubs(tx)
        i = _locate_version(hubs, hub_id, version)
        _write(tx, hubs.drop(index=hubs.index[i]))
        tx.record("delete hub", id=hub_id)
