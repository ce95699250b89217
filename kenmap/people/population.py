"""Importing population tables (counts by age) and joining them to a layer's areas."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kenmap.errors import KenmapError
from kenmap.geo.table_io import read_table
from kenmap.geo.vector_io import ROW, VECTOR_SUFFIXES, read_vector
from kenmap.geo.where import filter_rows
from kenmap.layers import estat
from kenmap.model.dates import require_iso
from kenmap.model.report import Report, listing
from kenmap.people import estat_tables, long_tables
from kenmap.people.counts import (
    Band,
    band_coverage,
    bands_by_sex,
    find_bands,
    parse_counts,
    reaggregated,
    sex_of,
)
from kenmap.people.join import join_rows
from kenmap.people.snapshots import SNAPSHOTS, snapshot_table
from kenmap.people.tables import table_name
from kenmap.workspace import Workspace

FIGURES = ["total", "pop65", "pop75", "households"]
TOTAL_HEADERS = {"総数", "総人口", "人口総数", "人口", "合計", "計", "total", "JINKO", "人口(人)"}
HOUSEHOLD_HEADERS = {"世帯数", "世帯", "一般世帯数", "世帯総数", "SETAI", "households"}


def _flat(col: object) -> str:
    if isinstance(col, tuple):
        parts = [str(p).strip() for p in col if not str(p).startswith("Unnamed") and str(p).strip()]
        return " / ".join(parts)
    return str(col).strip()


def _last_part(col: str) -> str:
    return unicodedata.normalize("NFKC", col.split(" / ")[-1]).replace(" ", "")


def _check_merged_header(path: Path, header_rows: int) -> None:
    """Merged cells that reach below the header rows mean --header-rows is wrong."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=False)
    sheet = book.worksheets[0]
    merges = list(sheet.merged_cells.ranges)
    for merged in merges:  # a heading merged down past the header rows
        if merged.min_row <= header_rows < merged.max_row:
            raise KenmapError(
                f"結合された見出しセル {merged.coord} が {merged.min_row}–"
                f"{merged.max_row}行目にまたがっていますが、--header-rows は {header_rows} です。"
                f"--header-rows {merged.max_row} を指定してください", file=path)
    for merged in merges:  # a heading merged across columns in the last header row
        if merged.min_row == header_rows and merged.min_col != merged.max_col:
            raise KenmapError(
                f"結合された見出しセル {merged.coord}: 列ごとに見出しが必要です。"
                f"下の行に小見出しがある場合は --header-rows {header_rows + 1} を指定してください",
                file=path)


def read_people_table(path: Path, encoding: str | None, header_rows: int = 1) -> pd.DataFrame:
    """The rows of a table file (CSV, XLSX, or a vector file's attributes, with e-Stat's water
    and enclave rules), headers flattened."""
    suffix = path.suffix.lower()
    if suffix in VECTOR_SUFFIXES or suffix == ".zip":
        frames = []
        for src in read_vector(path, encoding=encoding, require_crs=False):
            frame = src.frame
            if estat.is_estat(frame):
                # The same conventions as the boundary import: water out, enclaves summed.
                frame = frame[~estat.water_mask(frame)]
                frame, _ = estat.dissolve_enclaves(frame, "KEY_CODE")
            frames.append(pd.DataFrame(frame.drop(columns="geometry")))
        return pd.DataFrame(pd.concat(frames, ignore_index=True))
    if suffix in (".xlsx", ".xlsm") and path.exists():
        _check_merged_header(path, header_rows)
    table = read_table(path, encoding=encoding, header_rows=header_rows)
    table.columns = [_flat(c) for c in table.columns]
    if header_rows > 1 and suffix in (".xlsx", ".xlsm"):
        # Excel: ffill of merged group headings is done by pandas; nothing more to do.
        pass
    table[ROW] = np.arange(len(table)) + header_rows + 1
    if estat_tables.is_estat_table(table):
        table, _ = estat_tables.with_labels(table, ROW)  # the label row names the columns
    blank = table.drop(columns=ROW).apply(lambda c: c.astype(str).str.strip().isin(["", "nan"]))
    return table[~blank.all(axis=1)].reset_index(drop=True)


def _pick(columns: list[str], given: str | None, names: set[str], option: str,
          file: Path) -> str | None:
    if given is not None:
        if given not in columns:
            raise KenmapError(f"列がありません（{option} で指定）。ファイルの列: "
                              f"{listing(columns, 12)}", file=file, field=given)
        return given
    for col in columns:
        if _last_part(col) in names and "再掲" not in col:
            return col
    return None


def _total_column(columns: list[str]) -> str | None:
    """The census's own total: ``総数、年齢「不詳」含む`` (or ``総数（年齢不詳を含む）``)."""
    for col in columns:
        text = _last_part(col)
        if text.startswith("総数") and "不詳" in text and "含" in text and sex_of(text) == "all":
            return col
    return None


def _unknown_age_column(columns: list[str]) -> str | None:
    """People of unknown age (``総数年齢「不詳」``), counted in the total but in no band."""
    for col in columns:
        text = _last_part(col)
        if "不詳" in text and "含" not in text and sex_of(text) == "all":
            return col
    return None


def _figures(table: pd.DataFrame, path: Path, *, total_field: str | None,
             pop65_field: str | None, pop75_field: str | None, households_field: str | None,
             notes: list[str], warnings: list[str] | None = None) -> tuple[pd.DataFrame, int]:
    """Total / 65+ / 75+ / households per row, from named columns or summed age bands.

    Bands split by sex are summed 男+女 when there are no bands for both sexes together;
    総数 bands are never added to 男/女 ones.
    """
    warnings = warnings if warnings is not None else []
    columns = [c for c in table.columns if c != ROW]
    file = str(path)
    rows = table[ROW]
    missing = 0
    parsed: dict[str, pd.Series] = {}

    def counts(col: str) -> pd.Series:
        nonlocal missing
        if col not in parsed:
            parsed[col], n = parse_counts(table[col], file=file, field=col, rows=rows)
            missing += n
        return parsed[col]

    by_sex = bands_by_sex(columns)
    bands = by_sex.get("all", [])
    male, female = by_sex.get("male", []), by_sex.get("female", [])
    if not band_coverage(bands, 65) and male and female and \
            [(b.start, b.end) for b in male] == [(b.start, b.end) for b in female]:
        bands = []
        for m, f in zip(male, female):
            label = f"{m.column} + {f.column}"
            parsed[label] = counts(m.column) + counts(f.column)  # NaN if either is suppressed
            bands.append(Band(label, m.start, m.end))
        notes.append(f"年齢階級を男+女で合計しました（{len(bands)}階級。男女計の年齢階級が"
                     "表にないため）")

    def band_sum(start: int) -> pd.Series:
        # min_count: a row with any suppressed band has no 65+ figure (never a partial sum).
        cols = [counts(b.column) for b in bands if b.start >= start]
        stacked = pd.concat(cols, axis=1)
        return stacked.sum(axis=1, min_count=len(cols)).where(stacked.notna().all(axis=1))

    out = pd.DataFrame(index=table.index)
    total_col = _pick(columns, total_field, TOTAL_HEADERS, "--total-field", path) \
        or _total_column(columns)
    if total_col is not None:
        out["total"] = counts(total_col)
        notes.append(f"総数は列「{total_col}」から")
    elif band_coverage(bands, 0):
        unknown = next((c for c in columns if "不詳" in c), None)
        out["total"] = band_sum(0) + (counts(unknown).fillna(0) if unknown else 0)
        notes.append(f"総数は{len(bands)}の年齢階級"
                     + (f"と「{unknown}」" if unknown else "") + "の合計")
    else:
        raise KenmapError("総人口の列が見つからず（総数, 人口, 合計 … を探しました）、"
                          "年齢階級も0歳から始まっていません。--total-field を指定してください",
                          file=path)
    for fig, age, given, option in (("pop65", 65, pop65_field, "--pop65-field"),
                                    ("pop75", 75, pop75_field, "--pop75-field")):
        if given is not None:
            out[fig] = counts(_pick(columns, given, set(), option, path) or given)
            notes.append(f"{fig} は列「{given}」から")
        elif band_coverage(bands, age):
            out[fig] = band_sum(age)
            n = sum(b.start >= age for b in bands)
            notes.append(f"{fig} は{n}の年齢階級の合計（最上位は {bands[-1].column}）")
        elif (col := reaggregated(columns, age)) is not None:
            out[fig] = counts(col)
            notes.append(f"{fig} は列「{col}」から")
        else:
            out[fig] = np.nan
            if fig == "pop65":
                warnings.append(
                    "65歳以上の人数が見つかりません: 65～69歳から上限のない最上位階級（100歳以上）"
                    "までの5歳階級（男女別・男女計）と65歳以上の列を探しました。"
                    "指定されるまで（--pop65-field）高齢化率と到達圏は 65歳以上が未取込 と表示しま"
                    "す")
    unknown = _unknown_age_column(columns)
    out["age_unknown"] = counts(unknown) if unknown else np.nan
    if unknown:
        notes.append(f"年齢不詳の人数は列「{unknown}」から（総数に含め、どの年齢階級にも含めない）")
    hh = _pick(columns, households_field, HOUSEHOLD_HEADERS, "--households-field", path)
    out["households"] = counts(hh) if hh else np.nan
    for band in bands:
        out[f"age_{band.start}" + (f"_{band.end}" if band.end is not None else "_plus")] = \
            counts(band.column)
    for part, whole, part_label, whole_label, field in (
            ("pop65", "total", "65歳以上", "総数", pop65_field or "65+"),
            ("pop75", "pop65", "75歳以上", "65歳以上", pop75_field or "75+")):
        too_many = out[part] > out[whole]
        if too_many.any():
            i = int(np.flatnonzero(too_many.to_numpy())[0])
            raise KenmapError(f"{part_label}（{out[part].iloc[i]:.0f}）が"
                              f"{whole_label}（{out[whole].iloc[i]:.0f}）より大きくなっています",
                              file=path,
                              row=int(rows.iloc[i]), field=field)
    return out, missing


def widened(table: pd.DataFrame, keys: list[str], path: Path) -> tuple[pd.DataFrame, str | None]:
    """A long table (one row per area and age band, keyed by ``keys``) as one row per area,
    with a note saying so; any other table as it is."""
    columns = [c for c in table.columns if c != ROW]
    if find_bands(columns) or not keys:
        return table, None
    band = long_tables.band_column(table, [k for k in keys if k in columns], ROW)
    if band is None:
        return table, None
    return long_tables.widen(table, keys, band, ROW, str(path))


def import_population(
    ws: Workspace,
    path: str | Path,
    *,
    layer: str,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_name_field: str | None = None,
    total_field: str | None = None,
    pop65_field: str | None = None,
    pop75_field: str | None = None,
    households_field: str | None = None,
    encoding: str | None = None,
    header_rows: int = 1,
    as_of: str | None = None,
    source: str | None = None,
    where: str | None = None,
) -> Report:
    """Join a population table to a layer's areas and store it, all-or-nothing."""
    path = Path(path)
    layer_def = ws.scheme.layer(layer)
    if code_field is not None and name_field is not None:
        raise KenmapError("--code-field と --name-field のどちらか一方だけを指定してください")
    if parent_name_field and not name_field:
        raise KenmapError("--parent-name-field は --name-field と一緒に指定してください")
    if header_rows < 1:
        raise KenmapError("--header-rows は1以上にしてください", field="--header-rows")
    require_iso(as_of)
    areas = ws.read_attributes(layer)
    if len(areas) == 0:
        raise KenmapError(f"区域レイヤ {layer}（{layer_def.label}）にまだ区域がありません。"
                          "先に区域を取り込んでください", field="--layer")
    table = read_people_table(path, encoding, header_rows)
    if where:
        table = filter_rows(table, where).reset_index(drop=True)
    if len(table) == 0:
        raise KenmapError("表に" + (f"--where {where} に合う" if where else "") + "行がありません",
                          file=path)
    table, long_note = widened(table, [str(k) for k in (code_field or name_field,
                                                        parent_name_field) if k], path)
    columns = [c for c in table.columns if c != ROW]
    is_census = estat_tables.is_estat_table(table)
    if code_field is None and name_field is None:
        if not is_census:
            raise KenmapError("--code-field と --name-field のどちらか一方だけを指定してください")
        code_field = next(c for c in columns if str(c).strip().upper() == "KEY_CODE")
    key_field = code_field or name_field
    assert key_field is not None
    _pick(columns, key_field, set(), "--code-field" if code_field else "--name-field", path)
    if parent_name_field:
        _pick(columns, parent_name_field, set(), "--parent-name-field", path)
    report = Report("")
    notes: list[str] = [long_note] if long_note else []
    figures, missing_cells = _figures(table, path, total_field=total_field,
                                      pop65_field=pop65_field, pop75_field=pop75_field,
                                      households_field=households_field, notes=notes,
                                      warnings=report.warnings)

    # -- join ------------------------------------------------------------------------------
    joined = join_rows(ws, table, layer, path, code_field=code_field, name_field=name_field,
                       parent_name_field=parent_name_field, is_census=is_census)
    matched_code, total_row, ambiguous = joined.codes, joined.total_rows, joined.ambiguous
    notes.extend(joined.notes)

    matched = matched_code.notna().to_numpy()
    unmatched = ~matched & ~total_row
    pop = figures["total"]
    considered = pop[~total_row]
    share = float(pop[matched].sum() / considered.sum()) if considered.sum() > 0 else 0.0
    stored = figures[matched].copy()
    stored.insert(0, "code", matched_code[matched].to_numpy())
    # Only figures the file provides can be suppressed; a file without ages has none missing.
    provided = [f for f in ("total", "pop65", "pop75") if figures[f].notna().any()]
    if "age_unknown" in stored.columns and stored["age_unknown"].isna().all():
        stored = stored.drop(columns="age_unknown")
    stored["missing"] = figures.loc[matched, provided].isna().sum(axis=1).to_numpy()

    report.title = (f"人口: {len(table)}行のうち{int(matched.sum())}行を"
                    f"{layer_def.label}（{layer}）に結合。ファイルの人口の {share:.1%} が一致")
    report.notes.extend(notes)
    if total_row.any():
        labels = [f"{table.loc[i, key_field]} ({pop[i]:,.0f})" for i in np.flatnonzero(total_row)]
        report.notes.append(f"合計・小計の{int(total_row.sum())}行を飛ばしました（二重計上しません"
                            "）: "
                            f"{listing(labels)}")
    if unmatched.any():
        labels = []
        for i in np.flatnonzero(unmatched):
            name = table.loc[i, key_field]
            parent = f"{table.loc[i, parent_name_field]} " if parent_name_field else ""
            why = "（候補が複数）" if ambiguous[i] else ""
            count = "秘匿" if np.isnan(pop[i]) else f"{pop[i]:,.0f}"
            labels.append(f"{table.loc[i, ROW]}行目 {parent}{name}{why}: {count}")
        report.warnings.append(f"{int(unmatched.sum())}行がどの区域にも一致しません"
                               f"（{pop[unmatched].sum():,.0f}人）: {listing(labels, 20)}")
    if missing_cells:
        report.notes.append(f"秘匿または空欄のセル {missing_cells}個（X, *, …）は0ではなく"
                            "欠損として扱いました")
    without = areas.loc[~areas["code"].isin(set(stored["code"]))]
    if len(without):
        report.warnings.append(
            f"{layer_def.label}の{len(without)}区域に対応する行がありません: "
            f"{listing([f'{c} {n}' for c, n in zip(without['code'], without['name'])])}")

    info: dict[str, Any] = {
        "file": str(path), "source": source or path.name, "as_of": as_of,
        "rows": len(table), "matched_rows": int(matched.sum()),
        "unmatched_rows": int(unmatched.sum()), "total_rows": int(total_row.sum()),
        "matched_share": share, "suppressed_cells": missing_cells,
        "figures": provided,
    }
    with ws.transaction() as tx:
        kept = {k: dict(v) for k, v in (tx.get(SNAPSHOTS, {}) or {}).items()}
        latest = max((d for d, facts in kept.get(layer, {}).items()
                      if not facts.get("estimate")), default=None)  # projections never current
        current = as_of is None or latest is None or as_of >= latest
        if as_of is not None:  # kept by its base date beside the earlier ones
            tx.write_table(snapshot_table(layer, as_of), stored.reset_index(drop=True))
            kept.setdefault(layer, {})[as_of] = info
            tx.put(SNAPSHOTS, kept)
        if current:
            tx.write_table(table_name(layer), stored.reset_index(drop=True))
            populations = dict(tx.get("population", {}))
            populations[layer] = info
            tx.put("population", populations)
        else:
            report.notes.append(f"基準日 {as_of} は今の人口（基準日 {latest}）より前なので、"
                                f"その時点の人口として残しました（--as-of {str(as_of)[:4]}）")
        tx.record("import population", layer=layer, file=str(path), rows=int(matched.sum()),
                  as_of=as_of)
    report.facts.update({"layer": layer, **info})
    return report
