"""CSV for Excel: UTF-8 text whose cells can never run as formulas.

OWASP's rule for CSV injection: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return is read by Excel as a formula (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``), so
it is written with a leading apostrophe, which Excel shows as plain text. Numbers stay numbers.
"""

from __future__ import annotations

import io

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell made safe for Excel; anything else unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def excel_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV text (CRLF lines) with every text cell neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [str(neutralise(str(c))) for c in safe.columns]
    buf = io.StringIO()
    safe.to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue()
