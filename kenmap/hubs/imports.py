"""Hubs: points with a type, status and schedule, located in their area on every layer."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kenmap.errors import KenmapError
from kenmap.geo.crs import parse_crs
from kenmap.geo.table_io import read_table
from kenmap.geo.vector_io import ROW, VECTOR_SUFFIXES, read_vector
from kenmap.hubs.table import HUBS, STATUSES, read_hubs
from kenmap.layers.hierarchy import filled_layers
from kenmap.layers.locate import area_column, locate, located_share
from kenmap.layers.names import normalise_name
from kenmap.model import settings
from kenmap.model.catalogue import catalogue_of
from kenmap.model.dates import parse_date
from kenmap.model.report import Report, listing
from kenmap.workspace import Workspace

#: Hubs of one type closer than this (m) are the same place.
DUPLICATE_M = settings.DUPLICATE_M
#: Optional hub fields and the column names offices use for them.
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "address": ("address", "住所", "所在地"),
    "schedule": ("schedule", "開催", "開催頻度", "開設", "頻度"),
    "host": ("host", "会場", "施設", "場所"),
    "operator": ("operator", "運営", "運営者", "運営主体", "実施主体"),
    "responsible": ("responsible", "担当区域", "担当", "担当地区"),
    "status": ("status", "状態", "区分"),
    "opened": ("opened", "開設日", "開設年月日", "開所日", "設置日", "開始日"),
    "closed": ("closed", "廃止日", "閉所日", "閉鎖日", "終了日"),
}
_STATUS_WORDS = {"既存": "existing", "開設済": "existing", "計画": "planned", "予定": "planned",
                 "候補": "candidate"}






def _schedule(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    return "常設" if text in ("常設", "permanent", "毎日") else text


def _date(value: object, file: str, row: int, field: str) -> str | None:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise KenmapError(str(exc), file=file, row=row, field=field) from None


def _status(value: object, default: str, file: str, row: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
        return default
    text = str(value).strip()
    text = _STATUS_WORDS.get(text, text.lower())
    if text not in STATUSES:
        raise KenmapError(f"status「{value}」は {', '.join(STATUSES)}（または 既存/計画/"
                          "候補）のいずれかにしてください", file=file, row=row, field="status")
    return text


#: Column names offices use for a hub's name (the first present is taken).
NAME_FIELDS = ("name", "名称", "施設名", "施設・場所名", "拠点名")


def coordinate_columns(columns: Iterable[object]) -> tuple[str, str] | None:
    """The longitude and latitude columns of a table, found by their names (lon/lat,
    longitude/latitude, 経度/緯度, x/y, in any case); None when there are none."""
    lower = {str(c).lower(): str(c) for c in columns}
    guess = [(lower.get(a), lower.get(b)) for a, b in
             (("lon", "lat"), ("longitude", "latitude"), ("経度", "緯度"), ("x", "y"))]
    return next(((a, b) for a, b in guess if a and b), None)


def _read_points(path: Path, *, encoding: str | None, lon_field: str | None,
                 lat_field: str | None, x_field: str | None, y_field: str | None,
                 crs: str | None) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix in VECTOR_SUFFIXES or suffix == ".zip":
        frames = [src.frame for src in read_vector(path, encoding=encoding, crs=crs)]
        frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
        kinds = frame.geometry.geom_type
        wrong = ~kinds.isin(["Point", "MultiPoint"]) | frame.geometry.isna()
        if wrong.any():
            i = int(np.flatnonzero(wrong.to_numpy())[0])
            raise KenmapError(f"拠点は点でなければなりません。これは {kinds.iloc[i]} です",
                              file=path,
                              row=int(frame[ROW].iloc[i]))
        frame["geometry"] = frame.geometry.centroid if (kinds == "MultiPoint").any() \
            else frame.geometry
        return frame
    table = read_table(path, encoding=encoding)
    table[ROW] = np.arange(len(table)) + 2
    if lon_field and lat_field:
        xcol, ycol, source_crs = lon_field, lat_field, crs or "6668"
    elif x_field and y_field:
        if not crs:
            raise KenmapError("--x-field/--y-field には --crs が必要です（例: V系なら 6673）",
                              field="--crs")
        xcol, ycol, source_crs = x_field, y_field, crs
    else:
        found = coordinate_columns(table.columns)
        if found is None and _area_field(table) is not None:
            # No coordinates at all: every hub is placed in the area it names.
            table["_lon"], table["_lat"] = "", ""
            found = ("_lon", "_lat")
        if found is None:
            raise KenmapError("座標の列が見つかりません。--lon-field/--lat-field か、"
                              "--x-field/--y-field と --crs を指定してください（または拠点をその区"
                              "域に置くための"
                              "区域コード や 地区 のような区域の列）", file=path)
        xcol, ycol = found
        source_crs = crs or "6668"
    for col in (xcol, ycol):
        if col not in table.columns:
            raise KenmapError("列がありません。ファイルの列: "
                              f"{listing(_visible(table.columns), 12)}",
                              file=path, field=col)
    coords = {}
    blank = (table[xcol].astype(str).str.strip().isin(["", "nan", "None"])
             & table[ycol].astype(str).str.strip().isin(["", "nan", "None"]))
    if blank.any() and _area_field(table) is None:
        i = int(np.flatnonzero(blank.to_numpy())[0])
        raise KenmapError("座標がありません（座標か、拠点をその区域に置くための 区域コード や "
                          "地区 のような区域の列を指定してください）", file=path,
                          row=int(table[ROW].iloc[i]), field=xcol)
    for col in (xcol, ycol):
        values = pd.to_numeric(table[col].astype(str).str.strip(), errors="coerce")
        values[blank] = 0.0  # placed in their area below
        bad = values.isna() | ~np.isfinite(values)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise KenmapError(f"「{table[col].iloc[i]}」は座標ではありません", file=path,
                              row=int(table[ROW].iloc[i]), field=col)
        coords[col] = values.to_numpy(dtype=float)
    target = parse_crs(source_crs)
    if target.is_geographic:
        lon, lat = coords[xcol], coords[ycol]
        out_of_range = (np.abs(lat) > 90) | (np.abs(lon) > 180)
        if out_of_range.any():
            i = int(np.flatnonzero(out_of_range)[0])
            if abs(lon[i]) <= 90 and abs(lat[i]) <= 180:
                why = (f"緯度 {lat[i]} はありえない値です: 経度と緯度が入れ替わっているようです"
                       f"（列 {xcol}, {ycol}）")
            else:
                why = (f"({lon[i]}, {lat[i]}) は経度・緯度ではありません。平面直角座標なら "
                       "--x-field/--y-field と --crs を指定してください")
            raise KenmapError(why, file=path, row=int(table[ROW].iloc[i]))
    geometry = gpd.points_from_xy(coords[xcol], coords[ycol], crs=target)
    geometry[blank.to_numpy()] = shapely.Point()  # empty: to be placed in the area it names
    return gpd.GeoDataFrame(table, geometry=geometry, crs=target)


#: Column names that name a hub's own area (code or name), for lists without coordinates.
AREA_FIELDS = ("area_code", "区域コード", "地区コード", "行政区コード", "area", "区域", "地区",
               "行政区", "町丁", "自治会", "所在区域")


def _area_field(table: pd.DataFrame) -> str | None:
    return next((c for c in AREA_FIELDS if c in table.columns), None)


def _place_in_areas(ws: Workspace, frame: gpd.GeoDataFrame, path: Path) -> np.ndarray:
    """Put hubs without coordinates at a point inside the area they name (by code on any
    layer, else by normalised name, finest layer first); returns which were placed so."""
    placed = frame.geometry.is_empty.to_numpy()
    if not placed.any():
        return placed
    field = _area_field(frame)
    assert field is not None
    by_code: dict[str, object] = {}
    by_name: dict[str, list[object]] = {}
    for key in reversed(filled_layers(ws)):
        areas = ws.read_layer(key)
        points = areas.geometry.representative_point().to_numpy()
        for code, name, point in zip(areas["code"], areas["name"], points):
            by_code.setdefault(str(code), point)
            by_name.setdefault(normalise_name(name), []).append(point)
    geoms = frame.geometry.to_numpy().copy()
    for i in np.flatnonzero(placed):
        value = str(frame[field].iloc[i]).strip()
        point = by_code.get(value)
        if point is None:
            hits = by_name.get(normalise_name(value), [])
            point = hits[0] if len(hits) == 1 else None
        if point is None:
            raise KenmapError(f"座標がなく、「{value}」も1つの区域の"
                              "コードや名前ではありません",
                              file=path, row=int(frame[ROW].iloc[i]), field=field)
        geoms[i] = point
    frame[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
    return placed


def _types(frame: pd.DataFrame, *, path: Path, hub_type: str | None, type_field: str | None,
           type_map: Path | None, known: set[str], encoding: str | None
           ) -> pd.Series:
    if hub_type is not None:
        if hub_type not in known:
            raise KenmapError(f"拠点の種類「{hub_type}」は登録されていません。登録済みの種類: "
                              f"{', '.join(sorted(known))}（'kenmap types add' で追加できます）",
                              field="--type")  # the option of 'kenmap import hubs'

        return pd.Series(hub_type, index=frame.index, dtype=object)
    if type_field is None:
        raise KenmapError("--type KEY か --type-field FIELD を指定してください")
    if type_field not in frame.columns:
        raise KenmapError("列がありません。ファイルの列: "
                          f"{listing(_visible(frame.columns), 12)}",
                          file=path, field=type_field)
    values = frame[type_field].astype(str).str.strip()
    if type_map is None:
        return values.astype(object)
    rules = read_table(type_map, encoding=encoding)
    if not {"value", "type"}.issubset(rules.columns):
        raise KenmapError("種類の対応表には列 value,type[,match] が必要です"
                          "（match: exact, contains, prefix, suffix）", file=type_map)
    out = pd.Series(None, index=frame.index, dtype=object)
    norm = values.map(normalise_name)
    for i, rule in rules.iterrows():
        how = str(rule.get("match", "") or "exact").strip() or "exact"
        value = normalise_name(rule["value"])
        if str(rule["type"]).strip() not in known:
            raise KenmapError(f"拠点の種類「{rule['type']}」は登録されていません", file=type_map,
                              row=int(str(i)) + 2, field="type")
        if rule["value"] == "*":
            hit = pd.Series(True, index=frame.index)
        elif how == "exact":
            hit = norm == value
        elif how == "contains":
            hit = norm.str.contains(re.escape(value))
        elif how == "prefix":
            hit = norm.str.startswith(value)
        elif how == "suffix":
            hit = norm.str.endswith(value)
        else:
            raise KenmapError(f"match「{how}」は exact, contains, prefix, suffix のいずれかにしてく"
                              "ださい",
                              file=type_map, row=int(str(i)) + 2, field="match")
        out[hit & out.isna()] = str(rule["type"]).strip()  # first matching rule wins
    return out




def import_hubs(
    ws: Workspace,
    path: str | Path,
    *,
    hub_type: str | None = None,
    type_field: str | None = None,
    type_map: str | Path | None = None,
    name_field: str | None = None,
    lon_field: str | None = None,
    lat_field: str | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    crs: str | None = None,
    status: str = "existing",
    encoding: str | None = None,
    replace: bool = False,
    source: str | None = None,
) -> Report:
    """Import hubs from a table with coordinates or a point file, all-or-nothing."""
    path = Path(path)
    if status not in STATUSES:
        raise KenmapError(f"--status は {', '.join(STATUSES)} のいずれかにしてください",
                          field="--status")
    if ws.crs_epsg is None:
        raise KenmapError("拠点の前に区域を取り込んでください: 拠点は区域の中に位置づけられます")
    catalogue = catalogue_of(ws.get("hub_types"))
    frame = _read_points(path, encoding=encoding, lon_field=lon_field, lat_field=lat_field,
                         x_field=x_field, y_field=y_field, crs=crs)
    if len(frame) == 0:
        raise KenmapError("ファイルに拠点がありません", file=path)
    file = str(path)
    types = _types(frame, path=path, hub_type=hub_type, type_field=type_field,
                   type_map=Path(type_map) if type_map else None, known=set(catalogue.types),
                   encoding=encoding)
    if name_field is None:
        name_field = next((c for c in NAME_FIELDS if c in frame.columns), None)
    if name_field is None or name_field not in frame.columns:
        raise KenmapError("名前の列がありません。--name-field を指定してください",
                          file=path, field=name_field)
    report = Report("")
    unknown = ~types.isin(set(catalogue.types))
    if unknown.all():
        raise KenmapError(f"登録済みの拠点の種類を持つ行がありません（値の例: "
                          f"{listing(sorted(set(types.dropna().astype(str)))[:5], 5)}）。登録済みの"
                          f"種類: {', '.join(catalogue.types)}", file=path,
                          field=type_field or "--type")
    if unknown.any():
        labels = [f"{r}行目 {n}（{'種類が空欄' if pd.isna(t) or str(t) in ('', 'nan') else t}）"
                  for r, n, t in zip(frame.loc[unknown, ROW], frame.loc[unknown, name_field],
                                     types[unknown])]
        report.warnings.append(f"種類が登録されていない{int(unknown.sum())}行を除きました: "
                               f"{listing(labels)}")
    keep = ~unknown
    frame, types = frame[keep], types[keep]

    frame = frame.to_crs(ws.crs_epsg)
    placed = _place_in_areas(ws, frame, path)
    hubs = gpd.GeoDataFrame({"type": types.to_numpy(),
                             "name": frame[name_field].astype(str).str.strip().to_numpy()},
                            geometry=frame.geometry.to_numpy(), crs=ws.crs_epsg)
    # 位置未確定: placed in the area it names; counted for membership, never for distance.
    hubs["position"] = np.where(placed, "area", "exact")
    if placed.any():
        report.notes.append(f"座標のない拠点{int(placed.sum())}件を、記載された区域に置きました"
                            "（位置未確定: その区域の中として数え、徒歩距離には使いません）")
    for fld, names in OPTIONAL_FIELDS.items():
        col = next((c for c in names if c in frame.columns), None)
        hubs[fld] = frame[col].to_numpy() if col else None
    hubs["status"] = [_status(v, status, file, int(r)) for v, r in
                      zip(hubs["status"], frame[ROW])]
    hubs["schedule"] = hubs["schedule"].map(_schedule)
    for fld in ("opened", "closed"):
        hubs[fld] = pd.Series([_date(v, file, int(r), fld) for v, r in
                               zip(hubs[fld], frame[ROW])], index=hubs.index, dtype=object)
    wrong = [int(r) for o, c, r in zip(hubs["opened"], hubs["closed"], frame[ROW])
             if isinstance(o, str) and isinstance(c, str) and c < o]
    if wrong:
        raise KenmapError("廃止日が開設日より前です", file=path, row=wrong[0], field="closed")
    for fld in ("address", "host", "operator", "responsible"):
        hubs[fld] = hubs[fld].map(lambda v: None if v is None or str(v).strip() in ("", "nan")
                                  else str(v).strip())
    hubs["source"] = path.name
    hubs["source_row"] = frame[ROW].to_numpy()

    located = locate(ws, hubs.geometry)
    top = filled_layers(ws)[0]
    outside = located[area_column(top)].isna().to_numpy()
    names_areas = hubs["responsible"].notna().to_numpy()
    if (outside & ~names_areas).mean() > 0.5:
        # Most hubs outside the city: coordinates swapped or in the wrong CRS.
        swapped = gpd.GeoSeries(shapely.transform(frame.geometry.to_numpy(),
                                                  lambda xy: xy[:, ::-1]), crs=frame.crs)
        hint = ""
        try:
            if located_share(ws, swapped.to_crs(ws.crs_epsg)) > 0.5:
                hint = "。経度と緯度を入れ替えると市域に入ります: " \
                       "どの列がどちらか確認してください"
        except Exception:  # noqa: BLE001 - swapped values may not even be coordinates
            hint = ""
        if not hint:
            hint = "。座標の列と --crs を確認してください"
        raise KenmapError(f"拠点{len(hubs)}件のうち{int(outside.sum())}件が市域の外です"
                          f"（例: {int(frame[ROW].iloc[int(np.argmax(outside))])}行目）{hint}",
                          file=path)
    if outside.any():
        labels = [f"{r}行目 {n}" + (f"（担当: {a}）" if isinstance(a, str) else "")
                  for r, n, a in zip(hubs.loc[outside, "source_row"], hubs.loc[outside, "name"],
                                     hubs.loc[outside, "responsible"])]
        report.warnings.append(f"市域の外の拠点{int(outside.sum())}件"
                               "（残しますが、どの区域にも入りません。"
                               "担当区域を記載したものはその区域を受け持ちます）: "
                               f"{listing(labels)}")
    hubs = pd.concat([hubs, located], axis=1)

    # Existing hubs are read under the workspace lock, inside the transaction, so an edit or
    # another import committed meanwhile is kept, and ids are never handed out twice.
    with ws.transaction() as tx:
        existing = gpd.GeoDataFrame() if replace else read_hubs(tx)
        start_id = max(int(existing["id"].max()) + 1 if len(existing) else 1,
                       int(tx.get("next_hub_id", 1)))
        hubs.insert(0, "id", np.arange(start_id, start_id + len(hubs)))
        hubs["version"] = 1
        combined = gpd.GeoDataFrame(pd.concat([existing, hubs], ignore_index=True),
                                    geometry="geometry", crs=ws.crs_epsg)
        dup = _duplicates(combined)
        new_dup = dup & combined["id"].isin(hubs["id"]).to_numpy()
        if new_dup.any():
            labels = [f"{r}行目 {n}" for r, n in zip(combined.loc[new_dup, "source_row"],
                                                     combined.loc[new_dup, "name"])]
            report.warnings.append(f"重複{int(new_dup.sum())}件（同じ種類で"
                                   f"{DUPLICATE_M:.0f} m 以内）を除きました: "
                                   f"{listing(labels)}")
            combined = combined[~new_dup]
        added = int((combined["id"] >= start_id).sum())
        tx.write_table(HUBS, combined)
        tx.put("next_hub_id", start_id + len(hubs))
        if source and source.strip():  # the attribution maps and handouts carry
            tx.put("hub_sources", {**(tx.get("hub_sources") or {}), path.name: source.strip()})
        tx.record("import hubs", file=file, count=added)
    counts = combined[combined["id"] >= start_id]["type"].value_counts()
    report.title = f"{path.name} から拠点{added}件を取り込みました: " + ", ".join(
        f"{catalogue.types[t].label} {n}" for t, n in counts.items())
    report.facts.update({"count": added, "by_type": {str(k): int(v) for k, v in counts.items()},
                         "outside": int(outside.sum())})
    return report






def _duplicates(hubs: gpd.GeoDataFrame) -> np.ndarray:
    """Rows that repeat an earlier hub of the same type at the same place."""
    geoms = hubs.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="dwithin", distance=DUPLICATE_M)
    types = hubs["type"].to_numpy()
    later = (a < b) & (types[a] == types[b])
    dup = np.zeros(len(hubs), dtype=bool)
    dup[b[later]] = True
    return dup


def _visible(columns: object) -> list[str]:
    """Column names a user gave (not kenmap's own bookkeeping such as the row number)."""
    return [str(c) for c in columns if not str(c).startswith("_")  # type: ignore[attr-defined]
            and str(c) != "geometry"]
