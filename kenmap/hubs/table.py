"""The hubs table: what is stored for each hub, and reading it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kenmap.model.catalogue import catalogue_of
from kenmap.workspace import Workspace

if TYPE_CHECKING:
    import geopandas as gpd

HUBS = "hubs"
STATUSES = ("existing", "planned", "candidate")
EDITABLE = ("type", "name", "status", "address", "schedule", "host", "operator", "responsible",
            "opened", "closed")


def open_on(points: pd.DataFrame, ws: Workspace) -> pd.Series:
    """Whether each hub is open on the date the workspace is read at (a view's date, else
    today): opened on or before it (or no date known) and not closed by then."""
    from datetime import date

    when = str(ws.get("viewed_as_of") or date.today().isoformat())
    ok = np.ones(len(points), dtype=bool)
    for column, still in (("opened", lambda d: d <= when), ("closed", lambda d: d > when)):
        if column in points.columns:
            ok &= np.array([not (isinstance(d, str) and d) or still(d)
                            for d in points[column].tolist()], dtype=bool)
    return pd.Series(ok, index=points.index)


def counting(points: pd.DataFrame, ws: Workspace, statuses: tuple[str, ...] = ("existing",)
             ) -> pd.DataFrame:
    """The hubs that count: of these statuses and open on the workspace's date."""
    if len(points) == 0:
        return points
    return points[points["status"].isin(statuses) & open_on(points, ws)]


def read_hubs(ws: Workspace) -> gpd.GeoDataFrame:
    """The workspace's hubs (an empty frame when there are none)."""
    import geopandas as gpd

    if HUBS not in ws.tables():
        return gpd.GeoDataFrame({"id": pd.Series(dtype="int64"), "type": pd.Series(dtype=object),
                                 "name": pd.Series(dtype=object),
                                 "status": pd.Series(dtype=object)},
                                geometry=gpd.GeoSeries([], crs=ws.crs_epsg))
    return ws.read_table(HUBS)


def type_counts(ws: Workspace) -> dict[str, int]:
    """Existing hubs per type (every status counted when none is ``existing``), most first."""
    if HUBS not in ws.tables():
        return {}
    points = ws.read_points(HUBS)
    if len(points) == 0:
        return {}
    existing = counting(points, ws)
    counts = (existing if len(existing) else points)["type"].value_counts()
    return {str(k): int(n) for k, n in counts.items()}


def split_codes(value: object) -> list[str]:
    """Area codes in a ``responsible`` field (担当区域: separated by commas, 、, ; or spaces)."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    return [c.strip() for c in re.split(r"[;,、\s]+", str(value)) if c.strip()]


def responsible_types(ws: Workspace, layer: str) -> list[str]:
    """Hub types whose hubs name areas of ``layer`` as their responsibility, most areas
    first (the 地域包括支援センター of a 包括 service-area layer)."""
    if HUBS not in ws.tables():
        return []
    hubs = ws.read_points(HUBS)
    if "responsible" not in hubs.columns or len(hubs) == 0:
        return []
    codes = set(ws.read_attributes(layer)["code"].astype(str))
    named: dict[str, set[str]] = {}
    for hub_type, value in zip(hubs["type"], hubs["responsible"]):
        mine = codes.intersection(split_codes(value))
        if mine:
            named.setdefault(str(hub_type), set()).update(mine)
    return sorted(named, key=lambda k: (-len(named[k]), k))


def layer_hub_type(ws: Workspace, layer: str) -> str:
    """The hub type whose gaps a layer's map and index show.

    The type the catalogue expects on ``layer`` (サロン on 行政区, 包括 on 旧市町 …) when the
    workspace holds hubs of it; otherwise the type present in the largest number (a layer is
    never measured against a type of which there is not a single hub while others were
    imported). With no hubs at all, the expected type, else サロン.
    """
    catalogue = catalogue_of(ws.get("hub_types"))
    preset = ws.get("scheme_preset")
    expected = [key for key, hub_type in catalogue.types.items()
                if hub_type.expected_layer(ws.scheme.keys, preset) == layer]
    if layer in ws.scheme.overlays:  # a service area: the type whose hubs are responsible
        expected = responsible_types(ws, layer)
    present = {k: n for k, n in type_counts(ws).items() if k in catalogue.types}
    for key in expected:
        if present.get(key):
            return key
    if present:
        order = list(catalogue.types)
        return min(present, key=lambda k: (-present[k], order.index(k)))
    if expected:
        return expected[0]
    return "salon" if "salon" in catalogue.types else next(iter(catalogue.types))


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


def hub_features(points: pd.DataFrame, crs: int | None) -> list[dict[str, Any]]:
    """Hubs (as read by :meth:`Workspace.read_points`) as GeoJSON point features whose
    properties are :func:`hub_record`'s, built column by column."""
    if len(points) == 0:
        return []
    from kenmap.geo.crs import transformer

    xs, ys = points["x"].to_numpy(dtype=float), points["y"].to_numpy(dtype=float)
    lon, lat = transformer(int(crs), 4326).transform(xs, ys) if crs is not None else (xs, ys)
    lon, lat = np.round(lon, 7), np.round(lat, 7)
    def texts(column: str) -> list[str | None]:
        if column not in points.columns:
            return [None] * len(points)
        return [None if pd.isna(v) else str(v) for v in points[column].tolist()]

    text = {key: texts(key) for key in EDITABLE}
    area_cols = [c for c in points.columns if str(c).startswith("area_")]
    areas = {c: texts(c) for c in area_cols}
    ids = points["id"].astype(int).tolist()
    versions = points["version"].astype(int).tolist()
    features = []
    for i in range(len(points)):
        rec: dict[str, Any] = {"id": ids[i], "version": versions[i], "lon": float(lon[i]),
                               "lat": float(lat[i])}
        for key in EDITABLE:
            rec[key] = text[key][i]
        rec["areas"] = {c.removeprefix("area_"): areas[c][i] for c in area_cols}
        features.append({"type": "Feature", "id": rec["id"], "properties": rec,
                         "geometry": {"type": "Point", "coordinates": [rec["lon"], rec["lat"]]}})
    return features
