// The workbench: who is here and what they may do, the screens, the map's choices, and the
// figures (gaps, coverage) brought up to date after every save.

import { ApiError, clearErrors, get, hasToken, query, setCsrf, showError } from './api.js';
import { clear, el, number, option, toast } from './dom.js';
import { setupDownloads } from './downloads.js';
import { GAP_PAGE, renderGapList, renderSummary, showGapError } from './gaplist.js';
import { historyPanel, hubPanel } from './hubform.js';
import { Hubs } from './hubs.js';
import { AreaMap } from './mapview.js';
import { profilePanel } from './profile.js';
import { setupSignIn } from './signin.js';
import { Siting } from './siting.js';
import { usersScreen } from './users.js';
import { catalogueScreen } from './catalogue.js';
import { wizardScreen } from './wizard.js';

const ROLE_LABELS = { viewer: '閲覧', editor: '編集', admin: '管理者' };
const RANK = { viewer: 1, editor: 2, admin: 3 };
const $ = (id) => document.getElementById(id);

// The next animation frame: Leaflet redraws the canvas in the callbacks asked for first, then
// the frame is painted.
const nextPaint = () => new Promise((resolve) => requestAnimationFrame(resolve));

class Workbench {
  constructor(config) {
    this.config = config;
    this.me = null;
    this.state = {};
    this.gaps = null;
    this.gapIndex = new Map();
    this.lackingSorted = [];
    this.gapShown = GAP_PAGE;
    this.seq = 0;
    this.timings = []; // save → gaps visible, per save (read by the tests)
    this.screen = null;
    this.panelKind = null;
    this.tempMarker = null;
    this.dirty = false;
  }

  async start() {
    $('km-city').textContent = this.config.city || this.config.workspace;
    document.title = `kenmap ワークベンチ — ${this.config.city || this.config.workspace}`;
    this.setupLarge();
    this.areaMap = new AreaMap($('km-map'), { onArea: (code) => this.openProfile(code) });
    this.hubs = new Hubs(this);
    this.siting = new Siting(this);
    this.setupControls();
    this.setupScreens();
    setupSignIn(this);
    setupDownloads(this);
    await this.whoami();
    const wantsSignIn = this.me.sign_in && !this.me.user;
    this.showScreen(wantsSignIn ? 'signin' : 'map');
    await this.loadMap();
    document.body.dataset.ready = 'true';
  }

  // The current layer's areas, the hubs and the figures (or, in a workspace with no areas
  // yet, where to import them).
  async loadMap({ fresh = false } = {}) {
    if (!this.config.layers.length) {
      this.showEmpty();
      return;
    }
    delete document.body.dataset.empty;
    await Promise.all([this.areaMap.showLayer(this.state.layer), this.hubs.load()]);
    this.hubs.show(this.state.hub_type, this.state.all_types);
    await this.refreshFigures({ fresh });
  }

  showEmpty() {
    document.body.dataset.empty = 'true';
    clear($('km-summary')).append(el('p', { class: 'km-note' }, this.canEdit()
      ? 'まだ区域がありません。「データの取り込み」から境界のファイルを取り込んでください。'
      : 'まだ区域がありません。'));
  }

  // -- who is here ----------------------------------------------------------------------
  async whoami() {
    let me;
    try {
      me = await get('/auth/me', { fresh: true });
      this.accounts = true;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      // A server without accounts: reads are open, writes take the server's token.
      me = { user: null, role: null, csrf: null, read_only: !this.config.writable, sign_in: false };
      this.accounts = false;
    }
    setCsrf(me.csrf);
    if (!me.user && hasToken()) me = { ...me, user: 'トークン', role: 'admin', token: true };
    this.me = me;
    this.applyRole();
  }

  role() { return this.me && this.me.role ? this.me.role : null; }
  allows(needed) { return (RANK[this.role()] || 0) >= RANK[needed]; }
  canEdit() { return this.allows('editor'); }

  applyRole() {
    const me = this.me;
    for (const tab of document.querySelectorAll('.km-tab[data-needs]')) tab.hidden = !this.allows(tab.dataset.needs);
    $('km-edit-tools').hidden = !this.canEdit();
    this.hubs.setEditable(this.canEdit());
    $('km-who').textContent = me.user
      ? `${me.token ? 'トークンで編集中' : me.user}（${ROLE_LABELS[me.role] || me.role}）`
      : (me.read_only ? '閲覧のみのサーバー' : '閲覧中');
    $('km-signin-open').hidden = Boolean(me.user) || (!me.sign_in && me.read_only);
    $('km-signout').hidden = !me.user;
    document.body.dataset.role = me.role || 'anonymous';
    if (this.screen && this.screen !== 'signin' && this.screen !== 'map') {
      const tab = document.querySelector(`.km-tab[data-screen="${this.screen}"]`);
      if (tab && tab.hidden) this.showScreen('map');
    }
    if (this.panelKind === 'hub' && this.panelHub) this.openHub(this.panelHub);
    if (!this.config.layers.length) this.showEmpty();
  }

  // -- screens ----------------------------------------------------------------------------
  setupScreens() {
    for (const tab of document.querySelectorAll('.km-tab')) {
      tab.addEventListener('click', () => this.showScreen(tab.dataset.screen));
    }
    $('km-panel-close').addEventListener('click', () => this.closePanel());
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !document.querySelector('dialog[open]')) this.hubs.stopEditing();
    });
  }

  showScreen(name) {
    this.screen = name;
    const mapLike = name === 'map' || name === 'siting';
    $('km-screen-signin').hidden = name !== 'signin';
    $('km-screen-map').hidden = !mapLike;
    $('km-screen-wizard').hidden = name !== 'wizard';
    $('km-screen-users').hidden = name !== 'users';
    $('km-screen-catalogue').hidden = name !== 'catalogue';
    for (const tab of document.querySelectorAll('.km-tab')) {
      tab.setAttribute('aria-pressed', String(tab.dataset.screen === name));
    }
    if (name === 'signin') {
      $('km-signin-password').hidden = !this.me.sign_in;
      $('km-signin-token').hidden = this.me.sign_in;
      const first = $('km-signin').querySelector(this.me.sign_in ? '[name=name]' : '[name=token]');
      setTimeout(() => first.focus(), 0);
    }
    if (mapLike) {
      this.areaMap.resized();
      if (this.dirty) {
        this.reloadAll().catch((error) => toast(`地図を読み込めません: ${error.message}`, 'error'));
      }
    }
    if (name === 'siting') this.openPanel('siting', this.siting.panel());
    else if (this.panelKind === 'siting') this.closePanel();
    if (name === 'wizard') wizardScreen(this, $('km-screen-wizard'));
    if (name === 'users') usersScreen(this, $('km-screen-users'));
    if (name === 'catalogue') catalogueScreen(this, $('km-screen-catalogue'));
  }

  setupLarge() {
    const button = $('km-large');
    const apply = (on) => {
      document.documentElement.classList.toggle('km-large', on);
      button.setAttribute('aria-pressed', String(on));
      button.textContent = on ? '文字を標準に' : '文字を大きく';
      if (this.areaMap) this.areaMap.map.invalidateSize();
    };
    apply(localStorage.getItem('kenmap-large') === '1');
    button.addEventListener('click', () => {
      const on = !document.documentElement.classList.contains('km-large');
      localStorage.setItem('kenmap-large', on ? '1' : '0');
      apply(on);
    });
  }

  // -- the map's choices ------------------------------------------------------------------
  setupControls() {
    const form = $('km-controls');
    const f = form.elements;
    const config = this.config;
    for (const ind of config.indicators) f.indicator.append(option(ind.key, ind.label));
    this.fillControls();
    form.addEventListener('submit', (event) => event.preventDefault());
    form.addEventListener('change', async (event) => {
      const name = event.target.name;
      if (name === 'layer') {
        this.setHubType(this.config.hub_type_of_layer[f.layer.value]);
        this.closePanel();
      } else if (name === 'hub_type') {
        this.setHubType(f.hub_type.value);
      }
      if (!this.readControls()) return;
      if (name === 'indicator') {
        this.areaMap.setIndicator(this.indicatorOf(this.state.indicator));
        return;
      }
      this.hubs.show(this.state.hub_type, this.state.all_types);
      if (name === 'all_types') return;
      if (name === 'layer') await this.areaMap.showLayer(this.state.layer);
      await this.refreshFigures();
    });
  }

  // The layers and hub types of the workspace as choices (again after an import).
  fillControls() {
    const f = $('km-controls').elements;
    const config = this.config;
    const layer = this.state.layer;
    clear(f.layer);
    clear(f.hub_type);
    for (const l of config.layers) f.layer.append(option(l.key, `${l.label}（${number(l.count)}）`));
    for (const type of config.hub_types) f.hub_type.append(option(type.key, `${type.label}（${number(type.count)}）`));
    const chosen = config.layers.some((l) => l.key === layer) ? layer : config.default_layer;
    if (chosen) {
      f.layer.value = chosen;
      this.setHubType(this.state.hub_type && layer === chosen ? this.state.hub_type : config.hub_type_of_layer[chosen]);
    }
    this.readControls();
  }

  setHubType(key) {
    const f = $('km-controls').elements;
    f.hub_type.value = key;
    const type = this.config.hub_types.find((t) => t.key === key);
    f.radius.value = String(type && type.radius_m ? type.radius_m : 500);
  }

  // The choices into `state`; false (with the message by the field) when one is wrong.
  readControls() {
    const form = $('km-controls');
    const f = form.elements;
    clearErrors(form);
    const radius = Number(f.radius.value);
    if (f.by_distance.checked && !(radius >= 50 && radius <= 50000)) {
      showError(new ApiError(422, { error: '半径は 50〜50000 m で指定してください', field: 'radius' }), form);
      return false;
    }
    this.state = {
      layer: f.layer.value, indicator: f.indicator.value, hub_type: f.hub_type.value,
      by_distance: f.by_distance.checked, radius: f.by_distance.checked ? radius : null,
      with_planned: f.with_planned.checked, all_types: f.all_types.checked,
    };
    f.radius.disabled = !f.by_distance.checked;
    return true;
  }

  indicatorOf(key) { return this.config.indicators.find((i) => i.key === key); }
  layerLabel(key) { return ((this.config.scheme_layers || this.config.layers).find((l) => l.key === key) || {}).label || key; }
  hubTypeLabel(key) { return (this.config.hub_types.find((t) => t.key === key) || {}).label || key; }
  statusLabel(key) { return (this.config.statuses.find((s) => s.key === key) || {}).label || key; }
  gapOf(code) { return this.gapIndex.get(code) || null; }

  hint(text) {
    const box = $('km-edit-hint');
    box.textContent = text || '';
    box.hidden = !text;
    $('km-add-hub').setAttribute('aria-pressed', String(this.hubs.adding));
    $('km-move-hubs').setAttribute('aria-pressed', String(this.hubs.moving()));
  }

  // -- figures ----------------------------------------------------------------------------
  async refreshFigures({ fresh = false } = {}) {
    this.seq += 1;
    const seq = this.seq;
    const s = this.state;
    const params = { layer: s.layer, hub_type: s.hub_type, radius: s.radius, with_planned: s.with_planned };
    let gaps;
    const asked = performance.now();
    try {
      gaps = await get(`/api/gaps${query(params)}`, { fresh });
    } catch (error) {
      if (seq === this.seq) showGapError(this, error);
      return null;
    }
    if (seq !== this.seq) return null;
    const answered = performance.now();
    this.gaps = gaps;
    this.gapIndex = new Map(gaps.areas.map((a) => [a.code, a]));
    const lacking = gaps.areas.filter((a) => a.lacking);
    lacking.forEach((a) => { a.left_out = Math.max(0, (a.pop65 || 0) - (a.pop65_reached || 0)); });
    lacking.sort((a, b) => b.left_out - a.left_out);
    this.lackingSorted = lacking;
    this.areaMap.setLacking(lacking.map((a) => a.code), `${this.hubTypeLabel(s.hub_type)}の不足する${this.layerLabel(s.layer)}`);
    renderSummary(this, lacking, gaps.areas.length);
    this.gapShown = GAP_PAGE;
    renderGapList(this);
    await nextPaint();
    return { fetch_ms: answered - asked, draw_ms: performance.now() - answered };
  }

  // Run a save, then bring the gaps up to date and keep how long that took.
  async saveTimed(what, action) {
    const start = performance.now();
    const result = await action();
    if (result === null || result === undefined) return result;
    const saved = performance.now();
    const parts = await this.refreshFigures({ fresh: true });
    const shown = performance.now();
    this.timings.push({ what, save_ms: saved - start, update_ms: shown - saved, ...parts });
    return result;
  }

  workspaceChanged() { this.dirty = true; }

  async reloadAll() {
    this.dirty = false;
    this.config = await get('/workbench/config.json', { fresh: true });
    this.hubs.types = new Map(this.config.hub_types.map((t) => [t.key, t]));
    for (const entry of this.areaMap.layers.values()) this.areaMap.map.removeLayer(entry.group);
    this.areaMap.layers.clear();
    this.areaMap.current = null;
    this.fillControls();
    await this.loadMap({ fresh: true });
  }

  // -- the side panel ---------------------------------------------------------------------
  openPanel(kind, content) {
    this.panelKind = kind;
    const body = clear($('km-panel-body'));
    body.append(content);
    $('km-panel').hidden = false;
    $('km-screen-map').classList.add('km-with-panel');
    this.areaMap.map.invalidateSize();
  }

  closePanel() {
    if (this.panelKind === 'siting') this.siting.close();
    this.panelKind = null;
    this.panelHub = null;
    this.dropTempMarker();
    clear($('km-panel-body'));
    $('km-panel').hidden = true;
    $('km-screen-map').classList.remove('km-with-panel');
    this.areaMap.map.invalidateSize();
    if (this.screen === 'siting') this.showScreen('map');
  }

  async openProfile(code) {
    this.areaMap.select(code);
    this.dropTempMarker();
    this.openPanel('profile', el('p', { class: 'km-busy' }, '読み込んでいます…'));
    try {
      const panel = await profilePanel(this, this.state.layer, code);
      if (this.panelKind === 'profile') this.openPanel('profile', panel);
    } catch (error) {
      this.openPanel('profile', el('p', { class: 'km-error' }, error.message));
    }
  }

  openHub(id) {
    const marker = this.hubs.markers.get(id);
    if (!marker) return;
    this.dropTempMarker();
    this.panelHub = id;
    this.openPanel('hub', hubPanel(this, marker.hub));
  }

  newHub({ lat, lon, type }) {
    this.dropTempMarker();
    this.tempMarker = L.marker([lat, lon], { icon: this.hubs.icon({ type, status: 'planned' }), pmIgnore: true })
      .addTo(this.areaMap.map);
    this.openPanel('new-hub', hubPanel(this, { lat, lon, type, status: 'existing' }));
    const name = $('km-panel-body').querySelector('[name=name]');
    if (name) name.focus();
  }

  dropTempMarker() {
    if (this.tempMarker) this.areaMap.map.removeLayer(this.tempMarker);
    this.tempMarker = null;
  }

  async openHistory(hub) {
    this.openPanel('history', el('p', { class: 'km-busy' }, '読み込んでいます…'));
    this.openPanel('history', await historyPanel(this, hub));
  }

  setupEditTools() {
    $('km-add-hub').addEventListener('click', () => {
      if (this.hubs.adding) this.hubs.stopEditing();
      else this.hubs.startAdding();
      this.hint(this.hubs.adding ? $('km-edit-hint').textContent : null);
    });
    $('km-move-hubs').addEventListener('click', () => {
      if (this.hubs.moving()) this.hubs.stopEditing();
      else this.hubs.startMoving();
    });
  }
}

async function boot() {
  let config;
  try {
    config = await get('/workbench/config.json');
  } catch (error) {
    document.body.append(el('p', { class: 'km-fatal' }, `ワークベンチを開けません: ${error.message}`));
    return;
  }
  const app = new Workbench(config);
  window.kenmap = app; // for the tests and the browser console
  try {
    app.setupEditTools();
    await app.start();
  } catch (error) {
    toast(`読み込みに失敗しました: ${error.message}`, 'error');
    document.body.dataset.ready = 'error';
  }
}

boot();
