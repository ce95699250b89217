"""Dates as Japanese offices write them: 2021-04-01, 2021/4/1, 2021年4月1日, 令和3年4月1日,
R3.4.1, H30.4.1 (and an Excel date). Stored as ISO text (YYYY-MM-DD)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

#: Japanese eras: name and one-letter forms → the Gregorian year before the era's year 1.
ERAS = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988, "昭和": 1925, "S": 1925}

_WESTERN = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?$")
_ERA = re.compile(r"^(令和|平成|昭和|[RHS])\s*(元|\d{1,2})[年.\-/](\d{1,2})"
                  r"(?:[月.\-/](\d{1,2})日?)?月?$")
_YEAR = re.compile(r"^(\d{4})年?$")


def parse_date(value: object) -> str | None:
    """``value`` as YYYY-MM-DD (None when blank); a year alone is its 1 January, a month its
    first day. Raises ValueError naming what was expected when it is not a date."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = unicodedata.normalize("NFKC", str(value)).strip().upper().replace(" ", "")
    if not text or text in ("NAN", "NONE", "-", "—"):
        return None
    if text.endswith("00:00:00"):
        text = text[: -len("00:00:00")].rstrip("T")
    found = _WESTERN.match(text)
    era = _ERA.match(text)
    year_only = _YEAR.match(text)
    try:
        if found:
            year, month, day = int(found[1]), int(found[2]), int(found[3] or 1)
        elif era:
            offset = ERAS[era[1]]
            year = offset + (1 if era[2] == "元" else int(era[2]))
            month, day = int(era[3]), int(era[4] or 1)
        elif year_only:
            year, month, day = int(year_only[1]), 1, 1
        else:
            raise ValueError
        return date(year, month, day).isoformat()
    except ValueError:
        raise ValueError(f"「{value}」は日付ではありません（2021-04-01、2021/4/1、令和3年4月1日 "
                         "などの形で書いてください）") from None


def require_iso(text: str | None, option: str = "--as-of") -> None:
    """Refuse ``text`` unless it is an ISO date (YYYY-MM-DD), naming the option."""
    from kenmap.errors import KenmapError

    if text is None:
        return
    try:
        date.fromisoformat(text)
    except ValueError:
        raise KenmapError(f"「{text}」は日付（YYYY-MM-DD）ではありません", field=option) from None

