"""Writing map pages: one layer, or every layer with an index page from 市 down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kenmap.access.gaps import gap_table
from kenmap.errors import KenmapError
from kenmap.hubs.table import layer_hub_type
from kenmap.layers.hierarchy import area_layers, filled_layers
from kenmap.maps.escape import text as esc
from kenmap.maps.page import MapOptions, build_map
from kenmap.model.catalogue import catalogue_of
from kenmap.model.files import write_atomic
from kenmap.workspace import Workspace


def write_layer_page(ws: Workspace, layer: str, options: MapOptions, out: Path
                     ) -> dict[str, Any]:
    """Write one layer's offline map page; returns what it holds (areas, lacking, bytes)."""
    page, facts = build_map(ws, layer, options)
    write_atomic(out, page.encode("utf-8"))
    return {**facts, "file": str(out)}


def write_map(ws: Workspace, layer: str, out: str | Path, *, hub_type: str | None = None,
              radius: float | None = None, tiles: str = "none") -> dict[str, Any]:
    """Write the coverage map of one layer as a page that works offline.

    Parameters
    ----------
    ws
        The workspace.
    layer
        Layer key.
    out
        The HTML file to write.
    hub_type
        Type whose gaps are shown (default: the type expected on the layer).
    radius
        Walking metres: reach circles and distance gaps.
    tiles
        ``none`` (offline) or ``osm``.

    Returns
    -------
    dict
        ``areas``, ``lacking``, ``bytes`` and ``file``.
    """
    return write_layer_page(ws, layer, MapOptions(hub_type=hub_type, radius=radius,
                                                  tiles=tiles), Path(out))


def index_entries(ws: Workspace, options: MapOptions, href: Callable[[str], str]
                  ) -> list[dict[str, Any]]:
    """Every layer's line of the index, from 市 down: its label, number of areas, the hub type
    its map measures and how many areas lack one (None when there is no population yet).

    The written index (``map --all``) and the served one (``GET /maps/``) both come from here,
    so they show the same counts for the same options.
    """
    catalogue = catalogue_of(ws.get("hub_types"))
    entries = []
    for key in area_layers(ws):  # the nested layers, then the overlays
        hub_type = options.hub_type or layer_hub_type(ws, key)
        try:
            lacking: int | None = int(gap_table(
                ws, layer=key, hub_type=hub_type, radius=options.radius,
                detour=options.detour)["lacking"].sum())
        except KenmapError:
            lacking = None  # no population: the page still shows areas and hubs
        entries.append({"key": key, "href": href(key), "label": ws.scheme.layer(key).label,
                        "areas": len(ws.read_attributes(key)), "hub_type": hub_type,
                        "hub_label": catalogue.get(hub_type).label, "lacking": lacking})
    return entries


def index_html(ws: Workspace, entries: list[dict[str, Any]],
               more: list[dict[str, Any]] | None = None) -> str:
    """An index page linking every layer's page, from 市 down to the finest layer, each with
    the hub type its gaps are counted for; ``more`` lists the plan-period pages (projection,
    indicators) below."""
    def line(e: dict[str, Any]) -> str:
        lacking = "—（人口が未登録）" if e["lacking"] is None else f"{e['lacking']}"
        return (f'<li><a href="{esc(e["href"])}">{esc(e["label"])}</a>'
                f'（{e["areas"]} 区域、<span class="km-index-type">{esc(e["hub_label"])}</span>'
                f'の不足 <span class="km-index-lacking">{lacking}</span>）</li>')
    items = "\n".join(line(e) for e in entries)
    extra = ""
    if more:
        extra = ("<h2>計画期間と指標</h2><ul>\n" + "\n".join(
            f'<li><a href="{esc(e["href"])}">{esc(e["label"])}</a></li>' for e in more)
            + "\n</ul>")
    city = ws.read_attributes(filled_layers(ws)[0])["name"]
    name = esc(str(city.iloc[0])) if len(city) == 1 else "市"
    return f"""<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>{name} 圏域地図</title>
<style>body{{font:16px/1.7 'Noto Sans CJK JP','Hiragino Sans',sans-serif;margin:2em}}
li{{margin:.3em 0}}</style></head>
<body><h1>{name} 圏域地図</h1><ol>
{items}
</ol>{extra}<p>「不足」は、行ごとに書いた種類の拠点がない（または届く範囲が足りない）区域の数です。
各ページはインターネットに接続せずに開けます。</p></body></html>
"""


def write_all_pages(ws: Workspace, options: MapOptions, folder: Path) -> dict[str, Any]:
    """One page per layer plus ``index.html``; the folder is created if needed."""
    if folder.exists() and not folder.is_dir():
        raise KenmapError("--all のときは --out にフォルダを指定してください", file=folder)
    folder.mkdir(parents=True, exist_ok=True)
    entries = index_entries(ws, options, lambda key: f"{key}.html")
    pages = []
    for entry in entries:
        # Each page measures the hub type its index line names.
        page_options = MapOptions(**{**options.__dict__, "hub_type": entry["hub_type"]})
        pages.append(write_layer_page(ws, entry["key"], page_options,
                                      folder / f"{entry['key']}.html"))
    more = []
    for extra in plan_pages(ws):
        view = extra.pop("workspace")
        page_options = MapOptions(**{**options.__dict__, "hub_type": None, **extra["options"]})
        name = f"{extra['key']}.html"
        pages.append(write_layer_page(view, extra["layer"], page_options, folder / name))
        more.append({"href": name, "label": extra["label"]})
    write_atomic(folder / "index.html", index_html(ws, entries, more).encode("utf-8"))
    return {"index": str(folder / "index.html"), "pages": pages}


def plan_pages(ws: Workspace) -> list[dict[str, Any]]:
    """The pages of the plan period the workspace can draw: the last projected year (推計) on
    the layer above the finest, and every indicator on its own layer."""
    from kenmap.layers.hierarchy import default_layer
    from kenmap.people.indicators import INDICATORS, field_label
    from kenmap.people.snapshots import SNAPSHOTS, as_of

    out: list[dict[str, Any]] = []
    if not filled_layers(ws):
        return out
    estimates = sorted({d for dates in (ws.get(SNAPSHOTS, {}) or {}).values()
                        for d, facts in dates.items() if facts.get("estimate")})
    if estimates:
        layer = default_layer(ws)
        year = estimates[-1][:4]
        out.append({"key": f"{layer}_{year}", "layer": layer, "workspace": as_of(ws, year),
                    "options": {}, "label": f"{year}年の推計人口（{ws.scheme.layer(layer).label}、"
                                            "コーホート変化率法）"})
    for key, info in (ws.get(INDICATORS, {}) or {}).items():
        column = f"{key}_rate" if info.get("per") else key
        where = ws.scheme.layer(info["layer"]).label
        out.append({"key": f"{info['layer']}_{key}", "layer": info["layer"], "workspace": ws,
                    "options": {"indicator": key},
                    "label": f"{field_label(ws, column)}（{where}）"})
    from kenmap.network.store import has_network

    if has_network(ws):  # reach along the streets, beside the straight line's
        from kenmap.access.netreach import Walking, network_reach
        from kenmap.hubs.table import layer_hub_type

        layer = default_layer(ws)
        hub_type = layer_hub_type(ws, layer)
        reach = network_reach(ws, Walking(minutes=True))
        out.append({"key": f"{layer}_walk", "layer": layer, "workspace": ws,
                    "options": {"network": reach, "radius": WALK_PAGE_MINUTES,
                                "hub_type": hub_type},
                    "label": f"徒歩{WALK_PAGE_MINUTES:g}分圏（{ws.scheme.layer(layer).label}、"
                             "道路に沿って）"})
    return out


#: The walking page of the index: minutes along the streets to the hub type of the layer.
WALK_PAGE_MINUTES = 10.0
