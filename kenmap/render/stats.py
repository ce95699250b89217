"""``kenmap stats`` output: a Japanese table, CSV for Excel, or JSON."""

from __future__ import annotations

import json

import pandas as pd

from kenmap.errors import KenmapError
from kenmap.layers.hierarchy import parent_layer
from kenmap.model.catalogue import catalogue_of
from kenmap.people.stats import RATE_BASES, STAT_FIELDS, layer_stats, records, total_row
from kenmap.render.csv_excel import excel_csv
from kenmap.render.text import fmt_count, fmt_rate, population_source, text_table
from kenmap.workspace import Workspace

#: Short labels so the table stays readable; other types use their own label.
SHORT_LABELS = {"chiku_kyoten": "地区拠点", "hokatsu": "包括", "fukushi_plaza": "プラザ"}


def short_label(key: str, label: str) -> str:
    """The short label of a hub type for the table, else its own ``label``."""
    return SHORT_LABELS.get(key, label)


def render_stats(ws: Workspace, layer: str, fmt: str, rate_base: str = "total") -> str:
    """The stats of ``layer`` in the requested format; every form says which denominator
    高齢化率 uses (``rate_base``)."""
    stats = layer_stats(ws, layer, rate_base)
    if fmt == "json":
        total = records(pd.DataFrame([total_row(stats)]))[0]
        return json.dumps({"layer": layer, "label": ws.scheme.layer(layer).label,
                           "population_source": ws.get("population", {}),
                           "rate_base": rate_base, "rate_note": RATE_BASES[rate_base],
                           "areas": records(stats), "total": total},
                          ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        rows = records(stats)
        frame = pd.DataFrame(rows)
        for col in STAT_FIELDS:
            if col not in frame.columns:
                frame[col] = None
        frame["hubs"] = frame["hubs"].map(lambda h: json.dumps(h, ensure_ascii=False))
        cols = STAT_FIELDS + (["missing"] if "missing" in frame.columns else [])
        return excel_csv(frame[cols])
    if fmt != "table":
        raise KenmapError(f"形式「{fmt}」は使えません（table, csv, json のいずれか）",
                          field="--format")
    catalogue = catalogue_of(ws.get("hub_types"))
    upper = parent_layer(ws, layer)
    parent_rates: dict[str, float] = {}
    if upper is not None:
        pstats = layer_stats(ws, upper)
        parent_rates = dict(zip(pstats["code"], pstats["aging_rate"]))
        parent_names = dict(zip(pstats["code"], pstats["name"]))
    label = ws.scheme.layer(layer).label
    head = ["コード", "名称", "人口", "65歳以上", "75歳以上", "世帯数", "高齢化率", "後期高齢化率",
            "面積km²", "拠点"]
    if upper is not None:
        head.append(f"{ws.scheme.layer(upper).label}の高齢化率")
    source = population_source(ws.get("population", {}), lambda k: ws.scheme.layer(k).label)
    lines = [f"{label}（{layer}） {len(stats)} 区域   {source}", ""]
    table = []

    def row(rec: dict[str, object]) -> list[str]:
        hubs = rec["hubs"] if isinstance(rec["hubs"], dict) else {}
        hub_text = " ".join(
            f"{short_label(k, catalogue.types[k].label) if k in catalogue.types else k}{n}"
            for k, n in sorted(hubs.items())) or "—"
        cells = [str(rec["code"]), str(rec["name"]), fmt_count(rec["population"]),
                 fmt_count(rec["pop65"]), fmt_count(rec["pop75"]), fmt_count(rec["households"]),
                 fmt_rate(rec["aging_rate"]), fmt_rate(rec["late_aging_rate"]),
                 f"{float(str(rec['area_km2'])):.2f}", hub_text]
        if upper is not None:
            pc = rec.get("parent_code")
            cells.append(f"{fmt_rate(parent_rates.get(str(pc)))} {parent_names.get(str(pc), '')}"
                         if pc else "")
        if rec.get("missing"):
            cells[1] += f" (秘匿・不明 {rec['missing']})"
        return cells

    for rec in stats.to_dict(orient="records"):
        table.append(row(rec))
    total = total_row(stats)
    total_cells = row(total)
    if upper is not None:
        total_cells[-1] = ""
    lines += text_table(head, table, set(range(2, 9)), footer=[total_cells])
    lines.append(RATE_BASES[rate_base])
    return "\n".join(lines) + "\n"
