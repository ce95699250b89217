"""The committee report (``kenmap report``): what a 事務局 hands out at the yearly review.

A cover with the overview of grades, one page per target item with its rows (and, for items
about hubs, the map that explains it: the layer's 高齢化率 with the areas lacking that type),
the city's and the next layer's figures, and the sources. A4 landscape, one PDF.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from kenmap.access.targets import GRADE_TEXT, at_year_end, progress
from kenmap.layers.hierarchy import filled_layers
from kenmap.maps.page import MapOptions
from kenmap.maps.printable import handout_figure
from kenmap.model.files import write_atomic
from kenmap.optional import need
from kenmap.people.stats import layer_stats, records, total_row
from kenmap.render.sources import source_lines
from kenmap.render.text import fmt_count, fmt_rate
from kenmap.workspace import Workspace

_A4_LANDSCAPE = (11.69, 8.27)
#: Rows of one item shown on its page (the rest are counted).
MAX_ROWS = 24
_BLUE = "#08306b"


def _value(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    number = float(str(v))
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"


def _page(plt: Any, title: str, subtitle: str = "") -> Any:
    fig = plt.figure(figsize=_A4_LANDSCAPE)
    fig.text(0.05, 0.94, title, fontsize=18, color=_BLUE)
    if subtitle:
        fig.text(0.05, 0.905, subtitle, fontsize=10, color="#555")
    return fig


def _items(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(f"{row['item']}｜{row['indicator']}｜{row['scope']}", []).append(row)
    return grouped


def write_report(ws: Workspace, targets: Path, year: int, pdf: Path) -> dict[str, Any]:
    """Write the committee report of fiscal ``year``; returns its page count and grades."""
    matplotlib = need("matplotlib", "print", "委員会用の報告書（PDF）")
    need("matplotlib_fontja", "print", "報告書の日本語")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    rows, notes = progress(ws, targets, year)
    top = filled_layers(ws)[0]
    tops = ws.read_attributes(top)
    city = str(tops["name"].iloc[0]) if len(tops) == 1 else "市"
    grades = {g: sum(1 for r in rows if r["grade"] == g) for g in GRADE_TEXT}
    items = _items(rows)
    pages = 0
    buffer = io.BytesIO()
    with plt.rc_context({"pdf.fonttype": 42}), PdfPages(buffer) as document:
        # Cover: the overview of grades and every item's grade(s).
        fig = _page(plt, f"{city} 地域福祉計画 進捗の評価（{year}年度）",
                    f"{year}年度末（{year + 1}年3月31日）時点の実績　作成 {date.today()}　kenmap")
        x = 0.05
        for g, text in GRADE_TEXT.items():
            fig.text(x, 0.80, f"{g}", fontsize=30, color=_BLUE)
            fig.text(x + 0.035, 0.815, f"{grades[g]}件", fontsize=16)
            fig.text(x + 0.035, 0.79, text, fontsize=9, color="#555")
            x += 0.2
        y = 0.70
        for key, mine in items.items():
            item, indicator, scope = key.split("｜")
            counts = {g: sum(1 for r in mine if r["grade"] == g) for g in GRADE_TEXT}
            graded = " ".join(f"{g}{n}" for g, n in counts.items() if n) or "—（実績なし）"
            fig.text(0.06, y, item[:40], fontsize=11)
            fig.text(0.45, y, indicator[:40], fontsize=9, color="#555")
            fig.text(0.80, y, graded if len(mine) > 1 else (mine[0]["grade"] or "—"),
                     fontsize=11, color=_BLUE)
            y -= 0.035
            if y < 0.12:
                break
        for i, note in enumerate(notes):
            fig.text(0.06, 0.08 - 0.02 * i, note, fontsize=8, color="#555")
        document.savefig(fig)
        plt.close(fig)
        pages += 1

        # One page per item: its rows, then the map that explains it.
        for key, mine in items.items():
            item, indicator, scope = key.split("｜")
            where = "市全体" if scope == "city" else scope
            fig = _page(plt, item, f"指標 {indicator}　範囲 {where}　{year}年度")
            head = ["区域", "基準値", "目標", "実績", "達成率", "評価"]
            xs = [0.06, 0.42, 0.52, 0.62, 0.74, 0.84]
            for x, h in zip(xs, head):
                fig.text(x, 0.84, h, fontsize=10, color=_BLUE)
            shown = sorted(mine, key=lambda r: (r["achievement"] is None,
                                                r["achievement"] or 0))[:MAX_ROWS]
            y = 0.81
            for r in shown:
                cells = [r["area_name"] or ("市全体" if r["scope"] == "city" else
                                            str(r["area_code"])),
                         _value(r["baseline"]), _value(r["target"]), _value(r["actual"]),
                         "—" if r["achievement"] is None else f"{r['achievement']:.0f}%",
                         f"{r['grade'] or '—'}（{GRADE_TEXT.get(r['grade'] or '', '実績なし')}）"]
                for x, c in zip(xs, cells):
                    fig.text(x, y, str(c)[:24], fontsize=9)
                y -= 0.028
            if len(mine) > MAX_ROWS:
                fig.text(0.06, y, f"ほか {len(mine) - MAX_ROWS} 区域（達成率の低い順に表示）",
                         fontsize=9, color="#555")
            document.savefig(fig)
            plt.close(fig)
            pages += 1
            parts = indicator.replace("：", ":").split(":")
            if parts[0] in ("hubs", "拠点数", "coverage", "充足率"):
                from kenmap.model.catalogue import catalogue_of

                hub_type = catalogue_of(ws.get("hub_types")).key_of(parts[1], "指標")
                layer = ws.scheme.key_of(parts[2], "指標") if len(parts) > 2 else \
                    (ws.scheme.key_of(scope, "範囲") if scope != "city" else
                     filled_layers(ws)[min(1, len(filled_layers(ws)) - 1)])
                view, _ = at_year_end(ws, year)
                radius = float(parts[3]) if len(parts) > 3 else None
                fig, _ = handout_figure(view, layer, MapOptions(hub_type=hub_type,
                                                                radius=radius))
                document.savefig(fig)
                plt.close(fig)
                pages += 1

        # The city's and the next layer's figures, and the sources.
        layers = filled_layers(ws)
        below = layers[1] if len(layers) > 1 else layers[0]
        view, _ = at_year_end(ws, year)
        fig = _page(plt, f"{city}と{ws.scheme.layer(below).label}の状況",
                    f"{year}年度末時点の人口で集計")
        stats = records(layer_stats(view, below))
        total = records(pd.DataFrame([total_row(layer_stats(view, below))]))[0]
        head = ["", "人口", "65歳以上", "高齢化率", "75歳以上", "世帯数"]
        xs = [0.06, 0.34, 0.46, 0.58, 0.70, 0.82]
        for x, h in zip(xs, head):
            fig.text(x, 0.84, h, fontsize=10, color=_BLUE)
        y = 0.81
        for rec in [*stats[:20], {**total, "name": f"{city}（合計）"}]:
            cells = [rec["name"], fmt_count(rec["population"]), fmt_count(rec["pop65"]),
                     fmt_rate(rec["aging_rate"]), fmt_count(rec["pop75"]),
                     fmt_count(rec["households"])]
            for x, c in zip(xs, cells):
                fig.text(x, y, str(c)[:24], fontsize=9)
            y -= 0.028
        y -= 0.02
        fig.text(0.06, y, "出典", fontsize=10, color=_BLUE)
        for line in source_lines(ws):
            y -= 0.022
            fig.text(0.06, y, line[:110], fontsize=8, color="#555")
        document.savefig(fig)
        plt.close(fig)
        pages += 1
    write_atomic(pdf, buffer.getvalue())
    return {"pdf": str(pdf), "pages": pages, "grades": grades, "items": len(items)}
