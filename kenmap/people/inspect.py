"""What a population table holds, read as ``import population`` will read it, and what a
workspace holds (the before and after of a dry run).

The table is read by the import's own reader (:func:`~kenmap.people.population.
read_people_table`), filtered and widened the same way, the key column is the one whose values
match a layer's codes (else names) best, the figure columns are those the import picks, and
the share of rows matching each layer is found by the import's own join
(:func:`~kenmap.people.join.join_rows`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from kenmap.errors import KenmapError
from kenmap.geo.table_io import decode_text
from kenmap.geo.vector_io import ROW, VECTOR_SUFFIXES, read_vector
from kenmap.geo.where import filter_rows
from kenmap.hubs.table import read_hubs
from kenmap.layers.areas import code_text
from kenmap.layers.hierarchy import area_layers
from kenmap.layers.inspect import (
    CODE_FIELDS,
    NAME_FIELDS,
    Detected,
    Fit,
    describe,
    guess_field,
    municipalities,
    suggested_where,
)
from kenmap.layers.names import normalise_name
from kenmap.people import estat_tables
from kenmap.people.counts import band_coverage, bands_by_sex, reaggregated
from kenmap.people.join import join_rows
from kenmap.people.population import (
    HOUSEHOLD_HEADERS,
    TOTAL_HEADERS,
    _figures,
    _pick,
    _total_column,
    read_people_table,
    widened,
)
from kenmap.people.tables import table_name
from kenmap.workspace import Workspace


def _encoding(path: Path, encoding: str | None) -> tuple[str | None, bool, int | None, str]:
    """The encoding the import will decode the file with, whether it was detected, the CRS of
    a vector file and a note on it."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return None, False, None, "Excel のブック: 文字コードと座標系は使いません"
    if suffix in VECTOR_SUFFIXES or suffix == ".zip":
        source = read_vector(path, encoding=encoding, require_crs=False)[0]
        return (source.encoding, source.encoding_detected, source.source_epsg,
                "属性表だけを使います（形状と座標系は使いません）")
    raw = path.read_bytes()
    _, used = decode_text(raw, encoding, path)
    bom = raw.startswith(b"\xef\xbb\xbf")
    name = "utf-8" if used == "utf-8-sig" else used
    return name, encoding is None, None, "表なので座標系は使いません" + \
        ("（BOM 付き UTF-8）" if bom else "")


def _best_key(ws: Workspace, table: pd.DataFrame, columns: list[str]
              ) -> tuple[str, str | None, float]:
    """The option (code_field or name_field) and column whose values match some layer's
    codes, else names, best, with that share; a guess by header when none matches."""
    layers = area_layers(ws)
    codes = {k: set(ws.read_attributes(k, ["code"])["code"].astype(str)) for k in layers}
    names = {k: {normalise_name(n) for n in ws.read_attributes(k, ["name"])["name"]}
             for k in layers}
    best: tuple[float, str, str | None] = (0.0, "code_field", None)
    for option, values_of, known in (("code_field", code_text, codes),
                                     ("name_field", lambda v: v.map(normalise_name), names)):
        for col in columns:
            values = values_of(table[col])
            for key in layers:
                share = float(values.isin(known[key]).mean()) if len(values) else 0.0
                if share > best[0]:  # codes first: a name column must match more to win
                    best = (share, option, col)
    if best[2] is not None:
        return best[1], best[2], best[0]
    guess = guess_field(columns, CODE_FIELDS, ("コード", "code"))
    if guess:
        return "code_field", guess, 0.0
    return "name_field", guess_field(columns, NAME_FIELDS, ("名", "name")), 0.0


def _figure_fields(columns: list[str], path: Path) -> dict[str, str]:
    """The columns the import takes total, 65+, 75+ and households from, when it takes them
    from one column (age bands are summed by the import itself)."""
    found: dict[str, str] = {}
    total = _pick(columns, None, TOTAL_HEADERS, "--total-field", path) or _total_column(columns)
    if total:
        found["total_field"] = total
    by_sex = bands_by_sex(columns)
    banded = [by_sex.get(s, []) for s in ("all", "male")]
    for option, age in (("pop65_field", 65), ("pop75_field", 75)):
        if not any(band_coverage(b, age) for b in banded):
            column = reaggregated(columns, age)
            if column:
                found[option] = column
    households = _pick(columns, None, HOUSEHOLD_HEADERS, "--households-field", path)
    if households:
        found["households_field"] = households
    return found


def population_fits(ws: Workspace, table: pd.DataFrame, path: Path, option: str,
                    key: str | None, is_census: bool) -> list[Fit]:
    """The share of the table's rows (totals left out) that the import's join matches to each
    layer's areas, best first."""
    fits = []
    for layer in area_layers(ws):
        label = ws.scheme.layer(layer).label
        if key is None:
            fits.append(Fit(layer, label, 0.0, "区域コードか名前の列を選ぶと判定します"))
            continue
        try:
            joined = join_rows(ws, table, layer, path, is_census=is_census,
                               code_field=key if option == "code_field" else None,
                               name_field=key if option == "name_field" else None)
        except KenmapError as exc:
            fits.append(Fit(layer, label, 0.0, exc.message))
            continue
        considered = int((~joined.total_rows).sum())
        matched = int(joined.codes.notna().sum())
        share = matched / considered if considered else 0.0
        areas = len(ws.read_attributes(layer, ["code"]))
        fits.append(Fit(layer, label, round(share, 4),
                        f"{considered}行のうち{matched}行が{label}の区域（{areas}区域）に一致"
                        + (f"、合計・小計 {int(joined.total_rows.sum())}行"
                           if joined.total_rows.any() else "")))
    return sorted(fits, key=lambda f: -f.matched)


def inspect_population(ws: Workspace, path: str | Path, *, encoding: str | None = None,
                       header_rows: int = 1) -> Detected:
    """What ``import population`` will read from a table, the options to give it and the
    share of its rows matching each layer."""
    path = Path(path)
    encoding_used, detected, crs_epsg, crs_note = _encoding(path, encoding)
    table = read_people_table(path, encoding, header_rows)
    count = len(table)
    fields, rows = describe(table)
    notes: list[str] = []
    choices = municipalities(table)
    where = suggested_where(ws, choices)
    if where:
        table = filter_rows(table, where).reset_index(drop=True)
        notes.append(f"{len(choices)}の市区町村の行があります: ワークスペースの区域から "
                     f"{where} を提案します")
    columns = [c for c in table.columns if c != ROW]
    is_census = estat_tables.is_estat_table(table)
    if is_census:
        option, key = "code_field", next(c for c in columns if c.strip().upper() == "KEY_CODE")
        notes.append("e-Stat 小地域集計の表です（KEY_CODE, HYOSYO …）")
    else:
        option, key, _ = _best_key(ws, table, columns)
    table, long_note = widened(table, [key] if key else [], path)
    if long_note:
        notes.append(long_note)
    columns = [c for c in table.columns if c != ROW]
    suggested: dict[str, Any] = {option: key} if key else {}
    suggested.update(_figure_fields(columns, path))
    try:
        warnings: list[str] = []
        _figures(table, path, total_field=None, pop65_field=None, pop75_field=None,
                 households_field=None, notes=notes, warnings=warnings)
        notes.extend(f"警告: {w}" for w in warnings)
    except KenmapError as exc:
        notes.append(f"人数の列を決められません: {exc.message}")
    if not area_layers(ws):
        notes.append("ワークスペースにまだ区域がありません: 先に区域を取り込んでください")
    fits = population_fits(ws, table, path, option, key, is_census)
    if fits and fits[0].matched > 0:
        suggested = {"layer": fits[0].layer, **suggested}
    if where:
        suggested["where"] = where
    if header_rows != 1:
        suggested["header_rows"] = header_rows
    return Detected(encoding_used, detected, crs_epsg, crs_note, count, fields, rows,
                    suggested, fits, notes, choices)


def workspace_counts(ws: Workspace) -> dict[str, Any]:
    """What the workspace holds: areas per layer, hubs (all and per status), population rows
    per layer, and its CRS."""
    tables = set(ws.tables())
    hubs = read_hubs(ws)
    return {
        "areas": {key: len(ws.read_attributes(key, ["code"])) for key in area_layers(ws)},
        "hubs": len(hubs),
        "hubs_by_status": {str(k): int(v) for k, v in
                           hubs["status"].value_counts().sort_index().items()},
        "population": {key: len(ws.read_table(table_name(key))) for key in area_layers(ws)
                       if table_name(key) in tables},
        "crs_epsg": ws.crs_epsg,
    }
