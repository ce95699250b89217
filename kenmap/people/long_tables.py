"""Age tables in long form: one row per area and age band (``地区, 年齢, 人口`` or
``町丁, 年齢区分, 男, 女, 計``), turned into one row per area with a column per band."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from kenmap.errors import KenmapError
from kenmap.people.counts import find_bands, parse_counts

#: Count columns of a long table, the one for both sexes first.
_BOTH = ("計", "総数", "合計", "人口", "人数", "人口総数", "count", "population", "total")
_MALE = ("男", "男性", "male")
_FEMALE = ("女", "女性", "female")
_TOTAL_BANDS = {"総数", "計", "合計", "全年齢", "総人口", "年齢計"}


def _norm(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().replace(" ", "")


def band_column(table: pd.DataFrame, keys: list[str], row: str) -> str | None:
    """The column whose values are age bands (``65～69歳``) in most rows, if any."""
    for column in table.columns:
        if column in keys or column == row:
            continue
        values = table[column].dropna().astype(str).map(_norm)
        if len(values) == 0:
            continue
        looks = values.map(lambda v: bool(find_bands([v])) or v in _TOTAL_BANDS)
        if looks.mean() > 0.5 and values.nunique() > 3:
            return str(column)
    return None


def widen(table: pd.DataFrame, keys: list[str], band: str, row: str, file: str
          ) -> tuple[pd.DataFrame, str]:
    """One row per area: a column per band (and ``総数`` where the table has total rows),
    from the count column for both sexes, else 男 + 女. Returns the table and a note."""
    names = {_norm(c): c for c in table.columns if c not in (*keys, band, row)}
    both = next((names[n] for n in _BOTH if n in names), None)
    male = next((names[n] for n in _MALE if n in names), None)
    female = next((names[n] for n in _FEMALE if n in names), None)
    rows = table[row]
    if both is not None:
        counts, _ = parse_counts(table[both], file=file, field=str(both), rows=rows)
        how = f"人数は列「{both}」から"
    elif male is not None and female is not None:
        m, _ = parse_counts(table[male], file=file, field=str(male), rows=rows)
        f, _ = parse_counts(table[female], file=file, field=str(female), rows=rows)
        counts, how = m + f, f"人数は「{male}」+「{female}」の合計"
    else:
        raise KenmapError(f"縦長の表（区域と年齢階級「{band}」ごとに1行）には、"
                          "人口, 人数, 計（または 男 と 女）のような人数の列が必要です", file=file)
    labels = table[band].map(_norm).map(lambda v: "総数" if v in _TOTAL_BANDS else v)
    work = table[keys].copy()
    work["_band"], work["_count"] = labels.to_numpy(), counts.to_numpy()
    dup = work.duplicated(subset=[*keys, "_band"], keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise KenmapError(f"年齢階級「{table[band].iloc[i]}」が同じ区域に2回出てきます",
                          file=file, row=int(rows.iloc[i]), field=str(band))
    wide = work.pivot(index=keys, columns="_band", values="_count")
    first_row = work.assign(_row=rows.to_numpy()).groupby(keys, sort=False)["_row"].min()
    wide = wide.reindex(first_row.index).reset_index()
    wide.columns = [str(c) for c in wide.columns]
    wide[row] = first_row.to_numpy()
    return wide, f"縦長の表（区域と年齢階級「{band}」ごとに1行）を横長にしました。{how}"
