"""A printable map (PNG or PDF) for a committee handout: what the web page draws, on A4.

The same classes, the lacking areas hatched, every hub type, reach circles of the same radius,
a siting result whatever its type, and the source of every dataset in the workspace. The map
fills the page; the legend has a column of its own, so nothing is clipped.
"""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kenmap.access.gaps import gap_table
from kenmap.errors import KenmapError
from kenmap.hubs.table import counting, layer_hub_type, read_hubs
from kenmap.layers.hierarchy import filled_layers, parent_layer, require_areas
from kenmap.maps.page import MapOptions
from kenmap.maps.style import (
    GAP_COLOUR,
    NO_DATA,
    STATUS_LABELS,
    class_of,
    colour_of,
    natural_breaks,
)
from kenmap.model.catalogue import catalogue_of
from kenmap.model.files import write_atomic
from kenmap.optional import need
from kenmap.people.stats import RATE_BASES, layer_stats, total_row
from kenmap.render.sources import source_lines
from kenmap.workspace import Workspace

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Siting results: the colour of the page's 新しい候補地.
SITE_COLOUR = "#6a3d9a"
_A4_LANDSCAPE = (11.69, 8.27)


def _nice_length(span: float) -> float:
    """A round scale-bar length near a fifth of the map's width."""
    target = span / 5
    power = 10 ** math.floor(math.log10(target))
    return float(max(m * power for m in (1, 2, 5) if m * power <= target))


def render_print(ws: Workspace, layer: str, options: MapOptions, path: Path) -> dict[str, Any]:
    """Write the map as PNG or PDF (by the file's suffix), all-or-nothing."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".pdf"):
        raise KenmapError("印刷用の出力ファイル名は .png か .pdf で終わる必要があります", file=path)
    fig, facts = handout_figure(ws, layer, options)
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    # TrueType text (not Type 3 outlines): the PDF's Japanese can be searched and copied.
    with plt.rc_context({"pdf.fonttype": 42}):
        fig.savefig(buffer, format=suffix.lstrip("."), dpi=150)
    plt.close(fig)
    write_atomic(path, buffer.getvalue())
    return {**facts, "file": str(path), "bytes": len(buffer.getvalue())}


def handout_figure(ws: Workspace, layer: str, options: MapOptions) -> tuple[Figure, dict[str, Any]]:
    """The A4 landscape figure of one layer and what it holds (lacking areas, hubs, circles,
    sites, attribution lines). Artists carry gids (``km-gap``, ``km-reach``, ``km-site`` …)."""
    matplotlib = need("matplotlib", "print", "印刷用の地図（--png, --pdf）")
    need("matplotlib_fontja", "print", "印刷用の地図の日本語（--png, --pdf）")  # IPAexGothic

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scheme = ws.scheme
    layer_def = scheme.layer(layer)
    require_areas(ws, layer)
    catalogue = catalogue_of(ws.get("hub_types"))
    hub_type = options.hub_type or layer_hub_type(ws, layer)
    type_def = catalogue.get(hub_type)
    areas = ws.read_layer(layer)
    stats = layer_stats(ws, layer).set_index("code")
    rates = stats["aging_rate"].reindex(areas["code"]).to_numpy(dtype=float)
    bins = natural_breaks(rates)
    top = filled_layers(ws)[0]
    city = ws.read_layer(top)
    city_stats = total_row(layer_stats(ws, top))
    city_name = str(city["name"].iloc[0]) if len(city) == 1 else "市全体"
    sources = [*source_lines(ws), f"{RATE_BASES['total']}　座標系 EPSG:{ws.crs_epsg}　kenmap"]
    notes = [line for source in sources for line in textwrap.wrap(source, 120)]

    fig = plt.figure(figsize=_A4_LANDSCAPE)
    foot = 0.018 + 0.021 * len(notes)  # the attribution block, one line each
    ax = fig.add_axes((0.008, foot + 0.01, 0.70, 0.935 - foot - 0.01))
    key = fig.add_axes((0.715, foot + 0.01, 0.28, 0.935 - foot - 0.01))
    key.set_axis_off()

    areas.plot(ax=ax, color=[colour_of(class_of(r, bins), len(bins)) for r in rates],
               edgecolor="#666", linewidth=0.3)
    try:
        gaps = gap_table(ws, layer=layer, hub_type=hub_type, radius=options.radius,
                         detour=options.detour).set_index("code")
        lacking = areas[areas["code"].map(gaps["lacking"]).fillna(False).astype(bool)]
    except KenmapError:
        lacking = areas.iloc[:0]
    if len(lacking):
        lacking.plot(ax=ax, facecolor="none", edgecolor=GAP_COLOUR, hatch="////",
                     linewidth=1.2, gid="km-gap")
    upper = parent_layer(ws, layer)
    if upper is not None:
        ws.read_layer(upper).boundary.plot(ax=ax, color="#08306b", linewidth=1.4)
    city.boundary.plot(ax=ax, color="#333", linewidth=1.6)
    circles = _reach_circles(ax, ws, hub_type, type_def.colour, options)
    hub_rows = _hubs(ax, ws, catalogue, hub_type)
    sites = _siting(ax, ws, options.siting, catalogue)

    _fill_box(fig, ax, city.total_bounds)
    _scale_and_north(ax)

    title = (f"{city_name} {layer_def.label}別の高齢化率と{type_def.label}"
             + (f"（徒歩{options.radius:.0f}m圏）" if options.radius else ""))
    fig.text(0.012, 0.965, title, fontsize=16, va="center")
    gap_label = f"{type_def.label}の不足する{layer_def.label}（{len(lacking)}）" \
        if len(lacking) else None
    reach = (f"{type_def.label}の徒歩{options.radius:.0f}m圏（直線"
             f"{options.radius / options.detour:.0f}m）") if circles and options.radius else None
    _legend(key, bins, city_stats["aging_rate"], city_name, gap_label, hub_rows, reach, sites)
    y = foot - 0.012
    for line in notes:
        fig.text(0.012, y, line, fontsize=7.5, color="#333", va="center", gid="km-source")
        y -= 0.021
    facts = {"lacking": len(lacking), "bins": [float(b) for b in np.asarray(bins)],
             "hub_type": hub_type, "reach_circles": circles, "sites": len(sites["drawn"]),
             "sources": sources}
    return fig, facts


def _fill_box(fig: Figure, ax: Axes, bounds: Any) -> None:
    """Limits around the city, widened along one axis to the box's shape: the map fills it."""
    minx, miny, maxx, maxy = bounds
    pad = max(maxx - minx, maxy - miny) * 0.02
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    box = ax.get_position(original=True)
    width_in, height_in = fig.get_size_inches()
    shape = (box.width * width_in) / (box.height * height_in)
    cx, cy, w, h = (minx + maxx) / 2, (miny + maxy) / 2, maxx - minx, maxy - miny
    if w / h < shape:
        w = h * shape
    else:
        h = w / shape
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal")
    ax.set_axis_off()


def _reach_circles(ax: Axes, ws: Workspace, hub_type: str, colour: str,
                   options: MapOptions) -> int:
    """The page's reach circles: existing hubs of the type, straight radius = walk / detour."""
    if not options.radius:
        return 0
    hubs = read_hubs(ws)
    mine = counting(hubs[hubs["type"] == hub_type], ws) if len(hubs) \
        else hubs
    if len(mine) == 0:
        return 0
    # Outlines only (overlapping fills would read as one more colour of the choropleth), on a
    # white halo so that they show on every class.
    rings = mine.geometry.buffer(options.radius / options.detour, 48).boundary
    rings.plot(ax=ax, color="white", linewidth=1.6, alpha=0.9)
    rings.plot(ax=ax, color=colour, linewidth=0.7, gid="km-reach")
    return len(mine)


def _hubs(ax: Axes, ws: Workspace, catalogue: Any, chosen: str) -> list[tuple[str, str]]:
    """Every imported type, as on the page; the chosen type larger and on top."""
    hubs = read_hubs(ws)
    rows = []
    for key, hub_type in catalogue.types.items():
        mine = hubs[hubs["type"] == key] if len(hubs) else hubs
        if len(mine) == 0:
            continue
        size, z = (26, 6) if key == chosen else (12, 5)
        for status, marker, face in (("existing", "o", hub_type.colour),
                                     ("planned", "o", "white"), ("candidate", "s", "#eee")):
            part = mine[mine["status"] == status]
            if len(part):
                part.plot(ax=ax, marker=marker, markersize=size, color=face,
                          edgecolor=hub_type.colour, linewidth=1.0, zorder=z, gid=f"km-hub-{key}")
        counts = mine["status"].value_counts()
        detail = "・".join(f"{STATUS_LABELS.get(s, s)}{n}" for s, n in counts.items())
        rows.append((hub_type.colour, f"{hub_type.label}（{detail}）"))
    return rows


def _siting(ax: Axes, ws: Workspace, siting: dict[str, Any] | None, catalogue: Any
            ) -> dict[str, Any]:
    """A siting result's numbered sites, their reach and the cells they newly reach, whatever
    the type it was run for."""
    out: dict[str, Any] = {"drawn": [], "label": None, "cells": 0}
    if not siting or not siting.get("sites"):
        return out
    import geopandas as gpd
    import shapely

    from kenmap.access.siting import newly_reached

    sites = siting["sites"]
    points = gpd.GeoSeries(shapely.points([s["lon"] for s in sites], [s["lat"] for s in sites]),
                           crs=4326).to_crs(ws.crs_epsg)
    radius = float(siting.get("radius_m") or 0)
    detour = float(siting.get("detour") or MapOptions().detour)
    cells = newly_reached(ws, siting)
    if cells:
        dots = gpd.GeoSeries(shapely.points([c[1] for c in cells], [c[0] for c in cells]),
                             crs=4326).to_crs(ws.crs_epsg)
        dots.plot(ax=ax, markersize=2, color=SITE_COLOUR, alpha=0.6, zorder=6,
                  gid="km-reached")
        out["cells"] = len(cells)
    if radius:
        points.buffer(radius / detour, 48).plot(ax=ax, facecolor=SITE_COLOUR, alpha=0.10,
                                                edgecolor=SITE_COLOUR, linewidth=1.2,
                                                zorder=6, gid="km-site-reach")
    points.plot(ax=ax, marker="o", markersize=160, color=SITE_COLOUR, edgecolor="white",
                linewidth=1.5, zorder=7, gid="km-site")
    for rank, point in enumerate(points, start=1):
        ax.annotate(str(rank), (point.x, point.y), ha="center", va="center", color="white",
                    fontsize=8, fontweight="bold", zorder=8)
    kind = siting.get("hub_type")
    label = catalogue.types[kind].label if kind in catalogue.types else (kind or "拠点")
    out["drawn"] = list(points)
    out["label"] = f"新しい{label}の候補地（{len(sites)}か所" + (
        f"、徒歩{radius:.0f}m圏）" if radius else "）")
    return out


def _scale_and_north(ax: Axes) -> None:
    """Scale bar (metres: the map is drawn in the plane-rectangular zone) and north arrow."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    length = _nice_length(x1 - x0)
    bx, by = x0 + (x1 - x0) * 0.03, y0 + (y1 - y0) * 0.03
    ax.plot([bx, bx + length], [by, by], color="black", linewidth=3, solid_capstyle="butt")
    ax.text(bx + length / 2, by + (y1 - y0) * 0.012,
            f"{length / 1000:g} km" if length >= 1000 else f"{length:.0f} m", ha="center",
            fontsize=9)
    ax.annotate("N", xy=(0.04, 0.95), xytext=(0.04, 0.86), xycoords="axes fraction",
                ha="center", fontsize=14,
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 2})


def _legend(key: Axes, bins: list[float], city_rate: float, city_name: str,
            gap_label: str | None, hub_rows: list[tuple[str, str]], reach: str | None,
            sites: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    handles: list[Any] = []
    lower = None
    for i, upper_bound in enumerate(bins):
        label = f"〜{upper_bound:.1f}%" if lower is None else f"{lower:.1f}–{upper_bound:.1f}%"
        if class_of(city_rate, bins) == i:
            label += f"  ◀ {city_name} {city_rate:.1f}%"
        handles.append(Patch(facecolor=colour_of(i, len(bins)), edgecolor="#666", label=label))
        lower = upper_bound
    handles.append(Patch(facecolor=NO_DATA, edgecolor="#666", label="不明・人口なし"))
    if gap_label:
        handles.append(Patch(facecolor="none", edgecolor=GAP_COLOUR, hatch="////",
                             linewidth=1.2, label=gap_label))
    for colour, label in hub_rows:
        handles.append(plt.Line2D([], [], marker="o", color="none", markerfacecolor=colour,
                                  markeredgecolor=colour, label=label))
    if hub_rows:
        handles.append(plt.Line2D([], [], marker="o", color="none", markerfacecolor="white",
                                  markeredgecolor="#555", label="白抜き: 計画中　□: 候補地"))
    if reach:
        handles.append(plt.Line2D([], [], marker="o", markersize=12, color="none",
                                  markerfacecolor="none", markeredgecolor="#555", label=reach))
    if sites["label"]:
        handles.append(plt.Line2D([], [], marker="o", markersize=10, color="none",
                                  markerfacecolor=SITE_COLOUR, markeredgecolor="white",
                                  label=sites["label"]))
    legend = key.legend(handles=handles, title="高齢化率（65歳以上の割合）", loc="upper left",
                        bbox_to_anchor=(0.0, 1.0), fontsize=8.5, title_fontsize=10,
                        framealpha=0.95, borderaxespad=0.0)
    # Long labels (a catalogue's own, a long siting note) shrink the text, never clip it.
    figure = key.get_figure()
    assert figure is not None
    size = 8.5
    while size > 5.5:
        box = legend.get_window_extent(figure.canvas.get_renderer())  # type: ignore[attr-defined]
        if box.x1 <= figure.bbox.x1 - 4:
            break
        size -= 0.5
        for text in legend.get_texts():
            text.set_fontsize(size)
