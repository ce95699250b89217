"""What a hub list holds, read as ``import hubs`` will read it: the points (from a point file,
or a table's coordinate columns as the import finds them), the name and type columns, and the
share of hubs inside each layer's areas.

A list without a type column (the GSI shelters: 施設・場所名 only) gets a suggested
``type_map`` from the catalogue's labels found in the names (公民館, 集会所 …): rows whose
name holds none are left out by the import, with a warning naming them.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from kenmap.errors import KenmapError
from kenmap.geo.table_io import decode_text, read_table
from kenmap.geo.vector_io import ROW, VECTOR_SUFFIXES, read_vector
from kenmap.hubs.imports import NAME_FIELDS, _read_points, coordinate_columns
from kenmap.layers.hierarchy import filled_layers
from kenmap.layers.inspect import Detected, Fit, describe, guess_field
from kenmap.layers.locate import area_column, locate, located_layers
from kenmap.model.catalogue import Catalogue, catalogue_of
from kenmap.workspace import Workspace

#: Column names that hold a hub's type.
TYPE_FIELDS = ("type", "種別", "種類", "拠点種別", "拠点の種類", "施設種別")


def _norm(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip()


def type_rules(catalogue: Catalogue, values: pd.Series, *, contains: bool
               ) -> tuple[list[dict[str, str]], dict[str, int]]:
    """``type_map`` rules mapping the values to hub types: each value that is a type's key or
    label (``contains``: each label found inside the values), with how many rows each
    rule takes."""
    text = values.dropna().astype(str).map(_norm)
    rules: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    if contains:
        for hub_type in catalogue.types.values():
            label = _norm(hub_type.label)
            hits = int(text.str.contains(label, regex=False).sum())
            if hits:
                rules.append({"value": label, "type": hub_type.key, "match": "contains"})
                counts[label] = hits
        return rules, counts
    for value, hits in text.value_counts().items():
        try:
            key = catalogue.key_of(str(value), option="type_field")
        except KenmapError:
            continue
        rules.append({"value": str(value), "type": key, "match": "exact"})
        counts[str(value)] = int(hits)
    return rules, counts


def _type_options(catalogue: Catalogue, frame: pd.DataFrame, columns: list[str],
                  name: str | None, notes: list[str]) -> dict[str, Any]:
    """type_field (and type_map when the values are labels or names) for the import."""
    field = guess_field(columns, TYPE_FIELDS)
    if field is not None:
        values = frame[field].dropna().astype(str).str.strip()
        if values.isin(set(catalogue.types)).all():
            return {"type_field": field}
        rules, counts = type_rules(catalogue, values, contains=False)
        if rules:
            notes.append(f"列「{field}」の値を拠点の種類に対応させます: "
                         + ", ".join(f"{v} {n}件" for v, n in counts.items()))
            return {"type_field": field, "type_map": rules}
        notes.append(f"列「{field}」の値が登録済みの拠点の種類に一致しません: type_map で"
                     "対応を指定してください")
        return {"type_field": field}
    if name is not None:
        rules, counts = type_rules(catalogue, frame[name], contains=True)
        if rules:
            left = len(frame) - sum(counts.values())
            notes.append("種類の列がないため、名称に含まれる語で種類を決めます: "
                         + ", ".join(f"{v} {n}件" for v, n in counts.items())
                         + (f"。どれも含まない{left}行は取り込みません" if left > 0 else ""))
            return {"type_field": name, "type_map": rules}
    notes.append("種類の列がありません: すべての行の種類（type）を選んでください")
    return {}


def hub_fits(ws: Workspace, points: gpd.GeoDataFrame | None) -> list[Fit]:
    """The share of hubs inside each layer's areas, best first."""
    if points is None or ws.crs_epsg is None or not filled_layers(ws):
        return []
    located = locate(ws, points.to_crs(ws.crs_epsg).geometry)
    fits = []
    for layer in located_layers(ws):
        inside = int(located[area_column(layer)].notna().sum())
        label = ws.scheme.layer(layer).label
        share = inside / len(points) if len(points) else 0.0
        fits.append(Fit(layer, label, round(share, 4),
                        f"{len(points)}件のうち{inside}件が{label}の区域の中"))
    return sorted(fits, key=lambda f: -f.matched)


def inspect_hubs(ws: Workspace, path: str | Path, *, encoding: str | None = None,
                 crs: str | None = None) -> Detected:
    """What ``import hubs`` will read from a hub list, the options to give it and the share of
    hubs inside each layer."""
    path = Path(path)
    notes: list[str] = []
    suggested: dict[str, Any] = {}
    suffix = path.suffix.lower()
    if suffix in VECTOR_SUFFIXES or suffix == ".zip":
        sources = read_vector(path, encoding=encoding, crs=crs, require_crs=False)
        frame = pd.concat([pd.DataFrame(s.frame) for s in sources], ignore_index=True)
        used, detected, epsg = sources[0].encoding, sources[0].encoding_detected, \
            sources[0].source_epsg
        notes.extend(n for s in sources for n in s.notes)
        crs_note = "点のファイルの座標系" + (f": EPSG:{epsg}" if epsg else
                                       "がありません。crs を指定してください")
    else:
        frame = read_table(path, encoding=encoding)
        frame[ROW] = range(2, len(frame) + 2)
        used, detected = None, False  # an Excel book has no encoding to choose
        if suffix not in (".xlsx", ".xlsm"):
            used = decode_text(path.read_bytes(), encoding, path)[1]
            used, detected = ("utf-8" if used == "utf-8-sig" else used), encoding is None
        epsg = None
        found = coordinate_columns(frame.columns)
        if found:
            suggested.update({"lon_field": found[0], "lat_field": found[1]})
            crs_note = (f"座標の列 {found[0]}, {found[1]} を経度・緯度（JGD2011, EPSG:6668）として"
                        "読みます。平面直角座標なら x_field, y_field と crs を指定してください")
            epsg = int(crs) if crs and str(crs).isdigit() else 6668
        else:
            crs_note = ("座標の列（lon/lat, 経度/緯度, x/y）が見つかりません: 列を選ぶか、拠点を"
                        "区域に置くための区域の列を用意してください")
    fields, rows = describe(frame)
    columns = [f.name for f in fields]
    name = next((c for c in NAME_FIELDS if c in columns), None)
    if name:
        suggested["name_field"] = name
    else:
        notes.append("名前の列が見つかりません: name_field を選んでください")
    suggested.update(_type_options(catalogue_of(ws.get("hub_types")), frame, columns, name,
                                   notes))
    points = None
    try:
        points = _read_points(path, encoding=encoding, lon_field=suggested.get("lon_field"),
                              lat_field=suggested.get("lat_field"), x_field=None,
                              y_field=None, crs=crs)
    except KenmapError as exc:
        notes.append(f"点として読めません: {exc.message}")
    if ws.crs_epsg is None:
        notes.append("ワークスペースにまだ区域がありません: 拠点の前に区域を取り込んでください")
    fits = hub_fits(ws, points)
    return Detected(used, detected, epsg, crs_note, len(frame), fields, rows, suggested, fits,
                    notes)
