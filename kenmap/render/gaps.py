"""``kenmap gaps`` and ``kenmap coverage`` output: Japanese tables, CSV or JSON."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from kenmap.access.gaps import GAP_FIELDS
from kenmap.errors import KenmapError
from kenmap.layers.hierarchy import parent_layer
from kenmap.model.catalogue import catalogue_of
from kenmap.render.csv_excel import excel_csv
from kenmap.render.text import fmt_count, fmt_rate, text_table
from kenmap.workspace import Workspace


def gap_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready gap rows with exactly the documented fields (column by column: a list per
    field, then zipped, so 6,000 areas take milliseconds)."""
    columns = []
    for key in GAP_FIELDS:
        series = table[key]
        if key in ("pop65", "pop65_reached"):
            series = series.astype(float).round(3)
        values = series.astype(object).where(series.notna(), None).tolist()
        columns.append([v.item() if hasattr(v, "item") else v for v in values]
                       if series.dtype == object else values)
    return [dict(zip(GAP_FIELDS, row)) for row in zip(*columns)]


def render_gaps(ws: Workspace, table: pd.DataFrame, fmt: str) -> str:
    """A :func:`~kenmap.access.gaps.gap_table` as ``table``, ``csv`` or ``json`` text; the
    table also counts lacking areas per parent area."""
    attrs = table.attrs
    records = gap_records(table)
    if fmt == "json":
        return json.dumps({"layer": attrs["layer"], "radius_m": attrs["radius_m"],
                           "radius_min": attrs.get("radius_min"),
                           "measure": attrs.get("measure", "straight"),
                           "detour": attrs["detour"], "cell_m": attrs["cell_m"],
                           "with_planned": attrs["with_planned"], "areas": records},
                          ensure_ascii=False) + "\n"
    if fmt == "csv":
        return excel_csv(pd.DataFrame(records, columns=GAP_FIELDS))
    if fmt != "table":
        raise KenmapError(f"形式「{fmt}」は使えません（table, csv, json のいずれか）",
                          field="--format")
    layer = attrs["layer"]
    label = ws.scheme.layer(layer).label
    hub_type = table["hub_type"].iloc[0] if len(table) else ""
    type_label = catalogue_of(ws.get("hub_types")).get(hub_type).label if hub_type else ""
    radius = attrs["radius_m"] or attrs.get("radius_min")
    unit = attrs.get("unit", "m")
    measure = attrs.get("measure_text") or f"直線距離×迂回係数{attrs['detour']}"
    how = (f"{radius:.0f}{unit}圏（{measure}）、"
           f"65歳以上の{attrs['min_reach']:.0f}%未満を不足" if radius else
           f"{label}内の{type_label}の有無（担当区域を含む）")
    planned = "、計画中を含む" if attrs["with_planned"] else ""
    lacking = int(table["lacking"].sum())
    lines = [f"{type_label}の不足する{label}: {lacking} / {len(table)}（{how}{planned}）", ""]
    rows = []
    for rec in records:
        rows.append([rec["code"], rec["name"], "不足" if rec["lacking"] else "", rec["reason"],
                     str(rec["hubs_inside"]), fmt_count(rec["pop65"]),
                     fmt_count(rec["pop65_reached"]), fmt_rate(rec["reach_rate"]),
                     "—" if rec["nearest_hub_m"] is None else f"{rec['nearest_hub_m']:,.0f}m"])
    head = ["コード", "名称", "不足", "理由", "区域内", "65歳以上", "圏内65歳以上", "圏内率",
            "最寄りまで"]
    lines += text_table(head, rows, {4, 5, 6, 7, 8})
    upper = parent_layer(ws, layer)
    if upper is not None:
        parents = ws.read_attributes(upper)
        children = ws.read_attributes(layer)
        parent_of = dict(zip(children["code"], children["parent_code"]))
        frame = table.assign(parent=table["code"].map(parent_of))
        summary = frame.groupby("parent").agg(n=("code", "size"), lacking=("lacking", "sum"))
        lines += ["", f"{ws.scheme.layer(upper).label}ごとの不足数"]
        prow = []
        for code, name in zip(parents["code"], parents["name"]):
            if code in summary.index:
                n, k = int(summary.at[code, "n"]), int(summary.at[code, "lacking"])
                prow.append([code, name, f"{k} / {n}"])
        lines += text_table(["コード", "名称", f"{type_label}の不足する{label}"], prow, {2})
    return "\n".join(lines) + "\n"


def render_gaps_compare(ws: Workspace, now: pd.DataFrame, then: pd.DataFrame, fmt: str,
                        now_label: str, then_label: str) -> str:
    """Two :func:`~kenmap.access.gaps.gap_table` of the same layer and type at two dates:
    each area lacking then and now, its reach rate then and now, and what changed."""
    before = then.set_index("code")
    rows = []
    for rec in gap_records(now):
        old = before.loc[rec["code"]] if rec["code"] in before.index else None
        was = None if old is None else bool(old["lacking"])
        then_rate = None if old is None or pd.isna(old["reach_rate"]) else \
            float(old["reach_rate"])
        change = "—" if was is None else "新たに不足" if rec["lacking"] and not was else \
            "解消" if was and not rec["lacking"] else "不足のまま" if was else ""
        rows.append({"code": rec["code"], "name": rec["name"], "lacking_then": was,
                     "lacking": rec["lacking"], "change": change,
                     "reach_rate_then": then_rate, "reach_rate": rec["reach_rate"],
                     "pop65_then": None if old is None or pd.isna(old["pop65"])
                     else float(old["pop65"]), "pop65": rec["pop65"]})
    attrs = now.attrs
    counts = {"then": int(then["lacking"].sum()), "now": int(now["lacking"].sum())}
    if fmt == "json":
        return json.dumps({"layer": attrs["layer"], "radius_m": attrs["radius_m"],
                           "as_of": now_label, "compare": then_label, "lacking": counts,
                           "areas": rows}, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return excel_csv(pd.DataFrame(rows))
    if fmt != "table":
        raise KenmapError(f"形式「{fmt}」は使えません（table, csv, json のいずれか）",
                          field="--format")
    label = ws.scheme.layer(attrs["layer"]).label
    hub_type = now["hub_type"].iloc[0] if len(now) else ""
    type_label = catalogue_of(ws.get("hub_types")).get(hub_type).label if hub_type else ""
    lines = [f"{type_label}の不足する{label}: {then_label} {counts['then']} → {now_label} "
             f"{counts['now']}（{counts['now'] - counts['then']:+d}）", ""]
    changed = [r for r in rows if r["change"] in ("新たに不足", "解消")]
    table = [[r["code"], r["name"], r["change"], fmt_rate(r["reach_rate_then"]),
              fmt_rate(r["reach_rate"])] for r in changed]
    lines += text_table(["コード", "名称", "変化", f"圏内率 {then_label}", f"圏内率 {now_label}"],
                        table, {3, 4}) if table else ["（不足が変わった区域はありません）"]
    return "\n".join(lines) + "\n"


def render_coverage(ws: Workspace, result: dict[str, Any], fmt: str) -> str:
    """A :func:`~kenmap.access.gaps.coverage` result as ``table`` or ``json`` text."""
    if fmt == "json":
        return json.dumps(result, ensure_ascii=False, indent=1) + "\n"
    if fmt != "table":
        raise KenmapError(f"形式「{fmt}」は使えません（table か json）", field="--format")
    keys = list(next(iter(result["types"].values()))["layers"]) if result["types"] else []
    labels = [ws.scheme.layer(k).label for k in keys]
    head = ["拠点の種類", "数", "市全体 65歳以上の圏内率", *[f"{lb} 不足" for lb in labels]]
    rows = []
    for entry in result["types"].values():
        city = entry["city"]
        radius = f"{result['minutes']:g}分" if result.get("measure") == "minutes" else \
            f"{entry['radius_m']:.0f}m" if entry["radius_m"] else None
        reach = f"{fmt_rate(city.get('reach_rate'))}（{radius}）" if radius else "—（半径なし）"
        cells = [entry["label"], str(entry["hubs"]), reach]
        for key in keys:
            lay = entry["layers"][key]
            mark = "★" if key == entry.get("expected_layer") else ""
            cells.append(f"{mark}{lay['lacking']}/{lay['areas']} ({lay['lacking_share']:.0f}%)")
        rows.append(cells)
    planned = "（計画中を含む）" if result["with_planned"] else ""
    measure = {"network": "道路に沿った距離", "minutes": "道路に沿った徒歩時間"}.get(
        result.get("measure", "straight"), f"直線距離×迂回係数 {result['detour']}")
    lines = [f"拠点の充足状況{planned}  65歳以上 {fmt_count(result['pop65'])}人、{measure}、"
             f"需要セル {result['cell_m']:.0f}m", ""]
    lines += text_table(head, rows, set(range(1, len(head))))
    lines.append("★ その種類の拠点がすべての区域にあるべき階層")
    for entry in result.get("activities", []):
        lines.append(f"活動「{entry['activity']}」（{ws.scheme.layer(entry['layer']).label}、"
                     f"{entry['year']}年度）: 実施 {entry['done']} / {entry['areas']}区域"
                     f"（実施率 {entry['share']:.1f}%）")
    return "\n".join(lines) + "\n"


def render_coverage_compare(ws: Workspace, now: dict[str, Any], then: dict[str, Any],
                            fmt: str, now_label: str, then_label: str) -> str:
    """Two :func:`~kenmap.access.gaps.coverage` results: per hub type the number of hubs,
    the city's reach rate and each layer's lacking areas, then and now."""
    types = {}
    for key, entry in now["types"].items():
        old = then["types"].get(key, {})
        layers = {k: {"lacking_then": old.get("layers", {}).get(k, {}).get("lacking"),
                      "lacking": v["lacking"], "areas": v["areas"]}
                  for k, v in entry["layers"].items()}
        types[key] = {"label": entry["label"], "hubs_then": old.get("hubs"),
                      "hubs": entry["hubs"], "radius_m": entry["radius_m"],
                      "reach_rate_then": old.get("city", {}).get("reach_rate"),
                      "reach_rate": entry["city"].get("reach_rate"), "layers": layers}
    if fmt == "json":
        return json.dumps({"as_of": now_label, "compare": then_label, "types": types},
                          ensure_ascii=False, indent=1) + "\n"
    if fmt != "table":
        raise KenmapError(f"形式「{fmt}」は使えません（table か json）", field="--format")
    keys = list(next(iter(types.values()))["layers"]) if types else []
    head = ["拠点の種類", f"数 {then_label}→{now_label}", "市全体の圏内率",
            *[f"{ws.scheme.layer(k).label} 不足" for k in keys]]
    rows = []
    for entry in types.values():
        reach = (f"{fmt_rate(entry['reach_rate_then'])}→{fmt_rate(entry['reach_rate'])}"
                 if entry["radius_m"] else "—（半径なし）")
        cells = [entry["label"], f"{entry['hubs_then']}→{entry['hubs']}", reach]
        cells += [f"{lay['lacking_then']}→{lay['lacking']}/{lay['areas']}"
                  for lay in entry["layers"].values()]
        rows.append(cells)
    lines = [f"拠点の充足状況 {then_label} と {now_label} の比較", ""]
    lines += text_table(head, rows, set(range(1, len(head))))
    return "\n".join(lines) + "\n"

