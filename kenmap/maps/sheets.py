"""地域カルテ: one A4 page per area (PDF) or one section per area (HTML), from
:func:`kenmap.access.sheets.area_sheets`."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from kenmap.access.sheets import area_sheets
from kenmap.hubs.table import counting, read_hubs
from kenmap.layers.hierarchy import child_layer
from kenmap.maps.escape import text as esc
from kenmap.maps.pdfparts import drawn_in_two
from kenmap.maps.style import GAP_COLOUR
from kenmap.model.catalogue import catalogue_of
from kenmap.model.files import write_atomic
from kenmap.optional import need
from kenmap.render.sources import source_lines
from kenmap.render.text import fmt_count, fmt_rate
from kenmap.workspace import Workspace

#: From this many sheets on, the PDF is drawn in two processes when there are two cores
#: (below it, starting the second Python costs about what it saves).
PARALLEL_FROM = 60
#: Sheets drawn here while the second Python starts (its imports take ~1.3 s, a sheet ~80 ms).
_LEAD = 16

_A4_PORTRAIT = (8.27, 11.69)
#: Height of one line (figure fraction) at a font size, with line spacing 1.6 on A4.
_LINE = {8.5: 0.0162, 9: 0.0171, 11: 0.021}
#: The top of the table of figures (area, parent, city side by side).
_TOP = 0.915
_ROWS = [("人口", "population", fmt_count), ("65歳以上", "pop65", fmt_count),
         ("高齢化率", "aging_rate", fmt_rate), ("75歳以上", "pop75", fmt_count),
         ("後期高齢化率", "late_aging_rate", fmt_rate), ("世帯数", "households", fmt_count)]


def _wrap(text: str, width: int = 58) -> list[str]:
    """Lines of at most ``width`` characters, broken after 、 where it can (a name is not cut
    in two), else anywhere."""
    lines: list[str] = []
    for piece in text.split("、"):
        if lines and len(lines[-1]) + 2 + len(piece) <= width:
            lines[-1] += "、" + piece
        elif lines:
            lines[-1] += "、"
            lines.extend(textwrap.wrap(piece, width) or [""])
        else:
            lines.extend(textwrap.wrap(piece, width) or [""])
    return lines or [""]


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


class _Map(NamedTuple):
    """What the small map of one sheet draws: the area, its child areas, those of them lacking
    a hub, and its hubs (x, y, colour)."""

    area: list[Any]
    kids: list[Any]
    gaps: list[Any]
    points: tuple[list[float], list[float], list[str]]


def _column(fig: Any, x: float, y: float, lines: list[str], size: float = 9,
            **style: Any) -> float:
    """Lines as one text (a text per cell made a sheet four times slower); with this line
    spacing every line advances the same height, so columns side by side stay aligned.
    Returns the y below the last line."""
    if lines:
        fig.text(x, y, "\n".join(lines), fontsize=size, va="top", linespacing=1.6, **style)
    return y - _LINE[size] * len(lines)


def _draw_frame(fig: Any, sheet: dict[str, Any], city_name: str) -> Any:
    """What every sheet shows alike (the row labels, the city's column, the workspace's
    sources) and the small map's axes, which it returns."""
    _column(fig, 0.47, _TOP, [""] + [label for label, _, _ in _ROWS])
    _column(fig, 0.94, _TOP, [city_name[:9]], color="#08306b", ha="right")
    _column(fig, 0.94, _TOP - _LINE[9], [fn(sheet["city"][k]) for _, k, fn in _ROWS],
            ha="right")
    sources = [s for src in sheet["sources"] for s in _wrap(src, 80)]
    # Above the sheet's own texts (added later), where a long sheet reaches down to it.
    fig.text(0.06, 0.03, "\n".join(sources), fontsize=7, color="#555", va="bottom",
             linespacing=1.5, zorder=3.5)
    ax = fig.add_axes((0.06, 0.66, 0.36, 0.26))
    ax.set_axis_off()
    ax.set_aspect("equal")
    return ax


def _draw_map(ax: Any, shape: _Map) -> None:
    """The area filled, its child areas outlined, those lacking a hub hatched, its hubs."""
    import shapely

    # Collections drawn directly (geopandas' plot redraws the figure on every call).
    ax.add_collection(_polygons(shape.area, facecolor="#fdd49e", edgecolor="#333",
                                linewidth=1.2))
    if shape.kids:
        ax.add_collection(_polygons(shape.kids, facecolor="none", edgecolor="#777",
                                    linewidth=0.4))
    if shape.gaps:
        ax.add_collection(_polygons(shape.gaps, facecolor="none", edgecolor=GAP_COLOUR,
                                    hatch="////", linewidth=0.8))
    x, y, colours = shape.points
    if x:
        ax.scatter(x, y, s=14, c=colours, edgecolors="white", linewidths=0.5, zorder=5)
    minx, miny, maxx, maxy = shapely.total_bounds(shape.area)
    pad = 0.04 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)


def _draw_sheet(fig: Any, sheet: dict[str, Any], city_name: str) -> None:
    """What is this area's own on its page, beside the frame: title, its and its parent's
    figures, trend, hubs, lists."""
    name = sheet["area"]["name"]
    fig.text(0.06, 0.962, f"{city_name} {sheet['label']} {name}", fontsize=17, va="center")
    fig.text(0.06, 0.94, f"地域カルテ（コード {sheet['code']}）", fontsize=10, color="#555",
             va="center")
    for x, who in ((0.68, "area"), (0.81, "parent")):
        figures = sheet[who]
        _column(fig, x, _TOP, [figures["name"][:9] if figures else ""], color="#08306b",
                ha="right")
        _column(fig, x, _TOP - _LINE[9], [fn(figures[k]) if figures else ""
                                          for _, k, fn in _ROWS], ha="right")
    hubs_count = " ".join(f"{k} {n}" for k, n in sorted(sheet["hubs_count"].items()))
    y = 0.64
    if sheet["trend"]:
        y = _column(fig, 0.06, y, ["推移"], 11, color="#08306b")
        rows = sheet["trend"]
        _column(fig, 0.07, y, [f"{t['as_of']}{'（推計）' if t['estimate'] else ''}"
                               for t in rows])
        _column(fig, 0.30, y, [f"人口 {fmt_count(t['population'])}" for t in rows])
        _column(fig, 0.47, y, [f"65歳以上 {fmt_count(t['pop65'])}" for t in rows])
        y = _column(fig, 0.66, y, [f"高齢化率 {fmt_rate(t['aging_rate'])}" for t in rows]) \
            - 0.01
    total = len(sheet["hubs"]) + sheet["hubs_more"]
    blocks = [(heading, body[:6]) for heading, body in _lines(sheet)]
    counts = _wrap(f"既存: {hubs_count}", 100) if hubs_count else []
    # Everything above the sources at the foot of the page: fewer hubs listed, then shorter
    # lists, until it fits (the rest counted, never drawn over the footer or cut off).
    floor = _footer_top(sheet)
    hubs = list(sheet["hubs"])

    def height() -> float:
        return (_LINE[11] + _LINE[8.5] * (len(counts) + max(len(hubs), 1) + 1)
                + sum(0.008 + _LINE[11] + _LINE[9] * len(body) for _, body in blocks))
    while y - height() < floor and len(hubs) > 3:
        hubs.pop()
    while y - height() < floor and any(len(body) > 2 for _, body in blocks):
        longest = max(range(len(blocks)), key=lambda i: len(blocks[i][1]))
        heading, body = blocks[longest]
        blocks[longest] = (heading, [*body[:-2], body[-2].rstrip("、") + " …（続きは一覧で）"])
    more = total - len(hubs)
    y = _column(fig, 0.06, y, [f"区域内の拠点（{total}、候補地を含む）"], 11, color="#08306b")
    y = _column(fig, 0.07, y, counts, 8.5, color="#555")
    # The type's short name (地区拠点/コミュニティセンター → 地区拠点) fits its column.
    _column(fig, 0.07, y, [h["type"].split("/")[0][:10] for h in hubs], 8.5)
    _column(fig, 0.225, y, [f"{h['name'][:23]}{h['status']}" for h in hubs], 8.5)
    _column(fig, 0.60, y, [(h["schedule"] or "")[:10] for h in hubs], 8.5)
    y = _column(fig, 0.72, y, [(h["operator"] or "")[:14] for h in hubs], 8.5)
    extra = [f"ほか {more} か所"] if more else ["なし"] if not hubs else []
    y = _column(fig, 0.07, y, extra, 8.5)
    for heading, body in blocks:
        y = _column(fig, 0.06, y - 0.008, [heading], 11, color="#08306b")
        y = _column(fig, 0.07, y, body)


def _footer_top(sheet: dict[str, Any]) -> float:
    """The top of the sources at the foot of the page (figure fraction), with a margin."""
    lines = sum(len(_wrap(src, 80)) for src in sheet["sources"])
    return 0.03 + lines * 0.0125 + 0.012


def _polygons(geoms: Any, **style: Any) -> Any:
    """The outer rings of polygons as one collection (holes do not matter at this size)."""
    import shapely
    from matplotlib.collections import PolyCollection

    rings = [shapely.get_coordinates(part.exterior)
             for geom in geoms if geom is not None
             for part in getattr(geom, "geoms", [geom]) if not part.is_empty]
    return PolyCollection(rings, **style)


def _maps(ws: Workspace, layer: str, sheets: list[dict[str, Any]]) -> list[_Map]:
    """The small map of each sheet, the layers split by area once rather than filtered per
    sheet."""
    areas = ws.read_layer(layer)
    own: dict[str, list[Any]] = {}
    for code, geom in zip(areas["code"], areas.geometry):
        own.setdefault(code, []).append(geom)
    lower = child_layer(ws, layer)
    kids: dict[str, list[tuple[str, Any]]] = {}
    if lower:
        children = ws.read_layer(lower)
        for parent, code, geom in zip(children["parent_code"], children["code"],
                                      children.geometry):
            kids.setdefault(parent, []).append((code, geom))
    hubs = read_hubs(ws)
    column = f"area_{layer}"
    points: dict[str, tuple[list[float], list[float], list[str]]] = {}
    if len(hubs) and column in hubs.columns:
        types = catalogue_of(ws.get("hub_types")).types
        shown = counting(hubs, ws, ("existing", "planned"))
        for code, x, y, kind in zip(shown[column], shown.geometry.x, shown.geometry.y,
                                    shown["type"]):
            xs, ys, colours = points.setdefault(code, ([], [], []))
            xs.append(x)
            ys.append(y)
            colours.append(types[kind].colour if kind in types else "#555")
    out = []
    for sheet in sheets:
        code = sheet["code"]
        mine = kids.get(code, [])
        lacking = {a["code"] for a in sheet["lacking"]["areas"] or []}
        out.append(_Map(own[code], [g for _, g in mine],
                        [g for c, g in mine if c in lacking], points.get(code, ([], [], []))))
    return out


def _matplotlib() -> Any:
    """matplotlib, with the Japanese font (or the error that says how to install them)."""
    matplotlib = need("matplotlib", "print", "地域カルテの PDF")
    need("matplotlib_fontja", "print", "地域カルテの PDF の日本語")
    return matplotlib


@contextmanager
def _metrics_kept_across_pages() -> Iterator[None]:
    """Measure each text once for all pages. matplotlib caches text extents per renderer,
    and PdfPages makes a renderer per page, so the labels, figures and names every page
    repeats were measured again on each (a fifth of a sheet's time); a PDF renderer's
    measures do not depend on the page. Does nothing on a matplotlib without the hook."""
    import matplotlib.text as mtext

    original = getattr(mtext, "_get_text_metrics_with_cache", None)
    if original is None:
        yield
        return
    kept: dict[tuple[Any, ...], Any] = {}

    def measured(renderer: Any, text: str, fontprop: Any, ismath: Any, dpi: float) -> Any:
        key = (type(renderer), text, hash(fontprop), ismath, dpi)
        found = kept.get(key)
        if found is None:
            found = kept[key] = original(renderer, text, fontprop, ismath, dpi)
        return found
    setattr(mtext, "_get_text_metrics_with_cache", measured)  # noqa: B010 - not typed
    try:
        yield
    finally:
        setattr(mtext, "_get_text_metrics_with_cache", original)  # noqa: B010


def _pdf(pages: list[tuple[dict[str, Any], _Map]], city_name: str) -> bytes:
    """These sheets as a PDF, one A4 page each, on one figure: what every sheet shows alike
    is built once; each sheet's own texts and map are added, and removed once its page is
    saved."""
    matplotlib = _matplotlib()
    if not pages:
        return b""  # what matplotlib writes for no page
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with plt.rc_context({"pdf.fonttype": 42}), _metrics_kept_across_pages(), \
            PdfPages(buffer) as document:
        fig = plt.figure(figsize=_A4_PORTRAIT)
        try:
            ax = _draw_frame(fig, pages[0][0], city_name)
            fixed = len(fig.texts)
            for sheet, shape in pages:
                _draw_map(ax, shape)
                _draw_sheet(fig, sheet, city_name)
                document.savefig(fig)
                for artist in [*fig.texts[fixed:], *ax.collections]:
                    artist.remove()
        finally:
            plt.close(fig)
    return buffer.getvalue()


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
    _matplotlib()  # before anything is read or started for the PDF
    pages = list(zip(sheets, _maps(ws, layer, sheets)))
    document = drawn_in_two(_pdf, pages, city_name, lead=_LEAD) \
        if len(pages) >= PARALLEL_FROM else _pdf(pages, city_name)
    write_atomic(pdf, document)
    out.update({"pdf": str(pdf), "bytes": len(document)})
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
