"""A printable map (PNG or PDF) for a committee handout: same classes as the web page."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from kenmap.access.gaps import gap_table
from kenmap.errors import KenmapError
from kenmap.hubs.table import layer_hub_type, read_hubs
from kenmap.layers.hierarchy import filled_layers, parent_layer
from kenmap.maps.page import MapOptions
from kenmap.maps.style import GAP_COLOUR, NO_DATA, class_of, colour_of, natural_breaks
from kenmap.model.catalogue import catalogue_of
from kenmap.model.files import write_atomic
from kenmap.people.stats import RATE_BASES, layer_stats, total_row
from kenmap.render.text import population_source
from kenmap.workspace import Workspace


def _nice_length(span: float) -> float:
    """A round scale-bar length near a fifth of the map's width."""
    target = span / 5
    power = 10 ** math.floor(math.log10(target))
    return float(max(m * power for m in (1, 2, 5) if m * power <= target))


def render_print(ws: Workspace, layer: str, options: MapOptions, path: Path) -> dict[str, Any]:
    """Write the map as PNG or PDF (by the file's suffix), all-or-nothing."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401  (IPAexGothic: Japanese text without system fonts)
    from matplotlib.patches import Patch

    suffix = path.suffix.lower()
    if suffix not in (".png", ".pdf"):
        raise KenmapError("印刷用の出力ファイル名は .png か .pdf で終わる必要があります", file=path)
    scheme = ws.scheme
    layer_def = scheme.layer(layer)
    if layer not in filled_layers(ws):
        raise KenmapError(f"レイヤ {layer} に区域がありません", field="--layer")
    catalogue = catalogue_of(ws.get("hub_types"))
    hub_type = options.hub_type or layer_hub_type(ws, layer)
    type_def = catalogue.get(hub_type)
    areas = ws.read_layer(layer)
    stats = layer_stats(ws, layer).set_index("code")
    rates = stats["aging_rate"].reindex(areas["code"]).to_numpy(dtype=float)
    bins = natural_breaks(rates)
    colours = [colour_of(class_of(r, bins), len(bins)) for r in rates]
    top = filled_layers(ws)[0]
    city = ws.read_layer(top)
    city_stats = total_row(layer_stats(ws, top))
    city_name = str(city["name"].iloc[0]) if len(city) == 1 else "市全体"

    fig, ax = plt.subplots(figsize=(11.69, 8.27))  # A4 landscape
    areas.plot(ax=ax, color=colours, edgecolor="#666", linewidth=0.3)
    try:
        gaps = gap_table(ws, layer=layer, hub_type=hub_type, radius=options.radius,
                         detour=options.detour).set_index("code")
        lacking = areas[areas["code"].map(gaps["lacking"]).fillna(False).astype(bool)]
        if len(lacking):
            lacking.plot(ax=ax, facecolor="none", edgecolor=GAP_COLOUR, hatch="////",
                         linewidth=0.8, linestyle="--")
    except KenmapError:
        lacking = areas.iloc[:0]
    upper = parent_layer(ws, layer)
    if upper is not None:
        ws.read_layer(upper).boundary.plot(ax=ax, color="#08306b", linewidth=1.4)
    city.boundary.plot(ax=ax, color="#333", linewidth=1.6)
    hubs = read_hubs(ws)
    if len(hubs):
        mine = hubs[hubs["type"] == hub_type]
        for status, marker, face in (("existing", "o", type_def.colour),
                                     ("planned", "o", "white"), ("candidate", "s", "#eee")):
            part = mine[mine["status"] == status]
            if len(part):
                part.plot(ax=ax, marker=marker, markersize=22, color=face,
                          edgecolor=type_def.colour, linewidth=1.2, zorder=5)
    minx, miny, maxx, maxy = city.total_bounds
    ax.set_xlim(minx - (maxx - minx) * 0.03, maxx + (maxx - minx) * 0.03)
    ax.set_ylim(miny - (maxy - miny) * 0.03, maxy + (maxy - miny) * 0.03)
    ax.set_axis_off()
    ax.set_aspect("equal")

    title = (f"{city_name} {layer_def.label}別の高齢化率と{type_def.label}"
             + (f"（徒歩{options.radius:.0f}m圏）" if options.radius else ""))
    ax.set_title(title, fontsize=16, loc="left")
    handles: list[Any] = []
    lower = None
    for i, upper_bound in enumerate(bins):
        label = f"〜{upper_bound:.1f}%" if lower is None else f"{lower:.1f}–{upper_bound:.1f}%"
        if class_of(city_stats["aging_rate"], bins) == i:
            label += f"  ◀ {city_name} {city_stats['aging_rate']:.1f}%"
        handles.append(Patch(facecolor=colour_of(i, len(bins)), edgecolor="#666", label=label))
        lower = upper_bound
    handles.append(Patch(facecolor=NO_DATA, edgecolor="#666", label="不明・人口なし"))
    if len(lacking):
        handles.append(Patch(facecolor="none", edgecolor=GAP_COLOUR, hatch="////",
                             label=f"{type_def.label}の不足する{layer_def.label}"
                                   f"（{len(lacking)}）"))
    handles.append(plt.Line2D([], [], marker="o", color="none", markerfacecolor=type_def.colour,
                              markeredgecolor=type_def.colour, label=f"{type_def.label}（既存）"))
    handles.append(plt.Line2D([], [], marker="o", color="none", markerfacecolor="white",
                              markeredgecolor=type_def.colour, label=f"{type_def.label}（計画）"))
    ax.legend(handles=handles, title="高齢化率（65歳以上の割合）", loc="lower left",
              bbox_to_anchor=(1.0, 0.0),
              fontsize=9, title_fontsize=10, framealpha=0.95)
    # Scale bar and north arrow: the map is drawn in the plane-rectangular zone (metres).
    length = _nice_length(maxx - minx)
    x0, y0 = minx, miny - (maxy - miny) * 0.02
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=3)
    ax.text(x0 + length / 2, y0 + (maxy - miny) * 0.012,
            f"{length / 1000:g} km" if length >= 1000 else f"{length:.0f} m", ha="center",
            fontsize=9)
    ax.annotate("N", xy=(0.04, 0.93), xytext=(0.04, 0.83), xycoords="axes fraction",
                ha="center", fontsize=14,
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 2})
    source = population_source(ws.get("population", {})) + "　" + RATE_BASES["total"]
    fig.text(0.01, 0.01, f"{source}　座標系 EPSG:{ws.crs_epsg}　kenmap", fontsize=8,
             color="#444")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=suffix.lstrip("."), dpi=150)
    plt.close(fig)
    write_atomic(path, buffer.getvalue())
    return {"file": str(path), "bytes": len(buffer.getvalue()), "lacking": len(lacking),
            "bins": [float(b) for b in np.asarray(bins)]}
