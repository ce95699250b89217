// What-if siting: where would k new hubs reach the most older residents. The chosen sites are
// numbered on the map and in the list with what each adds; a site can be dropped or pinned and
// the question asked again; the answer can be applied as planned hubs.

import { ApiError, clearErrors, post, showError, upload } from './api.js';
import { ask, clear, el, number, option, toast } from './dom.js';

export class Siting {
  constructor(app) {
    this.app = app;
    this.group = L.layerGroup();
    this.pinned = [];
    this.excluded = [];
    this.question = null;
    this.result = null;
    this.form = null;
    this.results = null;
    this.area = null; // the drawn polygon (a Leaflet layer) whose grid holds the candidates
    this.points = null; // candidate places read from an uploaded list
    this.listName = null;
    app.areaMap.map.on('pm:create', (event) => this.drawn(event));
  }

  panel() {
    const app = this.app;
    const type = app.state.hub_type;
    const radius = (app.config.hub_types.find((t) => t.key === type) || {}).radius_m || 500;
    this.results = el('div', { class: 'km-siting-results', 'aria-live': 'polite' });
    this.form = el('form', { class: 'km-siting-form', novalidate: true },
      el('h2', {}, '配置の検討（新しい拠点をどこに置くと良いか）'),
      el('div', { class: 'km-field' }, el('label', {}, '拠点の種類',
        el('select', { name: 'hub_type' }, app.config.hub_types.map((t) => option(t.key, t.label, t.key === type)))),
      el('span', { class: 'km-error', 'data-error-for': 'hub_type' })),
      el('div', { class: 'km-row' },
        el('div', { class: 'km-field' }, el('label', {}, '置く数',
          el('input', { name: 'k', type: 'number', min: 1, max: app.config.siting_max_k, value: '3', inputmode: 'numeric' })),
        el('span', { class: 'km-error', 'data-error-for': 'k' })),
        el('div', { class: 'km-field' }, el('label', {}, '歩いて届く半径（m）',
          el('input', { name: 'radius', type: 'number', min: 50, max: 5000, step: 50, value: String(radius), inputmode: 'numeric' })),
        el('span', { class: 'km-error', 'data-error-for': 'radius' }))),
      el('fieldset', {}, el('legend', {}, '候補地'),
        el('label', { class: 'km-inline' }, el('input', { type: 'radio', name: 'candidates', value: 'candidate', checked: true }),
          '状態が「候補地」の拠点（集会所・空き店舗など）'),
        el('label', { class: 'km-inline' }, el('input', { type: 'radio', name: 'candidates', value: 'grid' }),
          '不足する区域に格子状の候補を置く　間隔',
          el('input', { name: 'candidate_grid', type: 'number', min: 50, max: 5000, step: 50, value: '500', class: 'km-short' }), 'm'),
        el('label', { class: 'km-inline' }, el('input', { type: 'radio', name: 'candidates', value: 'area' }),
          '地図に描いた範囲に格子状の候補を置く（間隔は上と同じ）'),
        el('div', { class: 'km-actions km-small km-drawn-note' },
          el('button', { type: 'button', id: 'km-draw-area', onclick: () => this.startDrawing() }, '範囲を描く'),
          el('span', { class: 'km-note km-area-state' })),
        el('span', { class: 'km-error', 'data-error-for': 'candidate_area' }),
        el('label', { class: 'km-inline' }, el('input', { type: 'radio', name: 'candidates', value: 'list' }),
          '候補地の一覧（CSV・Excel・GeoJSON：名称と経度・緯度）'),
        el('div', { class: 'km-drawn-note' },
          el('input', { type: 'file', name: 'file', accept: '.csv,.xlsx,.geojson,.json,.zip,.gpkg', onchange: (event) => this.readList(event.target) }),
          el('span', { class: 'km-note km-list-state' })),
        el('span', { class: 'km-error', 'data-error-for': 'file' }),
        el('span', { class: 'km-error', 'data-error-for': 'candidate_points' }),
        el('span', { class: 'km-error', 'data-error-for': 'candidate_grid' }),
        el('span', { class: 'km-error', 'data-error-for': 'candidate_status' })),
      el('div', { class: 'km-pins' }),
      el('p', { class: 'km-error km-form-error', role: 'alert' }),
      el('div', { class: 'km-actions' },
        el('button', { type: 'submit', class: 'km-primary' }, '計算する'),
        el('button', { type: 'button', onclick: () => this.reset() }, '条件を戻す')));
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.pinned = [];
      this.excluded = [];
      this.run();
    });
    this.showPins();
    this.showSources();
    if (this.result) this.render();
    this.group.addTo(app.areaMap.map);
    if (this.area) this.area.addTo(app.areaMap.map);
    return el('div', { class: 'km-siting' }, this.form, this.results);
  }

  close() {
    const map = this.app.areaMap.map;
    map.removeLayer(this.group);
    if (this.drawing) map.pm.disableDraw();
    this.drawing = false;
    map.getContainer().classList.remove('km-drawing');
    if (this.area) map.removeLayer(this.area);
  }

  // Draw mode: the planner clicks the corners of an area (the first again, or double-click,
  // to finish); the grid of candidates is laid inside it.
  startDrawing() {
    const map = this.app.areaMap.map;
    this.app.hubs.stopEditing();
    if (this.area) map.removeLayer(this.area);
    this.area = null;
    this.drawing = true;
    map.getContainer().classList.add('km-drawing'); // clicks on markers make corners too
    this.form.elements.candidates.value = 'area';
    map.pm.enableDraw('Polygon', { snappable: false, continueDrawing: false,
      pathOptions: { color: '#6a3d9a', weight: 2, fillOpacity: 0.08 } });
    this.showSources('地図上で範囲の角を順にクリックし、最初の点をクリックすると閉じます');
  }

  drawn(event) {
    if (event.shape !== 'Polygon' || !this.drawing) return;
    this.drawing = false;
    this.app.areaMap.map.getContainer().classList.remove('km-drawing');
    this.area = event.layer;
    this.area.options.pmIgnore = true;
    if (this.form) this.form.elements.candidates.value = 'area';
    this.showSources();
  }

  areaGeometry() {
    const ring = this.area.getLatLngs()[0].map((p) => [Number(p.lng.toFixed(7)), Number(p.lat.toFixed(7))]);
    ring.push(ring[0]);
    return { type: 'Polygon', coordinates: [ring] };
  }

  async readList(input) {
    const form = this.form;
    clearErrors(form);
    this.points = null;
    this.listName = null;
    const file = input.files && input.files[0];
    if (!file) { this.showSources(); return; }
    form.elements.candidates.value = 'list';
    const data = new FormData();
    data.append('file', file);
    this.showSources('読み込んでいます…');
    try {
      this.points = await upload('/api/siting/candidates', data);
      this.listName = file.name;
    } catch (error) {
      // Shown by the file input, naming the row and column of the list at fault.
      const column = error.field && error.field !== 'file' ? `（列「${error.field}」）` : '';
      showError(new ApiError(error.status, { error: `${error.message}${column}`, file: error.file, row: error.row, field: 'file' }), form);
    }
    this.showSources();
  }

  showSources(drawingHint) {
    if (!this.form) return;
    const area = this.form.querySelector('.km-area-state');
    area.textContent = drawingHint || (this.area ? '範囲を描きました（描き直すにはもう一度「範囲を描く」）' : '');
    this.form.querySelector('.km-list-state').textContent = this.points
      ? `${this.listName}: ${number(this.points.length)} か所を読み込みました` : '';
  }

  reset() {
    this.pinned = [];
    this.excluded = [];
    this.result = null;
    this.group.clearLayers();
    clear(this.results);
    this.showPins();
  }

  ask() {
    const f = this.form.elements;
    const question = {
      hub_type: f.hub_type.value,
      k: Number(f.k.value),
      radius: Number(f.radius.value) || null,
      layer: this.app.state.layer,
    };
    if (f.candidates.value === 'grid') question.candidate_grid = Number(f.candidate_grid.value);
    else if (f.candidates.value === 'area') {
      question.candidate_grid = Number(f.candidate_grid.value);
      question.candidate_area = this.area ? this.areaGeometry() : null;
    } else if (f.candidates.value === 'list') question.candidate_points = this.points;
    else question.candidate_status = 'candidate';
    if (this.pinned.length) question.pinned = this.pinned;
    if (this.excluded.length) question.excluded = this.excluded;
    return question;
  }

  async run() {
    clearErrors(this.form);
    const question = this.ask();
    if ('candidate_area' in question && !question.candidate_area) {
      showError(new ApiError(422, { error: '「範囲を描く」で地図に範囲を描いてください', field: 'candidate_area' }), this.form);
      return;
    }
    if ('candidate_points' in question && !question.candidate_points) {
      showError(new ApiError(422, { error: '候補地の一覧のファイルを選んでください', field: 'file' }), this.form);
      return;
    }
    if (!Number.isInteger(question.k) || question.k < 1 || question.k > this.app.config.siting_max_k) {
      showError(new ApiError(422, { error: `置く数は 1〜${this.app.config.siting_max_k} で指定してください`, field: 'k' }), this.form);
      return;
    }
    const button = this.form.querySelector('button[type=submit]');
    button.disabled = true;
    clear(this.results).append(el('p', { class: 'km-busy' }, '計算しています…'));
    try {
      this.result = await post('/api/siting', question);
      this.question = question;
      this.render();
    } catch (error) {
      clear(this.results);
      showError(error, this.form);
    } finally {
      button.disabled = false;
    }
  }

  render() {
    const app = this.app;
    const result = this.result;
    clear(this.results);
    this.group.clearLayers();
    const added = result.pop65_reached_after - result.pop65_reached_before;
    this.results.append(
      el('p', { class: 'km-summary-line' },
        `届く65歳以上: ${number(result.pop65_reached_before)} 人 → ${number(result.pop65_reached_after)} 人（+${number(added)} 人）`),
      el('p', { class: 'km-note' }, `候補 ${number(result.candidates)} か所から ${result.sites.length} か所（${result.optimal ? '最適解' : `近似解、最適との差 ${number(result.gap_percent, '%')} 以内`}・半径 ${number(result.radius_m)} m）`),
      ...(result.notes || []).map((note) => el('p', { class: 'km-note' }, note)));
    const list = el('ol', { class: 'km-sites' });
    result.sites.forEach((site, i) => {
      const fills = site.fills || site.areas_filled || [];
      const pinned = site.pinned || this.isPinned(site);
      const item = el('li', { class: 'km-site', dataset: { index: String(i + 1) } },
        el('span', { class: 'km-site-number' }, String(i + 1)),
        el('div', { class: 'km-site-body' },
          el('strong', {}, site.name || `候補地点 ${site.candidate_id}`, pinned ? '（固定）' : ''),
          el('div', {}, `65歳以上 +${number(site.pop65_added)} 人`),
          fills.length
            ? el('div', { class: 'km-note' }, `不足が解消する区域: ${fills.slice(0, 8).map((code) => app.areaMap.nameOf(code)).join('、')}${fills.length > 8 ? ` ほか ${fills.length - 8}` : ''}`)
            : el('div', { class: 'km-note' }, '不足が解消する区域はありません'),
          el('div', { class: 'km-actions km-small' },
            el('button', { type: 'button', onclick: () => this.drop(site) }, 'この地点を外す'),
            pinned
              ? el('button', { type: 'button', onclick: () => this.unpin(site) }, '固定をやめる')
              : el('button', { type: 'button', onclick: () => this.pin(site) }, 'この地点を固定'))));
      list.append(item);
      const marker = L.marker([site.lat, site.lon], {
        icon: L.divIcon({ html: el('div', { class: 'km-site-marker' }, String(i + 1)), className: 'km-site-icon', iconSize: [30, 30], iconAnchor: [15, 15] }),
        title: site.name || `候補地点 ${site.candidate_id}`, zIndexOffset: 1000,
      });
      marker.on('click', () => item.scrollIntoView({ block: 'nearest' }));
      this.group.addLayer(marker);
    });
    this.results.append(list);
    if (app.canEdit()) {
      this.results.append(el('div', { class: 'km-actions' },
        el('button', { type: 'button', class: 'km-primary', onclick: () => this.apply() },
          `この ${result.sites.length} か所を計画中の拠点として登録`)));
    }
    if (result.sites.length) {
      const bounds = L.latLngBounds(result.sites.map((s) => [s.lat, s.lon]));
      app.areaMap.map.fitBounds(bounds.pad(0.3), { maxZoom: 14 });
    }
    this.showPins();
  }

  isPinned(site) { return this.pinned.some((p) => p.lon === site.lon && p.lat === site.lat); }

  showPins() {
    const box = this.form && this.form.querySelector('.km-pins');
    if (!box) return;
    clear(box);
    if (this.pinned.length) box.append(el('p', { class: 'km-note' }, `固定した地点: ${this.pinned.length} か所`));
    if (this.excluded.length) box.append(el('p', { class: 'km-note' }, `外した地点: ${this.excluded.length} か所`));
  }

  drop(site) {
    this.pinned = this.pinned.filter((p) => !(p.lon === site.lon && p.lat === site.lat));
    this.excluded.push({ lon: site.lon, lat: site.lat });
    this.run();
  }

  pin(site) {
    this.pinned.push({ lon: site.lon, lat: site.lat });
    this.run();
  }

  unpin(site) {
    this.pinned = this.pinned.filter((p) => !(p.lon === site.lon && p.lat === site.lat));
    this.run();
  }

  // Write the shown sites as planned hubs: the same question with these sites pinned (when
  // the server takes pins), so exactly what is on the screen is applied.
  async apply() {
    const sites = this.result.sites;
    const answer = await ask('計画中の拠点として登録',
      el('p', {}, `${sites.length} か所を「計画」の${this.app.hubTypeLabel(this.result.hub_type)}として登録します。あとで地図上で動かしたり削除したりできます。`),
      [{ label: '登録する', value: 'apply', primary: true }, { label: 'やめる', value: 'cancel' }]);
    if (answer !== 'apply') return;
    const question = { ...this.question, apply: true };
    if (sites.length && sites[0].pinned !== undefined) {
      question.pinned = sites.map((s) => ({ lon: s.lon, lat: s.lat }));
      question.k = sites.length;
    }
    await this.app.saveTimed('siting', async () => {
      try {
        const result = await post('/api/siting', question);
        const ids = result.applied_hub_ids || [];
        toast(`${ids.length} か所を計画中の拠点として登録しました（「計画中の拠点も数える」で効果が見られます）`);
        this.reset();
        await this.app.hubs.load();
        return result;
      } catch (error) {
        showError(error, this.form);
        return null;
      }
    });
  }
}
