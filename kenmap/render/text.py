"""Formatting figures for people: counts, rates, aligned tables of Japanese text."""

from __future__ import annotations

import math
import unicodedata
from typing import Any


def fmt_count(value: object) -> str:
    """A whole count with thousands separators (``12,345``); ``—`` when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{round(float(value)):,}"  # type: ignore[arg-type]  # estimates are fractional


def fmt_rate(value: object) -> str:
    """A percentage to one decimal (``34.5%``); ``—`` when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):.1f}%"  # type: ignore[arg-type]


def display_width(text: str) -> int:
    """Columns a string takes in a terminal (全角 characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    space = " " * (width - display_width(text))
    return space + text if right else text + space


def text_table(head: list[str], rows: list[list[str]], right: set[int],
               footer: list[list[str]] | None = None) -> list[str]:
    """Lines of an aligned table for Japanese text; ``right`` holds the numeric columns."""
    every = [head, *rows, *(footer or [])]
    widths = [max(display_width(r[i]) for r in every) for i in range(len(head))]
    rule = ["-" * w for w in widths]
    lines = []
    for cells in [head, rule, *rows, *([rule, *footer] if footer else [])]:
        lines.append("  ".join(_pad(c, w, right=i in right) for i, (c, w) in
                               enumerate(zip(cells, widths))).rstrip())
    return lines


def population_source(meta: dict[str, Any], label_of: Any = None) -> str:
    """``人口: 出典（基準日 …）`` from the workspace's population metadata.

    With ``label_of`` (layer key → label) each source names the layer it was given for.
    """
    parts = []
    for layer, info in (meta or {}).items():
        as_of = f"（基準日 {info['as_of']}）" if info.get("as_of") else ""
        where = f" [{label_of(layer)}]" if label_of else ""
        parts.append(f"{info.get('source', '')}{as_of}{where}")
    return "人口: " + ("; ".join(dict.fromkeys(parts)) if parts else "未登録")
