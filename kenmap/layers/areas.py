"""Importing boundary files into a layer of the workspace."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kenmap.errors import KenmapError
from kenmap.geo.crs import choose_zone, crs_label, parse_crs, prefecture_from_codes
from kenmap.geo.repair import repair_polygons
from kenmap.geo.vector_io import ROW, VectorSource, read_vector
from kenmap.geo.where import filter_rows
from kenmap.layers import estat
from kenmap.layers.hierarchy import (
    DEFAULT_TOLERANCE,
    link_by_location,
    parent_layer,
    relink_children,
)
from kenmap.layers.locate import relocate_points
from kenmap.model.report import Report, listing
from kenmap.workspace import AREA_COLUMNS, Workspace

_POLYGON_TYPES = {"Polygon", "MultiPolygon"}


def code_text(values: pd.Series) -> pd.Series:
    """Codes as text: integers without a trailing ``.0``, surrounding spaces removed."""
    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        text = str(v).strip()
        return text or None
    return values.map(one).astype(object)


def _require_fields(frame: pd.DataFrame, fields: dict[str, str | None], source: str) -> None:
    available = [c for c in frame.columns if c not in ("geometry", ROW)]
    for option, name in fields.items():
        if name is not None and name not in frame.columns:
            raise KenmapError(
                f"項目がありません（{option} で指定）。ファイルの項目: "
                f"{', '.join(map(str, available))}", file=source, field=name)


def _prepare(
    src: VectorSource, *, code_field: str, name_field: str, parent_field: str | None,
    where: str | None, keep_water: bool, report: Report,
) -> gpd.GeoDataFrame:
    """One file's rows as areas: checked, filtered, with e-Stat conventions applied."""
    frame = src.frame
    _require_fields(frame, {"--code-field": code_field, "--name-field": name_field,
                            "--parent-field": parent_field}, src.path)
    if where:
        frame = filter_rows(frame, where)
    if len(frame) == 0:
        raise KenmapError((f"--where {where} に合う" if where else "") + "地物がありません",
                          file=src.path)
    geom = frame.geometry
    missing = geom.isna() | geom.is_empty
    if missing.any():
        row = int(frame.loc[missing, ROW].iloc[0])
        raise KenmapError(f"地物に形状がありません（該当 {int(missing.sum())}行）",
                          file=src.path, row=row)
    kinds = geom.geom_type
    wrong = ~kinds.isin(_POLYGON_TYPES)
    if wrong.any():
        row = int(frame.loc[wrong, ROW].iloc[0])
        raise KenmapError(
            f"形状が {kinds[wrong].iloc[0]} ですが、区域はポリゴンでなければなりません"
            f"（該当 {int(wrong.sum())}行）", file=src.path, row=row)
    frame = frame.copy()
    frame[code_field] = code_text(frame[code_field])
    if not keep_water and "HCODE" in frame.columns:
        water = estat.water_mask(frame)
        if water.any():
            dropped = frame[water]
            names = [f"{c} {n}" for c, n in zip(dropped[code_field], dropped[name_field])]
            report.notes.append(f"{src.path}: 水面の{int(water.sum())}行を除きました"
                                f"（HCODE 8154）: {listing(names)}")
            frame = frame[~water]
    frame, merged = estat.dissolve_enclaves(frame, code_field)
    if merged:
        report.notes.append(
            f"{src.path}: 飛び地（KIGO_E）を{len(merged)}コード分まとめました: "
            + listing([f"{c}（{n}部分）" for c, n in merged.items()]))
    for option, name in (("--code-field", code_field), ("--name-field", name_field)):
        blank = frame[name].isna() | frame[name].astype(str).str.strip().eq("")
        if blank.any():
            raise KenmapError(f"値が空です（{option} で指定）", file=src.path,
                              row=int(frame.loc[blank, ROW].iloc[0]), field=name)
    return frame


#: Column names a GeoPackage layer keeps for itself.
_RESERVED = {"fid", "geom", "geometry", "source_file", "source_row"}


def _as_areas(frame: gpd.GeoDataFrame, code_field: str, name_field: str,
              parent_field: str | None, source: str) -> gpd.GeoDataFrame:
    """Rename to the workspace's area columns, keeping the file's other attributes."""
    extra = [c for c in frame.columns if c not in ("geometry", ROW)]
    out = pd.DataFrame({
        "code": frame[code_field].astype(str).to_numpy(),
        "name": frame[name_field].astype(str).str.strip().to_numpy(),
        "parent_code": (code_text(frame[parent_field]).to_numpy() if parent_field
                        else np.full(len(frame), None, dtype=object)),
    })
    taken = {c.lower() for c in out.columns} | _RESERVED
    for col in extra:
        name = f"src_{col}" if col in AREA_COLUMNS else str(col)
        # GeoPackage field names are case-insensitive and fid/geom are its own: a file with
        # both "code" and "CODE", or its own "fid", keeps the field under a free name.
        base, n = name, 2
        while name.lower() in taken:
            name = f"{base}_{n}"
            n += 1
        taken.add(name.lower())
        out[name] = frame[col].to_numpy()
    out["source_file"] = source
    out["source_row"] = frame[ROW].to_numpy()
    return gpd.GeoDataFrame(out, geometry=frame.geometry.to_numpy(), crs=frame.crs)


def import_areas(
    ws: Workspace,
    files: Sequence[str | Path],
    *,
    layer: str,
    code_field: str,
    name_field: str,
    parent_field: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    where: str | None = None,
    zone: str | None = None,
    keep_water: bool = False,
    append: bool = False,
    tolerance: float = DEFAULT_TOLERANCE,
    layer_name: str | None = None,
    source: str | None = None,
) -> Report:
    """Import boundary files as the areas of one layer, all-or-nothing.

    Parameters mirror ``kenmap import areas``. The layer is replaced unless ``append``.
    ``source`` is the attribution the maps and handouts carry (e.g. 「国土数値情報（行政区域
    データ）（国土交通省）を加工して作成」).
    """
    scheme = ws.scheme
    target_layer = scheme.layer(layer)
    if not files:
        raise KenmapError("取り込むファイルを1つ以上指定してください")
    report = Report(f"{target_layer.label}（{layer}）に取り込みました")
    parts = []
    for path in files:
        for src in read_vector(path, encoding=encoding, crs=crs, layer_name=layer_name):
            frame = _prepare(src, code_field=code_field, name_field=name_field,
                             parent_field=parent_field, where=where, keep_water=keep_water,
                             report=report)
            how = "自動判定" if src.encoding_detected else "指定または宣言"
            report.notes.append(f"{src.path}: {len(frame)}区域、文字コード {src.encoding}（{how}）"
                                "、"
                                f"{crs_label(src.source_epsg)}")
            report.notes.extend(src.notes)
            parts.append(_as_areas(frame, code_field, name_field, parent_field, src.path))

    epsg = ws.crs_epsg
    zone_epsg = int(parse_crs(zone, what="--zone").to_epsg() or 0) if zone else None
    if epsg is None:
        sample = [c for p in parts for c in p["code"].head(200)]
        epsg = zone_epsg or choose_zone(parts[0], prefecture_from_codes(sample))
        report.notes.append(f"ワークスペースの座標系を {crs_label(epsg)} にしました"
                            + ("（--zone から）" if zone_epsg else "（データを含む系）"))
    elif zone_epsg and zone_epsg != epsg:
        raise KenmapError(f"このワークスペースは {crs_label(epsg)} で保存されています。"
                          "--zone では変更できません", field="--zone")
    areas = pd.concat([p.to_crs(epsg) for p in parts], ignore_index=True)
    areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=epsg)

    if append:
        existing = ws.read_layer(layer)
        if len(existing):
            areas = gpd.GeoDataFrame(pd.concat([existing, areas], ignore_index=True),
                                     geometry="geometry", crs=epsg)
    dup = areas["code"].duplicated(keep=False)
    if dup.any():
        first = areas[dup].sort_values("code")
        code = first["code"].iloc[0]
        rows = first[first["code"] == code]
        where_rows = listing([f"{f} {r}行目" for f, r in zip(rows["source_file"],
                                                             rows["source_row"])])
        raise KenmapError(
            f"コード「{code}」が重複しています（{where_rows}）。重複は全部で"
            f"{int(areas['code'].duplicated().sum())}件です。コードはレイヤの中で一意でなければなりません",
            file=str(rows["source_file"].iloc[-1]), row=int(rows["source_row"].iloc[-1]),
            field=code_field)

    fixed, invalid = repair_polygons(areas.geometry.to_numpy())
    if invalid.any():
        names = [f"{c} {n}" for c, n in zip(areas["code"][invalid], areas["name"][invalid])]
        report.warnings.append(f"不正な形状を{int(invalid.sum())}件修復しました: "
                               f"{listing(names)}")
        areas = areas.set_geometry(fixed)
        empty = shapely.is_empty(fixed) | (shapely.area(fixed) == 0)
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise KenmapError("修復後の形状に面積が残りません",
                              file=str(areas["source_file"].iloc[i]),
                              row=int(areas["source_row"].iloc[i]))

    with ws.transaction() as tx:
        tx.set_crs(epsg)
        upper = parent_layer(tx, layer)
        if upper is not None:
            parents = tx.read_layer(upper)
            upper_label = scheme.layer(upper).label
            if parent_field:
                unknown = ~areas["parent_code"].isin(set(parents["code"]))
                if unknown.any():
                    i = int(np.flatnonzero(unknown.to_numpy())[0])
                    raise KenmapError(
                        f"上位コード「{areas['parent_code'].iloc[i]}」は"
                        f"{upper_label}（{upper}）のコードではありません。同様の行が{int(unknown.sum())}行あります",
                        file=str(areas["source_file"].iloc[i]),
                        row=int(areas["source_row"].iloc[i]), field=parent_field)
            else:
                codes, warnings = link_by_location(
                    areas, parents, child_layer_label=target_layer.label,
                    parent_layer_label=upper_label, tolerance=tolerance,
                    source=", ".join(map(str, files)))
                areas["parent_code"] = codes
                report.warnings.extend(warnings)
                report.notes.append(f"位置により{upper_label}（{upper}）と結び付けました")
        tx.write_layer(layer, areas)
        report.notes.extend(relink_children(tx, layer, tolerance))
        relocate_points(tx)
        tx.set_layer_info(layer, {
            "source": [str(f) for f in files], "imported": True,
            "code_field": code_field, "name_field": name_field, "count": len(areas),
            **({"attribution": source.strip()} if source and source.strip() else {})})
        tx.record("import areas", layer=layer, files=[str(f) for f in files], count=len(areas))
    report.facts.update({"layer": layer, "count": len(areas), "crs_epsg": epsg})
    report.title = f"{target_layer.label}（{layer}）に{len(areas)}区域を取り込みました"
    if target_layer.expected and target_layer.expected != len(areas):
        report.warnings.append(f"区域体系では{target_layer.label}は{target_layer.expected}区域の想定ですが、"
                               f"{len(areas)}区域を取り込みました")
    return report
