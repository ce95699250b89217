"""``kenmap progress`` output: 目標 / 実績 / 達成率 / 評価 per item, as a table, CSV or JSON."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from kenmap.access.targets import FIELDS, GRADE_TEXT, GRADES
from kenmap.errors import KenmapError
from kenmap.render.csv_excel import excel_csv
from kenmap.render.text import text_table


def _value(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    number = float(str(v))
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"


def render_progress(rows: list[dict[str, Any]], notes: list[str], fmt: str) -> str:
    """The progress rows in the requested format, with the grading rule and a count of
    grades."""
    if fmt == "json":
        return json.dumps({"rows": [{k: r[k] for k in [*FIELDS, "area_name"]} for r in rows],
                           "grades": GRADE_TEXT, "default_thresholds": GRADES,
                           "notes": notes}, ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        return excel_csv(pd.DataFrame(rows, columns=[*FIELDS, "area_name"]))
    if fmt != "table":
        raise KenmapError(f"形式「{fmt}」は使えません（table, csv, json のいずれか）",
                          field="--format")
    head = ["項目", "範囲", "区域", "年度", "基準値", "目標", "実績", "達成率", "評価"]
    body = [[r["item"], "市全体" if r["scope"] == "city" else r["scope"],
             r["area_name"] or r["area_code"] or "—", f"{r['year']}年度", _value(r["baseline"]),
             _value(r["target"]), _value(r["actual"]),
             "—" if r["achievement"] is None else f"{r['achievement']:.0f}%",
             r["grade"] or "—（実績なし）"] for r in rows]
    counts = {g: sum(1 for r in rows if r["grade"] == g) for g in GRADE_TEXT}
    lines = text_table(head, body, {4, 5, 6, 7})
    lines.append("評価: " + "、".join(f"{g} {n}件" for g, n in counts.items()))
    lines.append("評価の基準（達成率）: " + "、".join(
        f"{g}（{GRADE_TEXT[g]}）" + (f"{GRADES[g]:.0f}%以上" if g in ("A", "B") else
                                     "0%超" if g == "C" else "それ以外")
        for g in GRADE_TEXT) + "。表の列 評価A/評価B/評価C で変えられます")
    lines += notes
    return "\n".join(lines) + "\n"
