// The areas on the map: drawn once per layer on a canvas (a 6,000-area city stays fluid),
// then only restyled — by indicator, by the areas lacking a hub, by the area selected. A save
// changes the style of the few areas whose status changed, nothing is drawn again.

import { get } from './api.js';
import { clear, el, number } from './dom.js';

// The colours of kenmap's static maps (YlOrRd, 5 classes; grey for no data).
const CLASS_COLOURS = ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'];
const NO_DATA = '#d9d9d9';
const GAP = '#111111';
const SELECTED = '#1565c0';
const SAMPLE = 1000;

export class AreaMap {
  constructor(container, handlers) {
    L.PM.initialize({ optIn: true }); // only hubs are editable, never the areas
    this.map = L.map(container, { preferCanvas: true, zoomSnap: 0.25, attributionControl: false });
    this.map.pm.setLang('ja');
    // A hub dropped near another must stay where it was dropped, not jump onto it.
    this.map.pm.setGlobalOptions({ snappable: false });
    this.renderer = L.canvas({ padding: 0.5, tolerance: 3 });
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(this.map);
    this.handlers = handlers;
    this.layers = new Map(); // layer key → { group, byCode, features, bins }
    this.current = null;
    this.indicator = { key: 'aging_rate', label: '高齢化率', unit: '%' };
    this.lacking = new Set();
    this.gapLabel = null;
    this.selected = null;
    this.tooltip = L.tooltip({ sticky: true, direction: 'top', offset: [0, -6], className: 'km-area-tip' });
    this.legend = this.makeLegend();
  }

  // Show a layer's areas, fetching and drawing them the first time only.
  async showLayer(key) {
    let entry = this.layers.get(key);
    if (!entry) {
      const data = await get(`/api/layers/${encodeURIComponent(key)}/areas`);
      entry = this.build(key, data);
      this.layers.set(key, entry);
    }
    const first = this.current === null;
    if (this.current && this.current !== entry) this.map.removeLayer(this.current.group);
    this.current = entry;
    this.lacking = new Set();
    this.selected = null;
    if (first) this.fit(entry.group.getBounds());
    entry.group.addTo(this.map);
    this.restyle();
    return entry;
  }

  // Fit the map to `bounds`; while the map is hidden (the sign-in screen) it has no size, so
  // the fit waits until it is shown (see resized).
  fit(bounds) {
    const size = this.map.getSize();
    if (size.x > 0 && size.y > 0) {
      this.map.fitBounds(bounds, { padding: [10, 10] });
      this.pendingFit = null;
    } else {
      this.map.setView(bounds.getCenter(), 10, { animate: false });
      this.pendingFit = bounds;
    }
  }

  resized() {
    this.map.invalidateSize();
    if (this.pendingFit) this.fit(this.pendingFit);
  }

  build(key, data) {
    const byCode = new Map();
    const features = [];
    const group = L.geoJSON(data, {
      renderer: this.renderer,
      pmIgnore: true,
      style: () => ({ weight: 0.6, color: '#666666', fillOpacity: 0.72, fillColor: NO_DATA }),
      onEachFeature: (feature, layer) => {
        const code = String(feature.id ?? feature.properties.code);
        byCode.set(code, layer);
        features.push(feature);
        layer.kmCode = code;
        layer.kmStyle = '';
      },
    });
    group.on('click', (event) => {
      if (event.layer && event.layer.kmCode) this.handlers.onArea(event.layer.kmCode);
    });
    group.on('mouseover', (event) => {
      const feature = event.layer && event.layer.feature;
      if (!feature) return;
      this.tooltip.setContent(this.tip(feature)).setLatLng(event.latlng);
      this.map.openTooltip(this.tooltip);
    });
    group.on('mousemove', (event) => this.tooltip.setLatLng(event.latlng));
    group.on('mouseout', () => this.map.closeTooltip(this.tooltip));
    return { key, group, byCode, features, bins: new Map() };
  }

  tip(feature) {
    const p = feature.properties;
    const value = p[this.indicator.key];
    return el('div', {},
      el('strong', {}, p.name ?? p.code),
      el('div', {}, `${this.indicator.label} ${number(value, this.indicator.unit)}`),
      this.lacking.has(String(feature.id ?? p.code)) && this.gapLabel
        ? el('div', { class: 'km-tip-gap' }, this.gapLabel) : null);
  }

  setIndicator(indicator) {
    this.indicator = indicator;
    this.restyle();
  }

  // The areas lacking a hub (codes); `label` says lacking what (for tooltips and legend).
  setLacking(codes, label) {
    this.lacking = new Set(codes);
    this.gapLabel = label;
    this.restyle();
  }

  select(code) {
    this.selected = code;
    this.restyle();
  }

  breaks(entry) {
    const key = this.indicator.key;
    if (!entry.bins.has(key)) {
      const values = entry.features.map((f) => f.properties[key])
        .filter((v) => typeof v === 'number' && Number.isFinite(v));
      entry.bins.set(key, naturalBreaks(values, CLASS_COLOURS.length));
    }
    return entry.bins.get(key);
  }

  // Restyle the areas whose look changed (a save changes a few; nothing is redrawn from data).
  restyle() {
    const entry = this.current;
    if (!entry) return 0;
    const bins = this.breaks(entry);
    let changed = 0;
    for (const feature of entry.features) {
      const layer = entry.byCode.get(String(feature.id ?? feature.properties.code));
      const cls = classOf(feature.properties[this.indicator.key], bins);
      const lacking = this.lacking.has(layer.kmCode);
      const selected = this.selected === layer.kmCode;
      const look = `${cls}|${bins.length}|${lacking}|${selected}`;
      if (layer.kmStyle === look) continue;
      layer.kmStyle = look;
      layer.setStyle({
        fillColor: cls < 0 ? NO_DATA : colourOf(cls, bins.length),
        color: selected ? SELECTED : (lacking ? GAP : '#666666'),
        weight: selected ? 4 : (lacking ? 2.6 : 0.6),
        dashArray: lacking && !selected ? '7 4' : null,
      });
      if (lacking || selected) layer.bringToFront();
      changed += 1;
    }
    this.updateLegend(bins);
    return changed;
  }

  fitArea(code) {
    const layer = this.current && this.current.byCode.get(code);
    if (!layer) return;
    this.map.fitBounds(layer.getBounds(), { maxZoom: 15, padding: [40, 40] });
    this.select(code);
  }

  nameOf(code) {
    const layer = this.current && this.current.byCode.get(code);
    return layer ? (layer.feature.properties.name ?? code) : code;
  }

  makeLegend() {
    const control = L.control({ position: 'bottomright' });
    control.onAdd = () => {
      const box = el('div', { class: 'km-legend', id: 'km-legend' });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    control.addTo(this.map);
    return control;
  }

  updateLegend(bins) {
    const box = this.legend.getContainer();
    clear(box);
    const unit = this.indicator.unit;
    box.append(el('div', { class: 'km-legend-title' }, this.indicator.label));
    let lower = null;
    bins.forEach((upper, i) => {
      const swatch = el('i', { class: 'km-swatch' });
      swatch.style.background = colourOf(i, bins.length);
      const range = lower === null ? `〜${number(upper, unit)}` : `${number(lower, unit)}–${number(upper, unit)}`;
      box.append(el('div', {}, swatch, range));
      lower = upper;
    });
    const none = el('i', { class: 'km-swatch' });
    none.style.background = NO_DATA;
    box.append(el('div', {}, none, '不明・人口なし'));
    if (this.gapLabel) box.append(el('div', {}, el('i', { class: 'km-swatch km-swatch-gap' }), this.gapLabel));
  }
}

function classOf(value, bins) {
  if (typeof value !== 'number' || !Number.isFinite(value) || bins.length === 0) return -1;
  for (let i = 0; i < bins.length; i += 1) if (value <= bins[i] + 1e-9) return i;
  return bins.length - 1;
}

// Fewer classes spread over the whole ramp, so the darkest stays darkest (as the static maps).
function colourOf(cls, count) {
  const index = Math.round((cls * (CLASS_COLOURS.length - 1)) / Math.max(count - 1, 1));
  return CLASS_COLOURS[index];
}

// Upper bounds of up to k classes: Fisher–Jenks natural breaks, like the static maps. Over
// 1,000 values it classifies 1,000 evenly spaced quantiles (the distribution's shape) and ends
// the top class at the true maximum, as kenmap.maps.style does.
export function naturalBreaks(values, k) {
  const sorted = Float64Array.from(values).sort();
  const distinct = [...new Set(sorted)];
  if (distinct.length === 0) return [];
  if (distinct.length <= k) return distinct;
  let sample = sorted;
  if (sorted.length > SAMPLE) {
    sample = new Float64Array(SAMPLE);
    for (let i = 0; i < SAMPLE; i += 1) {
      const at = (i * (sorted.length - 1)) / (SAMPLE - 1);
      const lo = Math.floor(at);
      const hi = Math.min(lo + 1, sorted.length - 1);
      sample[i] = sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
    }
  }
  const bins = jenks(sample, k);
  bins[bins.length - 1] = distinct[distinct.length - 1];
  return bins;
}

function jenks(data, k) {
  const n = data.length;
  const lower = Array.from({ length: n + 1 }, () => new Int32Array(k + 1));
  const cost = Array.from({ length: n + 1 }, () => new Float64Array(k + 1).fill(Infinity));
  for (let j = 1; j <= k; j += 1) { lower[1][j] = 1; cost[1][j] = 0; }
  for (let l = 2; l <= n; l += 1) {
    let s1 = 0; let s2 = 0; let v = 0;
    for (let m = 1; m <= l; m += 1) {
      const first = l - m + 1;
      const value = data[first - 1];
      s1 += value; s2 += value * value;
      v = s2 - (s1 * s1) / m;
      const before = first - 1;
      if (before === 0) continue;
      for (let j = 2; j <= k; j += 1) {
        if (cost[l][j] >= v + cost[before][j - 1]) {
          lower[l][j] = first;
          cost[l][j] = v + cost[before][j - 1];
        }
      }
    }
    lower[l][1] = 1;
    cost[l][1] = v;
  }
  const bins = new Array(k);
  bins[k - 1] = data[n - 1];
  let end = n;
  for (let j = k; j >= 2; j -= 1) {
    const start = lower[end][j];
    bins[j - 2] = data[start - 2];
    end = start - 1;
  }
  return bins;
}
