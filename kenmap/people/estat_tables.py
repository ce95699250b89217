"""e-Stat 小地域集計 tables (census small-area tables such as ``tblT001082C{code}.txt``).

Their layout: a row of codes (``KEY_CODE, HYOSYO, CITYNAME, NAME, HTKSYORI, HTKSAKI, GASSAN,
T001082001, …``), then a row of labels (``総数、年齢「不詳」含む``, ``総数０～４歳``, …), then one
row per area. ``HYOSYO`` is the level: 1 the municipality, 2 a 町・大字, 3 a 町・大字 that is the
subtotal of its 字・丁目 (level 4). ``HTKSYORI`` marks 秘匿処理: a suppressed area (1) has its
people counted in the area named by ``HTKSAKI``. Codes are 9 digits (町・大字) or 11 (字・丁目).
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from kenmap.model.report import listing

#: The code columns every 小地域集計 table starts with.
ID_COLUMNS = ("KEY_CODE", "HYOSYO", "CITYNAME", "NAME", "HTKSYORI", "HTKSAKI", "GASSAN")


def _norm(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().upper()


def is_estat_table(table: pd.DataFrame) -> bool:
    """True for a table read with the code row as its header and the label row first."""
    names = {_norm(c) for c in table.columns}
    return {"KEY_CODE", "HYOSYO"} <= names


def with_labels(table: pd.DataFrame, row_column: str) -> tuple[pd.DataFrame, bool]:
    """The table with its statistics columns named by the label row (``総数０～４歳``) instead
    of their codes, and the label row dropped; unchanged when the first row holds no labels
    (a file whose header already has them). Returns (table, relabelled)."""
    if len(table) == 0:
        return table, False
    columns = {c: _norm(c) for c in table.columns if c != row_column}
    key = next(c for c, n in columns.items() if n == "KEY_CODE")
    first = table.iloc[0]
    stats = [c for c, n in columns.items() if n not in ID_COLUMNS]
    labels = [str(first[c]).strip() for c in stats]
    is_label_row = (not str(first[key]).strip() or str(first[key]).strip().lower() == "nan") \
        and any(lbl and not _looks_numeric(lbl) for lbl in labels)
    if not is_label_row:
        return table, False
    renamed = {c: (lbl if lbl and lbl.lower() != "nan" else str(c)) for c, lbl in
               zip(stats, labels)}
    renamed.update({c: n for c, n in columns.items() if n in ID_COLUMNS})
    out = table.iloc[1:].rename(columns=renamed).reset_index(drop=True)
    return out, True


def _looks_numeric(text: str) -> bool:
    try:
        float(unicodedata.normalize("NFKC", text).replace(",", ""))
    except ValueError:
        return False
    return True


def level_rows(table: pd.DataFrame, matched: np.ndarray, codes: pd.Series
               ) -> tuple[np.ndarray, np.ndarray]:
    """Rows that are the municipality's total (HYOSYO 1) and parents' subtotals (HYOSYO 3,
    or a 町・大字 whose 字・丁目 are in the table), among the rows that matched no area."""
    level = pd.to_numeric(table["HYOSYO"], errors="coerce").to_numpy()
    city = (level == 1) & ~matched
    text = codes.fillna("").astype(str)
    longer = text[text.str.len() > 9]
    parents = set(longer.str[:9])
    subtotal = ~matched & ~city & ((level == 3) | text.isin(parents).to_numpy())
    return city, subtotal


def suppression_notes(table: pd.DataFrame, code_column: str) -> list[str]:
    """What 秘匿処理 did: which areas' people are counted in which other area."""
    if "HTKSYORI" not in table.columns:
        return []
    flag = pd.to_numeric(table["HTKSYORI"], errors="coerce").fillna(0).to_numpy()
    suppressed = np.flatnonzero(flag == 1)
    if len(suppressed) == 0:
        return []
    names = table["NAME"] if "NAME" in table.columns else table[code_column]
    moves = []
    for i in suppressed:
        target = str(table["HTKSAKI"].iloc[i]).strip() if "HTKSAKI" in table.columns else ""
        moves.append(f"{table[code_column].iloc[i]} {names.iloc[i]} → "
                     f"{target if target and target.lower() != 'nan' else '?'}")
    return [f"e-Stat で秘匿された区域 {len(suppressed)}（秘匿処理, HTKSYORI=1）: ここでは"
            "数値が欠損となり、その人数は HTKSAKI で示された区域に含まれています: "
            f"{listing(moves)}"]
