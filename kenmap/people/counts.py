"""Census-style count cells and age-band headers, as real tables write them."""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kenmap.errors import KenmapError

#: Cells meaning "0" in Japanese statistical tables.
ZERO_MARKS = {"-", "－", "−", "―", "‐", "ー"}
#: Cells meaning "suppressed / unknown" (秘匿, 不詳): kept as missing, never 0.
SUPPRESSED_MARKS = {"x", "X", "*", "…", "...", "・・・", "･･･", "χ", "", "nan"}

_RANGE = re.compile(r"(\d+)\s*[歳才]?\s*[~〜～\-－−‐―ー]\s*(\d+)\s*[歳才]?")
_OPEN = re.compile(r"(\d+)\s*[歳才]?\s*以上")
#: How tables say which sex a column counts: prefixes (男0～4歳), suffixes (65～69歳（男）).
_MALE = re.compile(r"^(男性?|male)|[(（]男性?[)）]|男性?$|_男$")
_FEMALE = re.compile(r"^(女性?|female)|[(（]女性?[)）]|女性?$|_女$")


def sex_of(column: str) -> str:
    """``male``, ``female`` or ``all`` (総数, 計, or no sex named) for a column heading."""
    text = unicodedata.normalize("NFKC", str(column)).replace(" ", "").split("/")[-1]
    if _MALE.search(text):
        return "male"
    if _FEMALE.search(text):
        return "female"
    return "all"


@dataclass(frozen=True)
class Band:
    """A 5-year age band (``end`` None for the open top band such as 100歳以上)."""

    column: str
    start: int
    end: int | None
    sex: str = "all"


def parse_counts(values: pd.Series, *, file: str, field: str, rows: pd.Series
                 ) -> tuple[pd.Series, int]:
    """Counts from text cells: ``-`` is 0; ``X``, ``*``, ``…`` and blanks are missing.

    Returns the counts (float, NaN where missing) and how many cells were missing.
    Negative, fractional or non-numeric cells are errors naming the row.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float)
        missing_mask = numbers.isna()
    else:
        numbers = pd.to_numeric(values.astype("string"), errors="coerce").astype(float)
        missing_mask = pd.Series(False, index=values.index)
        rest = numbers.isna()
        if rest.any():  # the few cells that are not plain numbers: marks, commas, 全角
            text = values[rest].astype("string").str.normalize("NFKC").str.strip().str.replace(
                ",", "", regex=False)
            zero = text.isin(ZERO_MARKS).fillna(False).astype(bool)
            gone = (text.isna() | text.isin(SUPPRESSED_MARKS)).fillna(True).astype(bool)
            parsed = pd.to_numeric(text.where(~zero & ~gone), errors="coerce").astype(float)
            parsed[zero] = 0.0
            bad = parsed.isna() & ~gone
            if bad.any():
                i = int(np.flatnonzero(rest.to_numpy())[np.flatnonzero(bad.to_numpy())[0]])
                raise KenmapError(f"「{values.iloc[i]}」は人数ではありません", file=file,
                                  row=int(rows.iloc[i]), field=field)
            numbers[rest] = parsed
            missing_mask[rest] = gone
    negative = numbers < 0
    if negative.any():
        i = int(np.flatnonzero(negative.to_numpy())[0])
        raise KenmapError(f"人数が負の値です: {values.iloc[i]}", file=file, row=int(rows.iloc[i]),
                          field=field)
    fractional = numbers.notna() & (numbers != np.floor(numbers))
    if fractional.any():
        i = int(np.flatnonzero(fractional.to_numpy())[0])
        raise KenmapError(f"「{values.iloc[i]}」は人数として整数ではありません", file=file,
                          row=int(rows.iloc[i]), field=field)
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        i = int(np.flatnonzero(infinite)[0])
        raise KenmapError(f"「{values.iloc[i]}」は人数ではありません", file=file,
                          row=int(rows.iloc[i]), field=field)
    return pd.Series(numbers.to_numpy(), index=values.index), int(missing_mask.sum())


def find_bands(columns: list[str]) -> list[Band]:
    """The 5-year age bands among column headers, with the open top band.

    Recognises ``65～69歳``, ``65-69``, ``65〜69``, ``65歳～69歳``, ``100歳以上``,
    ``100歳  以上`` and two-row headers flattened to one string. Columns marked 再掲
    (re-tabulations such as ``（再掲）65歳以上``) are never bands.
    """
    found = bands_by_sex(columns)
    if found.get("all"):
        return found["all"]
    return found.get("male") or found.get("female") or []


def bands_by_sex(columns: list[str]) -> dict[str, list[Band]]:
    """The 5-year age bands of each sex present (``all`` for 総数 or unnamed), each list with
    its open top band, as :func:`find_bands` reads them."""
    bands: dict[str, list[Band]] = {}
    opens: dict[str, list[Band]] = {}
    for col in columns:
        full = unicodedata.normalize("NFKC", str(col)).replace(" ", "")
        if "再掲" in full:
            continue
        # Two-row headers arrive as "group / band": the band is in the lowest row; the sex may
        # be in any row ("男 / 65～69歳").
        text = full.split("/")[-1]
        sex = sex_of(text)
        if sex == "all":
            sex = next((sex_of(part) for part in full.split("/")[:-1]
                        if sex_of(part) != "all"), "all")
        match = _RANGE.search(text)
        if match:
            start, end = int(match.group(1)), int(match.group(2))
            if end - start == 4 and start % 5 == 0:
                bands.setdefault(sex, []).append(Band(str(col), start, end, sex))
            continue
        match = _OPEN.search(text)
        if match:
            opens.setdefault(sex, []).append(Band(str(col), int(match.group(1)), None, sex))
    out = {}
    for sex, found in bands.items():
        top = max(b.start for b in found) + 5
        found = found + [b for b in opens.get(sex, []) if b.start == top]
        out[sex] = sorted(found, key=lambda b: b.start)
    return out


def reaggregated(columns: list[str], age: int) -> str | None:
    """A column holding ``age``歳以上 for both sexes directly (``（再掲）65歳以上``,
    ``総数65歳以上``, ``65才以上``), if any."""
    for col in columns:
        text = unicodedata.normalize("NFKC", str(col)).replace(" ", "")
        match = _OPEN.search(text)
        if match and int(match.group(1)) == age and not _RANGE.search(text) and \
                sex_of(text) == "all":
            return str(col)
    return None


def band_coverage(bands: list[Band], start: int) -> bool:
    """True when bands run without a gap from ``start`` to an open top band."""
    ages = [b for b in bands if b.start >= start]
    if not ages or ages[0].start != start or ages[-1].end is not None:
        return False
    return all(b2.start == b1.start + 5 for b1, b2 in itertools.pairwise(ages))
