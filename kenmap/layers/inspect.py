"""What an uploaded file holds, read as its import will read it.

The import wizard shows this before a dry run: the encoding (and whether it was detected), the
CRS, the fields with samples, the first rows, the options the import would be given, and how
well the file fits each layer of the workspace. Every reading goes through the import's own
readers and rules (:func:`~kenmap.geo.vector_io.read_vector`, the e-Stat water and enclave
rules of :mod:`kenmap.layers.areas`), so what is reported is what the import will do. This
module holds what every kind of file shares and the boundary files; population tables and hub
lists are inspected beside their importers (:mod:`kenmap.people.inspect`,
:mod:`kenmap.hubs.inspect`).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kenmap.errors import KenmapError
from kenmap.geo.crs import crs_label, is_plane_rectangular
from kenmap.geo.vector_io import VectorSource, read_vector
from kenmap.layers import estat
from kenmap.layers.areas import _prepare, code_text
from kenmap.layers.hierarchy import child_layer, filled_layers, parent_layer
from kenmap.model.report import Report
from kenmap.workspace import Workspace

#: Samples and first rows shown per field.
SHOWN = 5
#: Field names that hold an area's code, most specific first (e-Stat, N03, offices' own).
CODE_FIELDS = ("KEY_CODE", "N03_007", "code", "area_code", "町丁コード", "町字コード",
               "区域コード", "地区コード", "行政区コード", "自治会コード", "コード")
#: Field names that hold an area's name (e-Stat 2020 S_NAME, 2015 MOJI, N03's municipality).
NAME_FIELDS = ("S_NAME", "MOJI", "N03_004", "name", "名称", "町丁名", "町字名", "町丁字名",
               "区域名", "地区名", "行政区名", "自治会名", "名前")
#: Field names that hold the parent area's code.
PARENT_FIELDS = ("parent_code", "上位コード", "親コード")


@dataclass
class FieldInfo:
    """One field of the file: its name, its first distinct values, whether it is numeric."""

    name: str
    sample: list[Any]
    numeric: bool


@dataclass
class Fit:
    """How well the file fits one layer: ``matched`` from 0 to 1, and why."""

    layer: str
    label: str
    matched: float
    note: str


@dataclass
class Detected:
    """What the import will find in a file, and the options it would be given."""

    encoding: str | None
    encoding_detected: bool
    crs_epsg: int | None
    crs_note: str
    count: int
    fields: list[FieldInfo]
    rows: list[dict[str, Any]]
    suggested: dict[str, Any]
    fits: list[Fit]
    notes: list[str] = field(default_factory=list)
    #: The municipalities a file of several holds, each with the ``where`` choosing it.
    municipalities: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The detection as JSON-ready values."""
        return asdict(self)


def plain(value: Any) -> Any:
    """A cell as a JSON value: numbers, text, booleans or None (NaN, NaT and infinities are
    None; anything else is shown as text)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | values.astype(str).str.strip().isin(["", "nan", "None"])


def _is_numeric(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    filled = values[~_blank(values)]
    if len(filled) == 0:
        return False
    text = filled.astype(str).str.normalize("NFKC").str.replace(",", "", regex=False)
    return bool(pd.to_numeric(text, errors="coerce").notna().all())


def visible_columns(frame: pd.DataFrame) -> list[str]:
    """The columns a user gave (not the geometry nor kenmap's own row numbers)."""
    return [str(c) for c in frame.columns if c != "geometry" and not str(c).startswith("_")]


def describe(frame: pd.DataFrame) -> tuple[list[FieldInfo], list[dict[str, Any]]]:
    """Each field with its first distinct values and a numeric flag, and the first rows."""
    columns = visible_columns(frame)
    fields = []
    for col in columns:
        values = frame[col]
        shown = values[~_blank(values)].drop_duplicates().head(SHOWN)
        fields.append(FieldInfo(col, [plain(v) for v in shown], _is_numeric(values)))
    rows = [{col: plain(value) for col, value in zip(columns, row)}
            for row in frame[columns].head(SHOWN).itertuples(index=False, name=None)]
    return fields, rows


def _norm(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lower()


def guess_field(columns: Sequence[str], names: Iterable[str], part: Sequence[str] = ()
                ) -> str | None:
    """The first column named as one of ``names`` (NFKC, any case), else the first whose name
    contains one of ``part``."""
    by_norm = {_norm(c): c for c in reversed(columns)}
    for name in names:
        if _norm(name) in by_norm:
            return by_norm[_norm(name)]
    for col in columns:
        if any(_norm(p) in _norm(col) for p in part):
            return col
    return None


def municipalities(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The municipalities of an e-Stat (KEN, CITY) or N03 (N03_007) file holding several: the
    5-digit code, name, row count and the ``where`` that keeps only it."""
    if {"KEN", "CITY"}.issubset(frame.columns):
        ken = frame["KEN"].astype(str).str.strip()
        city = frame["CITY"].astype(str).str.strip()
        codes = ken + city
        names = frame["GST_NAME"] if "GST_NAME" in frame.columns else codes
        one_pref = ken.nunique() == 1

        def where(code: str) -> str:
            return (f"CITY == '{code[2:]}'" if one_pref
                    else f"KEN == '{code[:2]}' and CITY == '{code[2:]}'")
    elif "N03_007" in frame.columns:
        codes = code_text(frame["N03_007"]).fillna("")
        names = frame["N03_004"] if "N03_004" in frame.columns else codes

        def where(code: str) -> str:
            return f"N03_007 == '{code}'"
    else:
        return []
    table = pd.DataFrame({"code": codes.to_numpy(), "name": names.astype(str).to_numpy()})
    table = table[table["code"].str.len() == 5]
    if table["code"].nunique() < 2:
        return []
    grouped = table.groupby("code", sort=True)
    return [{"code": str(code), "name": str(group["name"].iloc[0]), "count": len(group),
             "where": where(str(code))} for code, group in grouped]


def workspace_municipalities(ws: Workspace) -> set[str]:
    """The 5-digit municipality codes the workspace's area codes carry (e-Stat codes of 9 or
    11 digits, municipality codes of 5, or 6 with the check digit)."""
    found: set[str] = set()
    for key in filled_layers(ws):
        for code in ws.read_attributes(key, ["code"])["code"].astype(str):
            if code.isdigit() and len(code) in (5, 6, 9, 11):
                found.add(code[:5])
    return found


def suggested_where(ws: Workspace, choices: list[dict[str, Any]]) -> str | None:
    """The ``where`` keeping the workspace's own municipalities of a file holding several."""
    ours = workspace_municipalities(ws)
    picked = [c for c in choices if c["code"] in ours]
    if not picked or len(picked) == len(choices):
        return None
    return " or ".join(str(c["where"]) for c in picked)


def _unique_field(frame: pd.DataFrame, columns: Sequence[str]) -> str | None:
    """The first field of text or whole numbers with a value in every row, each different
    (a QGIS user's own ``id``), as a code when no field is named as one."""
    for col in columns:
        values = frame[col]
        if pd.api.types.is_float_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        if len(values) and not _blank(values).any() and values.is_unique:
            return col
    return None


def _crs_note(source: VectorSource, given: str | None, ws: Workspace) -> tuple[str, str | None]:
    """What the CRS is and where it came from, and a CRS to suggest when the file has none."""
    frame = source.frame
    target = f"（取り込むとワークスペースの {crs_label(ws.crs_epsg)} に変換します）" \
        if ws.crs_epsg else "（取り込むと、区域を含む平面直角座標系に変換して保存します）"
    if frame.crs is not None:
        how = "指定された座標系" if given else "ファイルの座標系"
        if any("JGD2011（EPSG:6668）として読みました" in note for note in source.notes):
            how = "座標系がないため GeoJSON の定めどおり経度・緯度"
        return f"{how}: {crs_label(source.source_epsg)}{target}", None
    if len(frame) == 0:
        return "座標系がありません（.prj がありません）。crs を指定してください", None
    minx, miny, maxx, maxy = frame.total_bounds
    if 120 <= minx and maxx <= 155 and 20 <= miny and maxy <= 47:
        return ("座標系がありません（.prj がありません）。座標は経度・緯度に見えます: JGD2011 なら "
                "6668、JGD2000 なら 4612 を crs に指定してください"), "6668"
    if ws.crs_epsg and is_plane_rectangular(ws.crs_epsg) and \
            max(abs(minx), abs(maxx), abs(miny), abs(maxy)) < 1_000_000:
        return ("座標系がありません（.prj がありません）。座標はメートルの平面直角座標に見えます: "
                f"ワークスペースと同じ {crs_label(ws.crs_epsg)} か確かめて crs に指定してくださ"
                "い"), str(ws.crs_epsg)
    return "座標系がありません（.prj がありません）。crs を指定してください", None


def inspect_areas(ws: Workspace, path: str | Path, *, encoding: str | None = None,
                  crs: str | None = None, layer_name: str | None = None) -> Detected:
    """What ``import areas`` will read from a boundary file, the options to give it and the
    layer it fits (see :func:`area_fits`)."""
    path = Path(path)
    sources = read_vector(path, encoding=encoding, crs=crs, require_crs=False,
                          layer_name=layer_name)
    first = sources[0]
    frame = pd.concat([pd.DataFrame(s.frame) for s in sources], ignore_index=True)
    notes = [note for s in sources for note in s.notes]
    if len(sources) > 1:
        notes.append(f"{len(sources)}個のデータセットを1つのレイヤとして取り込みます")
    fields, rows = describe(frame)
    columns = [f.name for f in fields]
    is_estat = estat.is_estat(frame)
    code = guess_field(columns, CODE_FIELDS, ("コード", "code")) or _unique_field(frame, columns)
    name = guess_field([c for c in columns if c != code], NAME_FIELDS, ("名", "name"))
    crs_note, crs_guess = _crs_note(first, crs, ws)
    choices = municipalities(frame)
    where = suggested_where(ws, choices)
    if choices:
        notes.append(f"{len(choices)}の市区町村の区域があります: where で取り込む市区町村を選べます"
                     + (f"（ワークスペースの区域から {where} を提案します）" if where else ""))
    suggested: dict[str, Any] = {"code_field": code, "name_field": name}
    parent = guess_field(columns, PARENT_FIELDS)
    if parent:
        suggested["parent_field"] = parent
    if crs_guess:
        suggested["crs"] = crs_guess
    if where:
        suggested["where"] = where
    areas = None
    if code and name:
        try:
            report = Report("")
            prepared = [_prepare(s, code_field=code, name_field=name, parent_field=None,
                                 where=where, keep_water=False, report=report)
                        for s in sources]
            areas = gpd.GeoDataFrame(pd.concat(prepared, ignore_index=True),
                                     geometry="geometry", crs=first.frame.crs)
            notes.extend(n.replace(f"{first.path}: ", "", 1) for n in report.notes)
            notes.append(f"取り込むと {len(areas)}区域になります")
        except KenmapError as exc:
            notes.append(f"提案した項目では取り込めません: {exc.message}")
    elif not code:
        notes.append("区域コードの項目が見つかりません: code_field を選んでください")
    codes = areas[code].astype(str) if areas is not None and code else None
    fits = area_fits(ws, areas, codes, is_estat=is_estat, n03="N03_007" in frame.columns)
    if fits and fits[0].matched > 0:
        suggested = {"layer": fits[0].layer, **suggested}
    return Detected(first.encoding, first.encoding_detected, first.source_epsg, crs_note,
                    int(sum(len(s.frame) for s in sources)), fields, rows,
                    {k: v for k, v in suggested.items() if v is not None}, fits, notes, choices)


def _inside_share(points: np.ndarray, polygons: np.ndarray) -> float:
    """Share of ``points`` lying in one of ``polygons``."""
    if len(points) == 0 or len(polygons) == 0:
        return 0.0
    hit, _ = shapely.STRtree(polygons).query(points, predicate="intersects")
    return float(len(np.unique(hit)) / len(points))


def area_fits(ws: Workspace, areas: gpd.GeoDataFrame | None, codes: pd.Series | None, *,
              is_estat: bool = False, n03: bool = False) -> list[Fit]:
    """How well the areas fit each layer of the scheme, best first.

    The evidence, averaged: the layer's expected count against the file's; the codes the
    layer already has (a re-import); the share of the areas inside the nearest filled layer
    above; the share of the nearest filled layer below inside them (none when the file has
    as many areas as it or more). Without any, e-Stat small areas point to the finest layer
    and N03 municipalities to the top one. Ties go to the layer with more evidence.
    """
    if areas is None:
        return [Fit(layer.key, layer.label, 0.0, "区域コードと名前の項目を選ぶと判定します")
                for layer in ws.scheme.layers]
    n = len(areas)
    filled = filled_layers(ws)
    placed = areas.crs is not None and ws.crs_epsg is not None and n > 0
    local = areas.to_crs(ws.crs_epsg) if placed else None
    reps = shapely.point_on_surface(local.geometry.to_numpy()) if local is not None else None
    nested = ws.scheme.keys
    scored = []
    for layer in ws.scheme.layers:
        scores: list[float] = []
        notes: list[str] = []
        if layer.expected:
            scores.append(min(n, layer.expected) / max(n, layer.expected, 1))
            notes.append(f"想定 {layer.expected}区域に対してファイルは {n}区域")
        if layer.key in filled and codes is not None:
            existing = set(ws.read_attributes(layer.key, ["code"])["code"].astype(str))
            share = float(codes.isin(existing).mean()) if n else 0.0
            scores.append(share)
            notes.append(f"今ある{len(existing)}区域とコードが {share:.0%} 一致"
                         "（入れ替えになります）")
        if layer.nested and local is not None and reps is not None:
            upper = parent_layer(ws, layer.key)
            if upper is not None:
                parents = ws.read_layer(upper)
                share = _inside_share(reps, parents.geometry.to_numpy())
                scores.append(share)
                notes.append(f"{share:.0%} が上の{ws.scheme.layer(upper).label}の区域の中")
            lower = child_layer(ws, layer.key)
            if lower is not None:
                children = ws.read_layer(lower)
                if len(children) <= n:  # a parent layer has fewer areas than its children
                    scores.append(0.0)
                    notes.append(f"下の{ws.scheme.layer(lower).label}（{len(children)}区域）"
                                 "より区域が少なくありません")
                else:
                    share = _inside_share(
                        shapely.point_on_surface(children.geometry.to_numpy()),
                        local.geometry.to_numpy())
                    scores.append(share)
                    notes.append(f"下の{ws.scheme.layer(lower).label}の {share:.0%} を含む")
        if not scores and is_estat and nested and layer.key == nested[-1]:
            scores.append(0.5)
            notes.append("e-Stat 小地域（町丁・字）: ふつうは最も細かい層に取り込みます")
        if not scores and n03 and nested and layer.key == nested[0]:
            scores.append(0.5 if n == 1 else 0.5 / n)
            notes.append("国土数値情報 N03 の市区町村界: 最上位の層向け"
                         + ("" if n == 1 else "（where で1つを選んでください）"))
        matched = float(np.mean(scores)) if scores else 0.0
        note = "、".join(notes) if notes else "判断材料がありません"
        scored.append((matched, len(scores), Fit(layer.key, layer.label, round(matched, 4),
                                                 note)))
    scored.sort(key=lambda s: (-s[0], -s[1]))
    return [fit for _, _, fit in scored]

