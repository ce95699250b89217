"""``kenmap stats`` output: a Japanese table, CSV for Excel, or JSON."""

from __future__ import annotations

import json

import pandas as pd

from kenmap.errors import KenmapError
from kenmap.layers.hierarchy import parent_layer
from kenmap.model.catalogue import catalogue_of
from kenmap.people.indicators import extra_figures, field_label
from kenmap.people.stats import (
    COMPARED,
    RATE_BASES,
    STAT_FIELDS,
    compare_stats,
    layer_stats,
    records,
    total_row,
)
from kenmap.render.csv_excel import excel_csv
from kenmap.render.text import fmt_count, fmt_rate, population_source, text_table
from kenmap.workspace import Workspace

#: Short labels so the table stays readable; other types use their own label.
SHORT_LABELS = {"chiku_kyoten": "地区拠点", "hokatsu": "包括", "fukushi_plaza": "プラザ"}


def short_label(key: str, label: str) -> str:
    """The short label of a hub type for the table, else its own ``label``."""
    return SHORT_LABELS.get(key, label)


def _extra_text(name: str, value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if name.endswith("_rate"):
        return fmt_rate(value)
    if name in ("support_ratio", "persons_per_household"):
        return f"{float(str(value)):.2f}"
    return fmt_count(value)


def stats_frame(stats: pd.DataFrame, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of ``stats --format csv``: :data:`STAT_FIELDS` (``hubs`` a mapping of type
    to count), ``missing`` when some areas have suppressed counts, then the ``extra``
    figures (indexed by code); unknown figures are missing, never 0."""
    frame = pd.DataFrame(records(stats))
    for col in STAT_FIELDS:
        if col not in frame.columns:
            frame[col] = None
    frame = frame[STAT_FIELDS + (["missing"] if "missing" in frame.columns else [])]
    if extra is not None:
        for name in extra.columns:
            frame[name] = extra[name].to_numpy()
    return frame


def render_stats(ws: Workspace, layer: str, fmt: str, rate_base: str = "total",
                 fields: list[str] | None = None) -> str:
    """The stats of ``layer`` in the requested format; every form says which denominator
    高齢化率 uses (``rate_base``). ``fields`` adds derived figures and indicators."""
    stats = layer_stats(ws, layer, rate_base)
    viewed = ws.get("viewed_as_of")
    extra, extra_notes = extra_figures(ws, layer, fields) if fields else (pd.DataFrame(), [])
    extra = extra.reindex(stats["code"])
    extra_names = list(extra.columns)
    if fmt == "json":
        total = records(pd.DataFrame([total_row(stats)]))[0]
        return json.dumps({"layer": layer, "label": ws.scheme.layer(layer).label,
                           **({"as_of": viewed, "hubs_as_of": "current"} if viewed else {}),
                           "population_source": ws.get("population", {}),
                           "rate_base": rate_base, "rate_note": RATE_BASES[rate_base],
                           **({"fields": {n: field_label(ws, n) for n in extra_names},
                               "field_notes": extra_notes} if fields else {}),
                           "areas": [{**rec, **{n: _plain(extra.iloc[i][n]) for n in extra_names}}
                                     for i, rec in enumerate(records(stats))],
                           "total": total},
                          ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        frame = stats_frame(stats, extra)
        frame["hubs"] = frame["hubs"].map(lambda h: json.dumps(h, ensure_ascii=False))
        return excel_csv(frame)
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
    head += [field_label(ws, n) for n in extra_names]
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

    for i, rec in enumerate(stats.to_dict(orient="records")):
        table.append(row(rec) + [_extra_text(n, extra.iloc[i][n]) for n in extra_names])
    total = total_row(stats)
    total_cells = row(total)
    if upper is not None:
        total_cells[-1] = ""
    total_cells += [""] * len(extra_names)
    numeric = set(range(2, 9)) | set(range(len(head) - len(extra_names), len(head)))
    lines += text_table(head, table, numeric, footer=[total_cells])
    lines += extra_notes
    lines.append(RATE_BASES[rate_base])
    if viewed:
        lines.append(f"人口は {viewed} 時点。拠点の数は今の拠点です（拠点に開設日・廃止日がない"
                     "ため、その時点の拠点は数えられません）")
    return "\n".join(lines) + "\n"


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def _signed(value: object, rate: bool = False) -> str:
    """A change with its sign (``+1,234``, ``-0.8pt``); ``—`` when unknown."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    number = float(str(value))
    return f"{number:+.1f}pt" if rate else f"{number:+,.0f}"


def render_compare(now_ws: Workspace, then_ws: Workspace, layer: str, fmt: str,
                   rate_base: str, now_label: str, then_label: str) -> str:
    """``stats --compare``: each area's population, 65+ and 高齢化率 at two dates and the
    change, matched by code; areas without a code at the other date are named."""
    now = layer_stats(now_ws, layer, rate_base)
    table = compare_stats(now, layer_stats(then_ws, layer, rate_base))
    new = [f"{c} {n}" for c, n, m in zip(table["code"], table["name"], table["matched"])
           if not m]
    gone = list(table.attrs.get("gone", []))
    then_total = total_row(layer_stats(then_ws, layer, rate_base))
    total = total_row(now)
    columns = ["code", "name"] + [f"{c}{s}" for c in COMPARED for s in ("_then", "", "_change")] \
        + ["hubs_then", "hubs", "hubs_change"]
    catalogue = catalogue_of(now_ws.get("hub_types"))

    def hub_change(change: object) -> str:
        if not isinstance(change, dict) or not change:
            return "—"
        return " ".join(f"{short_label(t, catalogue.types[t].label) if t in catalogue.types else t}"
                        f"{n:+d}" for t, n in sorted(change.items()))

    def clean(value: object) -> object:
        if isinstance(value, dict):
            return value
        if value is None or (isinstance(value, float) and value != value):
            return None
        return value.item() if hasattr(value, "item") else value

    rows = [{k: clean(r.get(k)) for k in [*columns, "matched"]}
            for r in table.to_dict(orient="records")]
    if fmt == "json":
        total_out = {"population": total["population"], "pop65": total["pop65"],
                     "aging_rate": total["aging_rate"]}
        for col in COMPARED:
            total_out[f"{col}_then"] = then_total[col]
            total_out[f"{col}_change"] = None if total[col] is None or then_total[col] is None \
                else total[col] - then_total[col]
        return json.dumps({"layer": layer, "label": now_ws.scheme.layer(layer).label,
                           "as_of": now_label, "compare": then_label, "rate_base": rate_base,
                           "rate_change_unit": "percentage points", "areas": rows,
                           "total": {k: clean(v) for k, v in total_out.items()},
                           "not_matched": new, "gone": gone},
                          ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        frame = pd.DataFrame(rows, columns=[*columns, "matched"])
        for col in ("hubs_then", "hubs", "hubs_change"):
            frame[col] = frame[col].map(lambda h: json.dumps(h, ensure_ascii=False))
        return excel_csv(frame)
    if fmt != "table":
        raise KenmapError(f"形式「{fmt}」は使えません（table, csv, json のいずれか）",
                          field="--format")
    label = now_ws.scheme.layer(layer).label
    head = ["コード", "名称", f"人口 {then_label}", f"人口 {now_label}", "増減",
            f"65歳以上 {then_label}", f"65歳以上 {now_label}", "増減",
            f"高齢化率 {then_label}", f"高齢化率 {now_label}", "差", "拠点の増減"]

    def cells(rec: dict[str, object], name: str) -> list[str]:
        return [str(rec.get("code") or ""), name,
                fmt_count(rec["population_then"]), fmt_count(rec["population"]),
                _signed(rec["population_change"]),
                fmt_count(rec["pop65_then"]), fmt_count(rec["pop65"]), _signed(rec["pop65_change"]),
                fmt_rate(rec["aging_rate_then"]), fmt_rate(rec["aging_rate"]),
                _signed(rec["aging_rate_change"], rate=True), hub_change(rec.get("hubs_change"))]

    body = [cells(r, str(r["name"]) + ("" if r["matched"] else "（比較先なし）")) for r in rows]
    summed: dict[str, int] = {}
    for change in table["hubs_change"]:
        for t, n in change.items():
            summed[t] = summed.get(t, 0) + n
    footer: dict[str, object] = {"code": "", **{c: total[c] for c in COMPARED},
                                 **{f"{c}_then": then_total[c] for c in COMPARED},
                                 "hubs_change": {t: n for t, n in summed.items() if n}}
    for col in COMPARED:
        footer[f"{col}_change"] = None if total[col] is None or then_total[col] is None \
            else total[col] - then_total[col]
    lines = [f"{label}（{layer}） {len(rows)} 区域   {then_label} と {now_label} の比較", ""]
    lines += text_table(head, body, set(range(2, 11)), footer=[cells(footer, "合計")])
    if new:
        lines.append(f"{then_label} に同じコードの区域がないため比較できない区域 {len(new)}: "
                     + "、".join(new[:20]) + (" ほか" if len(new) > 20 else ""))
    if gone:
        lines.append(f"{then_label} にあって {now_label} にない区域 {len(gone)}: "
                     + "、".join(gone[:20]) + (" ほか" if len(gone) > 20 else ""))
    lines.append(RATE_BASES[rate_base] + "。差は高齢化率のポイント差。拠点の増減は開設日・"
                 "廃止日から（日付のない拠点はどちらの時点にもあるものとして数えます）")
    return "\n".join(lines) + "\n"

