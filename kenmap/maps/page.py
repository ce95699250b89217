"""One Folium page per layer: 高齢化率 choropleth, gaps, hubs, reach circles, parents."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import MarkerCluster

from kenmap.access.gaps import gap_table
from kenmap.access.netreach import NetworkReach
from kenmap.access.reach import DEFAULT_DETOUR
from kenmap.errors import KenmapError
from kenmap.geo.simplify import display_tolerance, simplify_coverage
from kenmap.geo.topology import topology
from kenmap.hubs.table import layer_hub_type, read_hubs
from kenmap.layers.hierarchy import filled_layers, parent_layer, require_areas
from kenmap.maps.assets import inline_assets, unescape_unicode
from kenmap.maps.escape import script_json
from kenmap.maps.escape import text as esc
from kenmap.maps.overlays import (
    HATCH_SVG,
    GapOutline,
    HubMarkers,
    MetricScale,
    PointCloud,
    TopoAreas,
)
from kenmap.maps.style import (
    GAP_COLOUR,
    LEGEND_CSS,
    STATUS_LABELS,
    class_of,
    colour_of,
    glyph,
    legend_html,
    marker_html,
    natural_breaks,
)
from kenmap.model.catalogue import catalogue_of
from kenmap.people.stats import RATE_BASES, layer_stats, total_row
from kenmap.render.sources import source_lines
from kenmap.render.text import fmt_count, fmt_rate
from kenmap.workspace import Workspace

#: Hubs of one type beyond this many are clustered.
CLUSTER_OVER = 60


@dataclass
class MapOptions:
    """What ``kenmap map`` was asked for."""

    hub_type: str | None = None
    radius: float | None = None
    tiles: str = "none"
    detour: float = DEFAULT_DETOUR
    siting: dict[str, Any] | None = None
    indicator: str | None = None  # colour by an imported indicator instead of 高齢化率
    compare: str | None = None  # colour by the change of 高齢化率 since this date
    activity: str | None = None  # hatch the areas that have not done this activity
    network: NetworkReach | None = None  # walks along the streets: reach as isochrones


def build_map(ws: Workspace, layer: str, options: MapOptions) -> tuple[str, dict[str, Any]]:
    """The page's HTML and facts about it (areas drawn, size …)."""
    scheme = ws.scheme
    layer_def = scheme.layer(layer)
    require_areas(ws, layer)
    if options.tiles not in ("none", "osm"):
        raise KenmapError("--tiles は none か osm にしてください", field="--tiles")
    catalogue = catalogue_of(ws.get("hub_types"))
    hub_type = options.hub_type or layer_hub_type(ws, layer)
    type_def = catalogue.get(hub_type)

    areas = ws.read_layer(layer)
    stats = layer_stats(ws, layer).set_index("code")
    upper = parent_layer(ws, layer)
    top = filled_layers(ws)[0]
    city = ws.read_layer(top)
    city_stats = total_row(layer_stats(ws, top))
    city_name = str(city["name"].iloc[0]) if len(city) == 1 else "市全体"
    parent_stats = layer_stats(ws, upper).set_index("code") if upper else None
    try:
        gaps = gap_table(ws, layer=layer, hub_type=hub_type, radius=options.radius,
                         detour=options.detour, network=options.network).set_index("code")
    except KenmapError:
        gaps = None  # no population yet: the map still shows areas and hubs
    gap_subject = f"{type_def.label}の不足する{layer_def.label}"
    if options.activity:
        gaps, gap_subject = _activity_gaps(ws, layer, options.activity)

    shade = _changes(ws, layer, top, options.compare, stats, city_stats) if options.compare \
        else _shading(ws, layer, top, options.indicator, stats, city_stats)
    rates = shade.values.reindex(areas["code"]).to_numpy(dtype=float)
    bins = natural_breaks(rates)
    colours = [colour_of(i, len(bins)) for i in range(len(bins))] + [colour_of(-1, len(bins))]
    props: list[list[Any]] = []
    reasons: dict[str, int] = {}
    for code, name in zip(areas["code"], areas["name"]):
        row = stats.loc[code]
        hubs = row["hubs"] if isinstance(row["hubs"], dict) else {}
        hub_text = " ".join(f"{catalogue.types[k].label if k in catalogue.types else k} {n}"
                            for k, n in sorted(hubs.items())) or "なし"
        cls = class_of(shade.values.get(code), bins)
        gap = gaps.loc[code] if gaps is not None and code in gaps.index else None
        # A compact row per area (numbers, not formatted text): the page formats them. Six
        # thousand areas' figures then take a fifth of what labelled, formatted fields would.
        prop: list[Any] = [name, row["parent_code"], _number(row["population"], 0),
                           _number(row["pop65"], 0), _number(row["aging_rate"], 1),
                           _number(row["late_aging_rate"], 1), hub_text,
                           cls if cls >= 0 else len(bins)]
        if gap is not None:
            # Reasons repeat (one sentence for every area in membership mode): indexed.
            prop += [_number(gap["reach_rate"], 1),
                     reasons.setdefault(str(gap["reason"]), len(reasons))
                     if gap["lacking"] else None]
        if options.indicator:
            prop += [None, None] if gap is None else []
            prop.append(shade.text(shade.values.get(code)))
        props.append(prop)

    # Geometry: simplify the areas as a coverage in metres, derive the parents from the
    # simplified areas (so they share vertices exactly), and store all as one topology.
    tolerance = display_tolerance(float(areas.geometry.area.sum()), len(areas))
    simple = areas[["code", "parent_code", "geometry"]].set_geometry(
        simplify_coverage(areas.geometry.to_numpy(), tolerance))
    objects = {"areas": simple.assign(i=np.arange(len(simple)))[["i", "geometry"]]}
    if upper is not None:
        parents = simple.assign(pc=simple["parent_code"].fillna("")).dissolve(
            "pc", method="coverage").reset_index()
        objects["parents"] = parents.assign(i=np.arange(len(parents)))[["i", "geometry"]]
    topo = topology({k: v.to_crs(4326) for k, v in objects.items()})

    bounds = city.to_crs(4326).total_bounds
    fmap = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
                      tiles=None, zoom_control=True, control_scale=False, prefer_canvas=False,
                      zoom_snap=0.25)
    # Without a tile layer Leaflet has no maxZoom, which MarkerCluster needs.
    fmap.options["maxZoom"] = 19
    fmap.options["minZoom"] = 5
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    MetricScale().add_to(fmap)  # metres and kilometres only: Leaflet's default adds miles
    if options.tiles == "osm":
        folium.TileLayer("OpenStreetMap", name="背景地図（OpenStreetMap）").add_to(fmap)

    outline = folium.FeatureGroup(name=esc(f"{city_name}の輪郭"), control=False).add_to(fmap)
    choropleth = folium.FeatureGroup(name=esc(f"{shade.label}（{layer_def.label}）")
                                     ).add_to(fmap)
    parent_group = None
    if upper is not None:
        parent_group = folium.FeatureGroup(name=esc(f"{scheme.layer(upper).label}の境界"))
    profile_js = _profile_js(parent_stats, upper and scheme.layer(upper).label, city_stats,
                             city_name, f"{type_def.label}の圏内率", shade.label)
    areas_js = TopoAreas(topo, props, colours, target=choropleth.get_name(),
                         outline=outline.get_name(),
                         parents=parent_group.get_name() if parent_group else None,
                         each=profile_js)
    fmap.get_root().header.add_child(folium.Element(  # type: ignore[attr-defined]
        f"<script>window.kmReasons = {script_json(list(reasons))};"
        f"window.kmHasGaps = {'true' if gaps is not None else 'false'};"
        "function kmEsc(s) { return String(s).replace(/[&<>\"]/g, function(c) {"
        " return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '\"': '&quot;'}[c]; }); }"
        "</script>"))
    gap_label = None
    if gaps is not None:
        gap_label = gap_subject
        gap_group = folium.FeatureGroup(name=esc(gap_label)).add_to(fmap)
    if parent_group is not None:
        parent_group.add_to(fmap)
    areas_js.add_to(fmap)
    if gaps is not None:
        GapOutline(areas_js.get_name(), gap_group.get_name(), GAP_COLOUR).add_to(fmap)

    hub_rows = _add_hubs(fmap, ws, catalogue, hub_type, options)
    reach = None
    if options.radius and options.network is not None:
        reach = _isochrones(fmap, ws, hub_type, type_def.label, options)
    elif options.radius:
        reach = (f"{type_def.label}の徒歩{options.radius:.0f}m圏（直線"
                 f"{options.radius / options.detour:.0f}m）")
    if options.siting:
        _add_siting(fmap, ws, options.siting)

    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    unit = options.network.walking.unit if options.network is not None else "m"
    title = (f"{city_name} {layer_def.label}別の{shade.label}と{type_def.label}"
             + (f"（徒歩{options.radius:.0f}{unit}圏）" if options.radius else ""))
    root = fmap.get_root()
    root.header.add_child(folium.Element(LEGEND_CSS))  # type: ignore[attr-defined]
    root.html.add_child(folium.Element(  # type: ignore[attr-defined]
        f'<div class="km-title">{esc(title)}</div><div class="km-north">N ↑</div>'
        + HATCH_SVG
        + legend_html(bins=bins, city_rate=shade.city,
                      city_name=city_name, gap_label=gap_label, hub_rows=hub_rows,
                      sources=[*source_lines(ws), *shade.notes], reach=reach,
                      title=shade.legend, unit=shade.unit)))
    root.title = esc(title)  # type: ignore[attr-defined]
    page = unescape_unicode(inline_assets(fmap.get_root().render()))
    page = page.replace("<head>", '<head>\n<meta charset="utf-8">', 1)
    facts = {"layer": layer, "areas": len(areas), "hub_type": hub_type,
             "hub_label": type_def.label, "bins": bins, "gap_subject": gap_subject,
             "lacking": None if gaps is None else
             sum(1 for p in props if len(p) > 9 and p[9] is not None),
             "bytes": len(page.encode()), "title": title}
    return page, facts


@dataclass
class Shading:
    """What the areas are coloured by: 高齢化率, or an indicator (``map --indicator``)."""

    values: pd.Series  # by area code
    label: str
    legend: str
    unit: str
    city: float | None
    notes: list[str]

    def text(self, value: Any) -> str:
        if _nan(value):
            return "—"
        if self.unit == "pt":
            return f"{float(value):+.1f}pt"
        return f"{float(value):.1f}%" if self.unit == "%" else f"{float(value):,.0f}{self.unit}"


def _shading(ws: Workspace, layer: str, top: str, indicator: str | None, stats: Any,
             city_stats: dict[str, Any]) -> Shading:
    """高齢化率 by default; with ``indicator``, its rate where it has a denominator, else its
    count or published rate, classed the same way, with the city's own value marked."""
    if indicator is None:
        city = city_stats["aging_rate"]
        return Shading(stats["aging_rate"], "高齢化率", "高齢化率（65歳以上の割合）", "%",
                       None if _nan(city) else float(city), [RATE_BASES["total"]])
    from kenmap.people.indicators import field_label, indicator_figures, indicator_info

    info = indicator_info(ws, indicator, "--indicator")
    column = f"{indicator}_rate" if info.get("per") else indicator
    figures, note = indicator_figures(ws, layer, indicator)
    if figures[column].isna().all():
        raise KenmapError(note or f"{info['label']}の値がこのレイヤにありません",
                          field="--indicator")
    city_figures, _ = indicator_figures(ws, top, indicator)
    whole: Any = city_figures[column].iloc[0] if len(city_figures) == 1 else None
    unit = "%" if info.get("per") or info["kind"] == "rate" else str(info.get("unit") or "")
    label = field_label(ws, column)
    source = f"{info['label']}: {info.get('source') or info.get('file')}" + (
        f"（基準日 {info['as_of']}）" if info.get("as_of") else "")
    return Shading(figures[column], label, label + (f"（{unit}）" if unit else ""), unit,
                   None if _nan(whole) else float(whole), [source, *([note] if note else [])])


def _activity_gaps(ws: Workspace, layer: str, name: str) -> tuple[pd.DataFrame, str]:
    """The areas of ``layer`` that did not do activity ``name`` in its latest fiscal year
    (on a coarser layer: none of its areas did), drawn like the areas lacking a hub."""
    from kenmap.people.activities import ACTIVITIES, activity_share

    kept = (ws.get(ACTIVITIES, {}) or {}).get(name)
    if kept is None:
        there = "、".join(ws.get(ACTIVITIES, {}) or {}) or "なし"
        raise KenmapError(f"活動「{name}」の記録がありません（取り込まれている活動: {there}）",
                          field="--activity")
    year = max(kept["years"])
    try:
        share, _ = activity_share(ws, name, year, layer)
    except KenmapError as exc:
        raise KenmapError(exc.message, field="--activity") from None
    own = ws.scheme.layer(kept["layer"]).label
    reason = f"{year}年度に{name}の実施がありません" if layer == kept["layer"] else \
        f"{year}年度に{name}を実施した{own}がありません"
    lacking = share.fillna(0).to_numpy() == 0
    table = pd.DataFrame({"lacking": lacking, "reason": np.where(lacking, reason, ""),
                          "reach_rate": share.to_numpy()}, index=share.index)
    return table, f"{name}のない{ws.scheme.layer(layer).label}（{year}年度）"


def _changes(ws: Workspace, layer: str, top: str, since: str, stats: Any,
             city_stats: dict[str, Any]) -> Shading:
    """The change of 高齢化率 since ``since`` in points (areas whose rate rose most darkest),
    and the hubs opened since then."""
    from kenmap.hubs.table import counting
    from kenmap.people.snapshots import as_of, period_end

    then = as_of(ws, since, "--compare")
    before = layer_stats(then, layer).set_index("code")["aging_rate"]
    change = stats["aging_rate"] - before.reindex(stats.index)
    city_then = total_row(layer_stats(then, top))["aging_rate"]
    city = None if _nan(city_stats["aging_rate"]) or _nan(city_then) else \
        float(city_stats["aging_rate"]) - float(city_then)
    end = period_end(since, "--compare")
    hubs = counting(ws.read_points("hubs"), ws) if "hubs" in ws.tables() else None
    opened: dict[str, int] = {}
    if hubs is not None and len(hubs) and "opened" in hubs.columns:
        new = hubs[[isinstance(d, str) and d > end for d in hubs["opened"].tolist()]]
        opened = {str(k): int(n) for k, n in new["type"].value_counts().items()}
    catalogue = catalogue_of(ws.get("hub_types"))
    hub_line = "、".join(f"{catalogue.get(t).label} {n}か所" for t, n in opened.items())
    notes = [f"高齢化率の変化 = 今の高齢化率 − {since} 時点（ポイント）",
             f"{since} より後に開設した拠点: {hub_line or 'なし（開設日のある拠点のみ）'}"]
    label = f"高齢化率の変化（{since}→）"
    return Shading(change, label, label, "pt", city, notes)


def _number(value: Any, digits: int) -> float | int | None:
    """A figure for the page: rounded, None when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value)) if digits == 0 else round(float(value), digits)


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _profile_js(parent_stats: Any, parent_label: str | None, city: dict[str, Any],
                city_name: str, reach_label: str, extra_label: str = "") -> str:
    """onEachFeature: a click opens the area's profile next to its parent's and the city's."""
    parents = {}
    if parent_stats is not None:
        for code, row in parent_stats.iterrows():
            parents[str(code)] = [row["name"], fmt_count(row["population"]),
                                  fmt_count(row["pop65"]), fmt_rate(row["aging_rate"]),
                                  fmt_rate(row["late_aging_rate"])]
    city_row = [city_name, fmt_count(city["population"]), fmt_count(city["pop65"]),
                fmt_rate(city["aging_rate"]), fmt_rate(city["late_aging_rate"])]
    return f"""{{
  tooltip: function(p) {{
    var tip = '<table><tr><th>名称</th><td>' + kmEsc(p.n) + '</td></tr><tr><th>人口</th><td>' +
      kmEsc(p.p) + '</td></tr><tr><th>65歳以上</th><td>' + kmEsc(p.o) + '</td></tr>' +
      '<tr><th>高齢化率</th><td>' + kmEsc(p.r) + '</td></tr><tr><th>拠点</th><td>' +
      kmEsc(p.h) + '</td></tr>';
    if (p.q !== undefined) {{
      tip += '<tr><th>' + kmEsc({script_json(reach_label)}) + '</th><td>' + kmEsc(p.q) +
        '</td></tr>';
    }}
    if (p.g !== undefined) {{
      tip += '<tr><th>不足</th><td>' + kmEsc(window.kmReasons[p.g]) + '</td></tr>';
    }}
    if (p.x !== undefined) {{
      tip += '<tr><th>' + kmEsc({script_json(extra_label)}) + '</th><td>' + kmEsc(p.x) +
        '</td></tr>';
    }}
    return tip + '</table>';
  }},
  profile: function(p) {{
    var P = {script_json(parents)};
    var C = {script_json(city_row)};
    var plabel = {script_json(parent_label or "")};
    var q = P[p.pc];
    var cols = [[p.n, p.p, p.o, p.r, p.l]];
    var heads = ['この区域'];
    if (q) {{ cols.push(q); heads.push(plabel + '：' + q[0]); }}
    cols.push(C); heads.push('市全体');
    var rows = [['人口', 1], ['65歳以上', 2], ['高齢化率', 3], ['後期高齢化率', 4]];
    var h = '<table class="km-profile"><tr><th>' + kmEsc(p.n) + '</th>';
    heads.forEach(function(t) {{ h += '<th>' + kmEsc(t) + '</th>'; }});
    h += '</tr>';
    rows.forEach(function(r) {{
      h += '<tr><td>' + r[0] + '</td>';
      cols.forEach(function(c) {{ h += '<td>' + kmEsc(c[r[1]]) + '</td>'; }});
      h += '</tr>';
    }});
    h += '</table><div>拠点: ' + kmEsc(p.h) + '</div>';
    if (p.g !== undefined) {{
      h += '<div style="color:#bd0026">不足: ' + kmEsc(window.kmReasons[p.g]) + '</div>';
    }}
    return h;
  }}
}}"""


def _add_hubs(fmap: folium.Map, ws: Workspace, catalogue: Any, chosen: str,
              options: MapOptions) -> list[tuple[str, str, str]]:
    hubs = read_hubs(ws)
    if len(hubs) == 0:
        return []
    lonlat = hubs.to_crs(4326)
    rows = []
    for key, hub_type in catalogue.types.items():
        subset = lonlat[lonlat["type"] == key]
        if len(subset) == 0:
            continue
        text = glyph(key, hub_type.label, hub_type.icon)
        counts = subset["status"].value_counts()
        detail = "・".join(f"{STATUS_LABELS.get(s, s)}{n}" for s, n in counts.items())
        group: folium.FeatureGroup = folium.FeatureGroup(
            name=esc(f"{hub_type.label}（{detail}）"))  # every imported type is shown
        target: Any = MarkerCluster(options={"maxClusterRadius": 40}).add_to(group) \
            if len(subset) > CLUSTER_OVER else group
        data = []
        for _, hub in subset.iterrows():
            status = str(hub.get("status") or "existing")
            tip = (f"<b>{esc(str(hub['name']))}</b><br>{esc(hub_type.label)}"
                   f"（{STATUS_LABELS.get(status, status)}）")
            for field, label in (("schedule", "開催"), ("host", "会場"), ("address", "住所")):
                value = hub.get(field)
                if value is not None and str(value) not in ("", "nan", "None"):
                    tip += f"<br>{label}: {esc(str(value))}"
            data.append([round(hub.geometry.y, 6), round(hub.geometry.x, 6), text, status,
                         tip])
        group.add_to(fmap)
        rows.append((hub_type.colour, text, hub_type.label))
        circles = None
        if key == chosen and options.radius and options.network is None:
            circles = folium.FeatureGroup(
                name=esc(f"{hub_type.label}の徒歩{options.radius:.0f}m圏")).add_to(fmap)
        straight = options.radius / options.detour \
            if circles is not None and options.radius else None
        HubMarkers(data, hub_type.colour, target.get_name(),
                   circles.get_name() if circles is not None else None, straight).add_to(fmap)
    return rows


def _isochrones(fmap: folium.Map, ws: Workspace, hub_type: str, label: str,
                options: MapOptions) -> str:
    """Reach along the streets drawn as the demand cells within it, merged (isochrone areas);
    returns the legend's line."""
    from kenmap.access.demand import demand_cells
    from kenmap.access.reach import hubs_of

    assert options.network is not None and options.radius is not None
    demand = demand_cells(ws)
    walk = options.network.walk(demand, hubs_of(ws, hub_type))
    reached = np.flatnonzero(walk <= options.radius)
    # The grid squares (aligned to the zone's origin) holding a reached cell, merged.
    size = demand.cell
    squares = np.unique(np.floor(np.c_[demand.x[reached], demand.y[reached]] / size), axis=0)
    boxes = shapely.box(squares[:, 0] * size, squares[:, 1] * size, (squares[:, 0] + 1) * size,
                        (squares[:, 1] + 1) * size)
    merged = shapely.coverage_union_all(boxes) if len(reached) else shapely.Polygon()
    unit = options.network.walking.unit
    text = (f"{label}の徒歩{options.radius:.0f}{unit}圏"
            f"（{options.network.walking.describe(options.network.network)}）")
    if not merged.is_empty:
        outline = gpd.GeoSeries([merged], crs=ws.crs_epsg).to_crs(4326)
        folium.GeoJson(outline.__geo_interface__, name=esc(text), style_function=lambda _: {
            "color": "#1f78b4", "weight": 1.5, "fillColor": "#1f78b4", "fillOpacity": 0.12},
            interactive=False).add_to(fmap)
    return text


def _add_siting(fmap: folium.Map, ws: Workspace, siting: dict[str, Any]) -> None:
    """Chosen sites of a siting result, numbered in the order of what they add, and the
    demand cells they newly bring within reach."""
    from kenmap.access.siting import newly_reached

    sites = siting.get("sites", [])
    radius = float(siting.get("radius_m") or 0)
    detour = float(siting.get("detour", DEFAULT_DETOUR))
    cells = newly_reached(ws, siting)
    if cells is not None:
        reached = folium.FeatureGroup(name=f"新たに届く範囲（{len(cells)}セル）").add_to(fmap)
        PointCloud(cells, "#6a3d9a", reached.get_name()).add_to(fmap)
    group = folium.FeatureGroup(name=f"新しい候補地（{len(sites)}か所）")
    for rank, site in enumerate(siting.get("sites", []), start=1):
        tip = (f"<b>{rank}. {esc(str(site.get('name', '')))}</b><br>"
               f"新たに届く65歳以上: {site.get('pop65_added', 0):,.0f}人")
        folium.Marker([site["lat"], site["lon"]], tooltip=folium.Tooltip(tip),
                      icon=folium.DivIcon(html=marker_html("#6a3d9a", str(rank), "existing"),
                                          icon_size=(24, 24), icon_anchor=(12, 12),
                                          class_name="km-site-icon")).add_to(group)
        if radius:
            folium.Circle([site["lat"], site["lon"]], radius=radius / detour,
                          color="#6a3d9a", weight=2, fill=True, fill_opacity=0.1,
                          interactive=False).add_to(group)
    group.add_to(fmap)
