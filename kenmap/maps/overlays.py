"""Compact client-side overlays: hub markers, reach circles, the gaps and the scale.

Hundreds of Folium ``Marker`` objects each carry their own JavaScript; here one array of
``[lat, lon, …]`` rows feeds a loop instead, into Folium feature groups (so the layer control
still lists them). The gap outline reuses the choropleth's own features rather than a second
copy of their geometry.
"""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from kenmap.maps.escape import script_json


class HubMarkers(MacroElement):
    """Markers (and optional reach circles) drawn from a compact array into a target layer."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var rows = {{ this.rows_json }};
  var css = {{ this.css_json }};
  rows.forEach(function(r) {
    var icon = L.divIcon({className: 'km-hub-icon', iconSize: [24, 24], iconAnchor: [12, 12],
      html: '<div class="km-hub km-' + r[3] + '" style="' + css[r[3]] + '">' + r[2] + '</div>'});
    L.marker([r[0], r[1]], {icon: icon}).bindTooltip(r[4]).addTo({{ this.target }});
  });
  {% if this.circles %}
  rows.forEach(function(r) {
    if (r[3] !== 'existing') { return; }
    L.circle([r[0], r[1]], {radius: {{ this.radius }}, color: '{{ this.colour }}', weight: 1,
      fillOpacity: 0.08, interactive: false, className: 'km-reach'}).addTo({{ this.circles }});
  });
  {% endif %}
})();
{% endmacro %}
""")

    def __init__(self, rows: list[list[Any]], colour: str, target: str,
                 circles: str | None = None, radius: float | None = None) -> None:
        super().__init__()
        self._name = "HubMarkers"
        self.rows_json = script_json(rows)
        self.css_json = script_json({
            "existing": f"background:{colour};color:#fff;border:2px solid #fff;" + _BASE,
            "planned": f"background:#fff;color:{colour};border:2px dashed {colour};" + _BASE,
            "candidate": f"background:#f2f2f2;color:#777;border:1.5px dotted {colour};"
                         "opacity:.85;" + _BASE,
        })
        self.target = target
        self.circles = circles
        self.radius = radius or 0
        self.colour = colour


_BASE = ("width:20px;height:20px;border-radius:50%;font:bold 12px/20px sans-serif;"
         "text-align:center;box-shadow:0 0 2px #000")


class GapOutline(MacroElement):
    """The areas lacking a hub, hatched and outlined on top of the choropleth.

    The hatch is an SVG pattern in screen pixels (``#km-hatch``, :data:`HATCH_SVG`), so it
    reads the same at every zoom. The layer answers the pointer as the area beneath would:
    the same tooltip (figures and the reason) and the same profile on a click.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var lacking = [];
  window.{{ this.source }}.eachLayer(function(layer) {
    if (window.kmProps[layer.feature.properties.i].g !== undefined) {
      lacking.push(layer.feature);
    }
  });
  // One layer and one tooltip for all of them: thousands of gaps stay fast to draw.
  var gaps = L.geoJSON({type: 'FeatureCollection', features: lacking}, {
    style: {color: '{{ this.colour }}', weight: 2.6, opacity: 0.95, fillColor: '{{ this.colour }}',
            fillOpacity: 1, className: 'km-gap'}
  });
  gaps.bindTooltip(function(layer) {
    return window.kmView.tooltip(window.kmProps[layer.feature.properties.i]);
  }, {sticky: true});
  gaps.on('mouseover', function(e) { e.layer.setStyle({weight: 4}); });
  gaps.on('mouseout', function(e) { gaps.resetStyle(e.layer); });
  gaps.on('click', window.kmOpenProfile);
  gaps.addTo({{ this.target }});
})();
{% endmacro %}
""")

    def __init__(self, source: str, target: str, colour: str) -> None:
        super().__init__()
        self._name = "GapOutline"
        self.source = source
        self.target = target
        self.colour = colour


#: The hatch of lacking areas: diagonal lines every 7 screen pixels over a faint tint. The CSS
#: fill overrides the colour Leaflet writes as an attribute on each ``path.km-gap``.
HATCH_SVG = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="km-hatch" patternUnits="userSpaceOnUse" width="7" height="7" '
    'patternTransform="rotate(45)"><rect width="7" height="7" fill="#222" fill-opacity="0.10"/>'
    '<line class="km-hatch-line" x1="1" y1="0" x2="1" y2="7" stroke="#111" stroke-width="2" '
    'stroke-opacity="0.8"/></pattern></defs></svg>'
    "<style>path.km-gap{fill:url(#km-hatch);fill-opacity:1}</style>")


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only."""

    _template = Template("""
{% macro script(this, kwargs) %}
L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


class TopoAreas(JSCSSMixin, MacroElement):
    """The choropleth from a TopoJSON topology, with parent boundaries and the city outline.

    Parents and the outline are meshes of the same arcs (``topojson.mesh``): each boundary is
    stored once in the page and drawn once on the map.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  var topo = {{ this.topo_json }};
  function fc(v) { return v === null ? '—' : v.toLocaleString('en-US'); }
  function fr(v) { return v === null ? '—' : v.toFixed(1) + '%'; }
  // Rows [name, parent, population, 65+, rate, late rate, hubs, class, reach, reason,
  // indicator text]; reach and reason only when the page has gaps (window.kmHasGaps).
  var P = {{ this.props_json }}.map(function(a) {
    var o = {n: a[0], pc: a[1], p: fc(a[2]), o: fc(a[3]), r: fr(a[4]), l: fr(a[5]), h: a[6],
             k: a[7]};
    if (window.kmHasGaps && a.length > 8) { o.q = fr(a[8]); if (a[9] !== null) { o.g = a[9]; } }
    if (a.length > 10) { o.x = a[10]; }
    return o;
  });
  var colours = {{ this.colours_json }};
  L.geoJson(topojson.mesh(topo, topo.objects.areas, function(a, b) { return a === b; }), {
    style: {color: '#444', weight: 2.4, fill: false}, interactive: false
  }).addTo({{ this.outline }});
  var areas = L.geoJson(topojson.feature(topo, topo.objects.areas), {
    style: function(f) {
      return {fillColor: colours[P[f.properties.i].k], color: '#666', weight: 0.6,
              fillOpacity: 0.8, className: 'km-area'};
    }
  }).addTo({{ this.target }});
  window.kmProps = P;
  // One tooltip, one popup and one pair of hover handlers for the whole layer: thousands of
  // areas draw fast because nothing is bound to each of them.
  var view = ({{ this.each }});
  areas.bindTooltip(function(layer) { return view.tooltip(P[layer.feature.properties.i]); },
                    {sticky: true});
  areas.on('mouseover', function(e) { e.layer.setStyle({weight: 2.5, color: '#000'}); });
  areas.on('mouseout', function(e) { areas.resetStyle(e.layer); });
  // The same profile whichever layer was clicked (the areas or the lacking ones on top).
  window.kmView = view;
  window.kmOpenProfile = function(e) {
    L.popup({maxWidth: 420}).setLatLng(e.latlng)
      .setContent(view.profile(P[e.layer.feature.properties.i])).openOn(e.layer._map);
  };
  areas.on('click', window.kmOpenProfile);
  window.{{ this.get_name() }} = areas;
  {% if this.parents %}
  L.geoJson(topojson.mesh(topo, topo.objects.parents, function(a, b) { return a !== b; }), {
    style: {color: '#08306b', weight: 2.2, fill: false, className: 'km-parent'},
    interactive: false
  }).addTo({{ this.parents }});
  {% endif %}
})();
{% endmacro %}
""")

    default_js = [  # noqa: RUF012 - JSCSSMixin's own attribute
        ("topojson", "https://cdn.jsdelivr.net/npm/topojson-client@3/dist/topojson-client.min.js")]

    def __init__(self, topo: dict[str, Any], props: list[list[Any]], colours: list[str],
                 *, target: str, outline: str, parents: str | None, each: str) -> None:
        super().__init__()
        self._name = "TopoAreas"
        self.topo_json = script_json(topo)
        self.props_json = script_json(props)
        self.colours_json = script_json(colours)
        self.target = target
        self.outline = outline
        self.parents = parents
        self.each = each


class PointCloud(MacroElement):
    """Many small dots (e.g. newly reached demand cells) from one compact array."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function() {
  {{ this.rows_json }}.forEach(function(r) {
    L.circleMarker(r, {radius: 3, weight: 0, fillColor: '{{ this.colour }}', fillOpacity: 0.7,
                       interactive: false, className: 'km-reached'}).addTo({{ this.target }});
  });
})();
{% endmacro %}
""")

    def __init__(self, rows: list[list[float]], colour: str, target: str) -> None:
        super().__init__()
        self._name = "PointCloud"
        self.rows_json = script_json(rows)
        self.colour = colour
        self.target = target
