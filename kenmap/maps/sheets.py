"""地域カルテ: one A4 page per area (PDF) or one section per area (HTML), from
:func:`kenmap.access.sheets.area_sheets`."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

from kenmap.access.sheets import area_sheets
from kenmap.hubs.table import counting, read_hubs
from kenmap.layers.hierarchy import child_layer
from kenmap.maps.escape import text as esc
from kenmap.maps.style import GAP_COLOUR
from kenmap.model.catalogue import catalogue_of
from kenmap.model.files import write_atomic
from kenmap.optional import need
from kenmap.render.sources import source_lines
from kenmap.render.text import fmt_count, fmt_rate
from kenmap.workspace import Workspace

_A4_PORTRAIT = (8.27, 11.69)
#: Height of one line (figure fraction) at a font size, with line spacing 1.6 on A4.
_LINE = {8.5: 0.0162, 9: 0.0171, 11: 0.021}
_ROWS = [("人口", "population", fmt_count), ("65歳以上", "pop65", fmt_count),
         ("高齢化率", "aging_rate", fmt_rate), ("75歳以上", "pop75", fmt_count),
         ("後期高齢化率", "late_aging_rate", fmt_rate), ("世帯数", "households", fmt_count)]


def _wrap(text: str, width: int = 58) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def _num(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    number = float(str(v))
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"


def _lines(sheet: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The text blocks of a sheet below its tables: heading and lines."""
    blocks = []
    lack = sheet["lacking"]
    if lack["layer"]:
        head = f"{lack['hub_type']}のない{lack['label']}"
        if lack["areas"] is None:
            body = ["人口が未登録のため判定できません"]
        else:
            names = "、".join(a["name"] for a in lack["areas"]) or "なし"
            body = _wrap(f"{len(lack['areas'])} / {lack['of']}: {names}")
        blocks.append((head, body))
    if sheet["indicators"]:
        blocks.append(("指標", [
            f"{i['label']}: " + ("—" if i["value"] is None else
                                 fmt_rate(i["value"]) if i["rate"] else fmt_count(i["value"]))
            + ("" if i["value"] is not None or not i["note"] else f"（{i['note']}）")
            for i in sheet["indicators"]]))
    if sheet.get("kpi"):
        blocks.append(("目標の評価", [
            f"{r['item']}（{r['year']}年度）: 実績 {_num(r['actual'])} / 目標 "
            f"{_num(r['target'])}、達成率 "
            + ("—" if r["achievement"] is None else f"{r['achievement']:.0f}%")
            + f"、評価 {r['grade'] or '—'}" for r in sheet["kpi"]]))
    if sheet["activities"]:
        blocks.append(("活動", [f"{a['activity']}（{a['year']}年度）: "
                               + ("—" if a["share"] is None else
                                  "実施" if a["share"] == 100 and sheet["lacking"]["layer"]
                                  is None else f"実施率 {a['share']:.0f}%")
                               for a in sheet["activities"]]))
    return blocks


def _draw_sheet(fig: Any, sheet: dict[str, Any], city_name: str, area: Any, kids: Any,
                points: Any) -> None:
    """One page: title, a small map, figures beside parent and city, trend, hubs, lists."""
    figure_text = fig.text
    name = sheet["area"]["name"]
    figure_text(0.06, 0.962, f"{city_name} {sheet['label']} {name}", fontsize=17,
                va="center")
    figure_text(0.06, 0.94, f"地域カルテ（コード {sheet['code']}）", fontsize=10,
                color="#555", va="center")
    ax = fig.add_axes((0.06, 0.66, 0.36, 0.26))
    ax.set_axis_off()
    # Collections drawn directly (geopandas' plot redraws the figure on every call).
    ax.add_collection(_polygons(area.geometry, facecolor="#fdd49e", edgecolor="#333",
                                linewidth=1.2))
    if kids is not None and len(kids):
        lacking = {a["code"] for a in sheet["lacking"]["areas"] or []}
        ax.add_collection(_polygons(kids.geometry, facecolor="none", edgecolor="#777",
                                    linewidth=0.4))
        gaps = kids[kids["code"].isin(lacking)]
        if len(gaps):
            ax.add_collection(_polygons(gaps.geometry, facecolor="none",
                                        edgecolor=GAP_COLOUR, hatch="////", linewidth=0.8))
    if points is not None and len(points):
        ax.scatter(points["x"], points["y"], s=14, c=points["colour"], edgecolors="white",
                   linewidths=0.5, zorder=5)
    minx, miny, maxx, maxy = area.total_bounds
    pad = 0.04 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")

    # Columns of lines, one text each (a text per cell made a sheet four times slower);
    # with this line spacing every line advances the same height, so columns stay aligned.
    def column(x: float, y: float, lines: list[str], size: float = 9, **style: Any) -> float:
        if lines:
            figure_text(x, y, "\n".join(lines), fontsize=size, va="top", linespacing=1.6,
                        **style)
        return y - _LINE[size] * len(lines)

    head = ["", name, sheet["parent"]["name"] if sheet["parent"] else "", city_name]
    top = 0.915
    column(0.47, top, [""] + [label for label, _, _ in _ROWS])
    for i, x in enumerate((0.68, 0.81, 0.94)):
        who = ("area", "parent", "city")[i]
        values = [fn(sheet[who][k]) if sheet[who] else "" for _, k, fn in _ROWS]
        column(x, top, [head[i + 1][:9]], color="#08306b", ha="right")
        column(x, top - _LINE[9], values, ha="right")
    hubs_count = " ".join(f"{k} {n}" for k, n in sorted(sheet["hubs_count"].items()))
    y = 0.64
    if sheet["trend"]:
        y = column(0.06, y, ["推移"], 11, color="#08306b")
        rows = sheet["trend"]
        column(0.07, y, [f"{t['as_of']}{'（推計）' if t['estimate'] else ''}" for t in rows])
        column(0.30, y, [f"人口 {fmt_count(t['population'])}" for t in rows])
        column(0.47, y, [f"65歳以上 {fmt_count(t['pop65'])}" for t in rows])
        y = column(0.66, y, [f"高齢化率 {fmt_rate(t['aging_rate'])}" for t in rows]) - 0.01
    total = len(sheet["hubs"]) + sheet["hubs_more"]
    if hubs_count:
        column(0.47, y, [f"既存: {hubs_count}"[:60]], 8.5, color="#555")
    y = column(0.06, y, [f"区域内の拠点（{total}、候補地を含む）"], 11, color="#08306b")
    hubs = sheet["hubs"]
    column(0.07, y, [h["type"][:12] for h in hubs], 8.5)
    column(0.25, y, [f"{h['name'][:26]}{h['status']}" for h in hubs], 8.5)
    column(0.62, y, [(h["schedule"] or "")[:10] for h in hubs], 8.5)
    y = column(0.74, y, [(h["operator"] or "")[:16] for h in hubs], 8.5)
    extra = [f"ほか {sheet['hubs_more']} か所"] if sheet["hubs_more"] else \
        ["なし"] if not hubs else []
    y = column(0.07, y, extra, 8.5)
    for heading, body in _lines(sheet):
        y = column(0.06, y - 0.008, [heading], 11, color="#08306b")
        y = column(0.07, y, body[:6])
    sources = [s for src in sheet["sources"] for s in _wrap(src, 80)]
    figure_text(0.06, 0.03, "\n".join(sources), fontsize=7, color="#555", va="bottom",
                linespacing=1.5)


def _polygons(geoms: Any, **style: Any) -> Any:
    """The outer rings of polygons as one collection (holes do not matter at this size)."""
    import shapely
    from matplotlib.collections import PolyCollection

    rings = [shapely.get_coordinates(part.exterior)
             for geom in geoms if geom is not None
             for part in getattr(geom, "geoms", [geom]) if not part.is_empty]
    return PolyCollection(rings, **style)


def write_sheets(ws: Workspace, layer: str, codes: list[str], *, pdf: Path | None = None,
                 html: Path | None = None, targets: Path | None = None,
                 year: int | None = None) -> dict[str, Any]:
    """Write the sheets of these areas as a PDF (one A4 page each) and/or an HTML page;
    all-or-nothing per file. With ``targets`` each sheet carries its area's KPI rows of
    ``year`` (the rows whose scope is this layer)."""
    sheets = area_sheets(ws, layer, codes)
    if targets is not None:
        from kenmap.access.targets import progress

        rows, _ = progress(ws, targets, year)
        for sheet in sheets:
            sheet["kpi"] = [r for r in rows if r["area_code"] == sheet["code"]
                            and r["scope"] != "city"]
    sources = source_lines(ws)
    labels = {k: t.label for k, t in catalogue_of(ws.get("hub_types")).types.items()}
    for sheet in sheets:
        sheet["sources"] = sources
        sheet["hubs_count"] = {labels.get(k, k): n for k, n in sheet["hubs_count"].items()}
    city_name = sheets[0]["city"]["name"] if sheets else ""
    out: dict[str, Any] = {"sheets": len(sheets)}
    if html is not None:
        write_atomic(html, sheets_html(sheets, city_name).encode("utf-8"))
        out["html"] = str(html)
    if pdf is None:
        return out
    matplotlib = need("matplotlib", "print", "地域カルテの PDF")
    need("matplotlib_fontja", "print", "地域カルテの PDF の日本語")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    areas = ws.read_layer(layer).set_index("code", drop=False)
    lower = child_layer(ws, layer)
    children = ws.read_layer(lower) if lower else None
    catalogue = catalogue_of(ws.get("hub_types"))
    hubs = read_hubs(ws)
    column = f"area_{layer}"
    points = None
    if len(hubs) and column in hubs.columns:
        points = counting(hubs, ws, ("existing", "planned"))
        points = points.assign(x=points.geometry.x, y=points.geometry.y,
                               colour=[catalogue.types[t].colour if t in catalogue.types
                                       else "#555" for t in points["type"]])
    buffer = io.BytesIO()
    with plt.rc_context({"pdf.fonttype": 42}), PdfPages(buffer) as document:
        for sheet in sheets:
            fig = plt.figure(figsize=_A4_PORTRAIT)
            code = sheet["code"]
            kids = children[children["parent_code"] == code] if children is not None else None
            mine = points[points[column] == code] if points is not None else None
            _draw_sheet(fig, sheet, city_name, areas.loc[[code]], kids, mine)
            document.savefig(fig)
            plt.close(fig)
    write_atomic(pdf, buffer.getvalue())
    out.update({"pdf": str(pdf), "bytes": len(buffer.getvalue())})
    return out


def sheets_html(sheets: list[dict[str, Any]], city_name: str) -> str:
    """The same sheets as one HTML page (a section each), every text escaped."""
    parts = []
    for sheet in sheets:
        head = "".join(f"<th>{esc(h)}</th>" for h in
                       ["", sheet["area"]["name"], (sheet["parent"] or {}).get("name", ""),
                        city_name])
        rows = "".join(
            f"<tr><th>{esc(label)}</th><td>{esc(fn(sheet['area'][k]))}</td>"
            f"<td>{esc(fn(sheet['parent'][k]) if sheet['parent'] else '')}</td>"
            f"<td>{esc(fn(sheet['city'][k]))}</td></tr>" for label, k, fn in _ROWS)
        trend = "".join(
            f"<li>{esc(t['as_of'])}{'（推計）' if t['estimate'] else ''}: 人口 "
            f"{esc(fmt_count(t['population']))}、65歳以上 {esc(fmt_count(t['pop65']))}、"
            f"高齢化率 {esc(fmt_rate(t['aging_rate']))}</li>" for t in sheet["trend"])
        hubs = "".join(
            f"<li>{esc(h['type'])} {esc(h['name'])}{esc(h['status'])} "
            f"{esc(h['schedule'] or '')} {esc(h['operator'] or '')}</li>" for h in sheet["hubs"])
        blocks = "".join(f"<h3>{esc(heading)}</h3><p>{'<br>'.join(esc(x) for x in body)}</p>"
                         for heading, body in _lines(sheet))
        sources = "<br>".join(esc(s) for s in sheet["sources"])
        parts.append(
            f'<section class="sheet"><h2>{esc(city_name)} {esc(sheet["label"])} '
            f'{esc(sheet["area"]["name"])}（{esc(sheet["code"])}）</h2>'
            f"<table>{head and '<tr>' + head + '</tr>'}{rows}</table>"
            + (f"<h3>推移</h3><ul>{trend}</ul>" if trend else "")
            + f"<h3>拠点</h3><ul>{hubs or '<li>なし</li>'}</ul>{blocks}"
            f'<p class="src">{sources}</p></section>')
    return ("<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(city_name)} 地域カルテ</title><style>"
            "body{font:14px/1.6 'Noto Sans CJK JP',sans-serif;margin:2em}"
            ".sheet{page-break-after:always;margin-bottom:3em}td{text-align:right;padding:0 1em}"
            ".src{font-size:11px;color:#555}</style></head><body>"
            + "".join(parts) + "</body></html>\n")
