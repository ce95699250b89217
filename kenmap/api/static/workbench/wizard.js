// The import wizard for GIS officers: upload a file, see what kenmap detected, choose the
// fields, see the dry-run report (nothing written), commit, and find it in the history.

import { ApiError, clearErrors, get, post, showError, upload } from './api.js';
import { clear, el, number, option, table, toast, when } from './dom.js';

const KINDS = [['areas', '区域の境界（シェープファイル・GeoJSON など）'],
  ['population', '人口の表（e-Stat の小地域集計・住民基本台帳の年齢別人口）'],
  ['hubs', '拠点の一覧（CSV・Excel・点のファイル）']];
// The options of each kind of import (the CLI's option names): key, label, kind, required.
// kind "field" chooses one of the file's fields; "layer", "hub_type", "status" a fixed list.
const OPTIONS = {
  areas: [['layer', '取り込む圏域', 'layer', true], ['code_field', 'コードの項目', 'field', true],
    ['name_field', '名称の項目', 'field', true], ['parent_field', '上位の区域のコードの項目', 'field'],
    ['where', '取り込む行の条件（例: CITY == \'202\'）', 'text'],
    ['encoding', '文字コード', 'text'], ['crs', '座標系（EPSG）', 'text']],
  population: [['layer', '人口を持つ圏域', 'layer', true], ['code_field', 'コードの項目', 'field'],
    ['name_field', '名称の項目', 'field'], ['total_field', '総数の項目', 'field'],
    ['pop65_field', '65歳以上の項目', 'field'], ['pop75_field', '75歳以上の項目', 'field'],
    ['households_field', '世帯数の項目', 'field'], ['as_of', '基準日（2025-10-01 など）', 'text'],
    ['source', '出典', 'text'], ['encoding', '文字コード', 'text']],
  hubs: [['type', 'すべての行の種類', 'hub_type'], ['type_field', '種類の項目', 'field'],
    ['name_field', '名称の項目', 'field'], ['lon_field', '経度の項目', 'field'],
    ['lat_field', '緯度の項目', 'field'], ['x_field', 'X 座標（東）の項目', 'field'],
    ['y_field', 'Y 座標（北）の項目', 'field'], ['crs', '座標系（EPSG）', 'text'],
    ['status', '状態', 'status'], ['encoding', '文字コード', 'text']],
};
const FACTS = {
  layer: '圏域', count: '件数', crs_epsg: '座標系（EPSG）', rows: '行数', matched_rows: '一致した行',
  unmatched_rows: '一致しない行', matched_share: '一致した割合', total_rows: '合計・小計の行',
  suppressed_cells: '秘匿セル', source: '出典', as_of: '基準日', file: 'ファイル',
};

const wizard = { step: 'upload', upload: null, options: null, report: null, done: null };

export async function wizardScreen(app, screen) {
  clear(screen);
  const body = el('div', { class: 'km-page-body km-wizard' });
  screen.append(body);
  const steps = [['upload', '1 ファイル'], ['detected', '2 検出結果と項目'], ['dry-run', '3 試しの取り込み'], ['done', '4 取り込み完了']];
  body.append(el('h2', {}, 'データの取り込み'),
    el('ol', { class: 'km-steps' }, steps.map(([key, text]) => el('li', { class: key === wizard.step ? 'km-current' : null,
      'aria-current': key === wizard.step ? 'step' : null }, text))));
  const render = { upload: uploadStep, detected: detectedStep, 'dry-run': dryRunStep, done: doneStep }[wizard.step];
  body.append(render(app, screen));
  body.append(await historySection());
}

function go(app, screen, step) {
  wizard.step = step;
  wizardScreen(app, screen);
}

function uploadStep(app, screen) {
  const form = el('form', { class: 'km-card', novalidate: true },
    el('fieldset', {}, el('legend', {}, '何を取り込みますか'),
      KINDS.map(([key, text], i) => el('label', { class: 'km-inline' },
        el('input', { type: 'radio', name: 'kind', value: key, checked: i === 0 }), text))),
    el('span', { class: 'km-error', 'data-error-for': 'kind' }),
    el('div', { class: 'km-field' }, el('span', {}, 'ファイル（シェープファイルは .shp .dbf .shx .prj をまとめた zip）'),
      fileChooser(),
      el('span', { class: 'km-error', 'data-error-for': 'file' })),
    el('p', { class: 'km-error km-form-error', role: 'alert' }),
    el('div', { class: 'km-actions' }, el('button', { type: 'submit', class: 'km-primary' }, '読み込んで調べる')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const file = form.elements.file.files[0];
    if (!file) {
      showError(new ApiError(422, { error: 'ファイルを選んでください', field: 'file' }), form);
      return;
    }
    const data = new FormData();
    data.append('file', file);
    data.append('kind', form.elements.kind.value);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      wizard.upload = await upload('/api/wizard/uploads', data);
      wizard.options = suggestedOptions(app, wizard.upload);
      go(app, screen, 'detected');
    } catch (error) {
      if (error.status === 404 && !error.field) error.message = 'データの取り込みは、このサーバーではまだ使えません';
      showError(error, form);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// The browser's own file button speaks the browser's language: this one speaks Japanese.
function fileChooser() {
  const name = el('span', { class: 'km-file-name' }, '選ばれていません');
  const input = el('input', { type: 'file', name: 'file', class: 'km-hidden-input',
    accept: '.zip,.shp,.geojson,.json,.gpkg,.csv,.txt,.xlsx' });
  input.addEventListener('change', () => {
    name.textContent = input.files.length ? input.files[0].name : '選ばれていません';
  });
  return el('label', { class: 'km-file' }, input, el('span', { class: 'km-file-button' }, 'ファイルを選ぶ'), name);
}

function suggestedOptions(app, up) {
  const options = { ...(up.detected.suggested || {}) };
  const best = [...(up.detected.fits || [])].sort((a, b) => b.matched - a.matched)[0];
  if (!options.layer && best && OPTIONS[up.kind].some(([key]) => key === 'layer')) options.layer = best.layer;
  if (!options.encoding && up.detected.encoding) options.encoding = up.detected.encoding;
  if (!options.crs && up.detected.crs_epsg) options.crs = String(up.detected.crs_epsg);
  return options;
}

function detectedStep(app, screen) {
  const up = wizard.upload;
  const d = up.detected;
  const fields = d.fields || [];
  const facts = el('dl', { class: 'km-facts' },
    el('dt', {}, 'ファイル'), el('dd', {}, up.file),
    el('dt', {}, '件数'), el('dd', {}, number(d.count)),
    el('dt', {}, '文字コード'), el('dd', {}, `${d.encoding || '—'}（${d.encoding_detected ? '自動判定' : '指定・既定'}）`),
    el('dt', {}, '座標系'), el('dd', {}, d.crs_epsg ? `EPSG:${d.crs_epsg}` : 'なし', d.crs_note ? `　${d.crs_note}` : ''));
  const fits = (d.fits || []).map((fit) => [app.layerLabel(fit.layer) || fit.label, number(fit.matched * 100, '%'), fit.note || '']);
  const columns = fields.map((f) => f.name);
  const rows = (d.rows || []).map((row) => columns.map((c) => (row[c] === null || row[c] === undefined ? '' : String(row[c]))));
  const form = el('form', { class: 'km-card km-options', novalidate: true },
    el('h3', {}, '項目の選択'),
    OPTIONS[up.kind].map((spec) => optionField(app, spec, fields)),
    el('p', { class: 'km-error km-form-error', role: 'alert' }),
    el('div', { class: 'km-actions' },
      el('button', { type: 'submit', class: 'km-primary' }, '試しに取り込む（まだ書き込みません）'),
      el('button', { type: 'button', onclick: () => go(app, screen, 'upload') }, '別のファイルにする')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    wizard.options = readOptions(form, up.kind);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      wizard.report = await post(`/api/wizard/uploads/${encodeURIComponent(up.upload_id)}/dry-run`, wizard.options);
      go(app, screen, 'dry-run');
    } catch (error) {
      showOptionError(error, form);
    } finally {
      button.disabled = false;
    }
  });
  return el('div', { class: 'km-wizard-step' },
    el('div', { class: 'km-wizard-top' },
      el('section', { class: 'km-card' }, el('h3', {}, 'kenmap が読み取った内容'), facts,
        fits.length ? table(['合いそうな圏域', '一致', ''], fits, { class: 'km-table' }) : null),
      form),
    el('section', { class: 'km-card km-scroll' }, el('h3', {}, '項目と先頭の行'),
      table(['項目', '例', '数値'], fields.map((f) => [f.name, (f.sample || []).map(String).join('、'), f.numeric ? '数値' : '']),
        { class: 'km-table' }),
      rows.length ? table(columns, rows, { class: 'km-table km-rows' }, false) : null));
}

function optionField(app, [key, text, kind, required], fields) {
  const value = wizard.options[key] ?? '';
  let input;
  if (kind === 'field') {
    input = el('select', { name: key }, option('', required ? '（選んでください）' : '（使わない）', value === ''),
      fields.map((f) => option(f.name, f.name, f.name === value)));
  } else if (kind === 'layer') {
    input = el('select', { name: key }, app.config.scheme_layers.map((l) => option(l.key, l.label, l.key === value)));
  } else if (kind === 'hub_type') {
    input = el('select', { name: key }, option('', '（項目で指定）', value === ''),
      app.config.hub_types.map((t) => option(t.key, t.label, t.key === value)));
  } else if (kind === 'status') {
    input = el('select', { name: key }, app.config.statuses.map((s) => option(s.key, s.label, s.key === (value || 'existing'))));
  } else {
    input = el('input', { name: key, value: String(value), maxlength: 200, autocomplete: 'off' });
  }
  return el('div', { class: 'km-field' }, el('label', {}, text, required ? el('span', { class: 'km-required' }, '（必須）') : null, input),
    el('span', { class: 'km-error', 'data-error-for': key }));
}

// An error about a field of the file (e.g. "CITY": its codes repeat) belongs next to the
// choice that named that field (code_field); about an option, next to that option.
function showOptionError(error, form) {
  if (error.field && !form.querySelector(`[data-error-for="${CSS.escape(error.field)}"]`)) {
    const chosen = [...form.querySelectorAll('select')].find((s) => s.value === error.field);
    if (chosen) error.field = chosen.name;
  }
  showError(error, form);
}

function readOptions(form, kind) {
  const options = {};
  for (const [key] of OPTIONS[kind]) {
    const value = form.elements[key].value.trim();
    if (value !== '') options[key] = value;
  }
  return options;
}

function reportView(result) {
  const report = result.report || {};
  const facts = Object.entries(report).filter(([key, value]) => !['title', 'notes', 'warnings'].includes(key)
    && (typeof value !== 'object' || value === null));
  const changes = result.changes || {};
  const keys = [...new Set([...Object.keys(changes.before || {}), ...Object.keys(changes.after || {})])];
  return el('div', { class: 'km-report' },
    el('h3', {}, report.title || '取り込みの結果'),
    (report.warnings || []).length ? el('ul', { class: 'km-warnings' }, report.warnings.map((w) => el('li', {}, `警告: ${w}`))) : null,
    el('ul', { class: 'km-plain-list' }, (report.notes || []).map((n) => el('li', {}, n))),
    facts.length ? table(null, facts.map(([key, value]) => [FACTS[key] || key,
      key.endsWith('_share') && typeof value === 'number' ? number(value * 100, '%') : String(value)]), { class: 'km-table' }) : null,
    keys.length ? el('div', {}, el('h4', {}, '変わるもの'),
      table(['', 'いま', '取り込み後'], keys.map((key) => [FACTS[key] || key, String(changes.before?.[key] ?? '—'), String(changes.after?.[key] ?? '—')]),
        { class: 'km-table' })) : null);
}

function dryRunStep(app, screen) {
  const box = el('div', { class: 'km-card' },
    el('p', { class: 'km-note' }, '試しに取り込んだ結果です。ワークスペースはまだ変わっていません。'),
    reportView(wizard.report),
    el('p', { class: 'km-error km-form-error', role: 'alert' }),
    el('div', { class: 'km-actions' },
      el('button', { type: 'button', class: 'km-primary', onclick: () => commit(app, screen, box) }, 'この内容で取り込む'),
      el('button', { type: 'button', onclick: () => go(app, screen, 'detected') }, '項目を選び直す')));
  return box;
}

async function commit(app, screen, box) {
  const up = wizard.upload;
  try {
    wizard.done = await post(`/api/wizard/uploads/${encodeURIComponent(up.upload_id)}/commit`, wizard.options);
    toast('取り込みました');
    app.workspaceChanged();
    go(app, screen, 'done');
  } catch (error) {
    showError(error, box);
  }
}

function doneStep(app, screen) {
  return el('div', { class: 'km-card' }, reportView(wizard.done),
    el('div', { class: 'km-actions' },
      el('button', { type: 'button', class: 'km-primary', onclick: () => { wizard.upload = null; go(app, screen, 'upload'); } }, '続けて取り込む'),
      el('button', { type: 'button', onclick: () => app.showScreen('map') }, '地図を見る')));
}

async function historySection() {
  const section = el('section', { class: 'km-card km-scroll' }, el('h3', {}, '取り込みの履歴'));
  try {
    const entries = await get('/api/imports/history', { fresh: true });
    const list = Array.isArray(entries) ? entries : entries.imports || [];
    if (!list.length) section.append(el('p', { class: 'km-note' }, 'まだありません'));
    else {
      section.append(table(['日時', '取り込んだ人', '種類', 'ファイル', '圏域', '結果', '警告'], list.map((e) => [
        when(e.at), e.by || '—', (KINDS.find(([k]) => k === e.kind) || [e.kind, e.kind])[1].replace(/（.*）/, ''),
        e.file || '', e.layer || '', typeof e.report === 'string' ? e.report : (e.report && e.report.title) || e.summary || '',
        Array.isArray(e.warnings) ? e.warnings.length ? e.warnings.join(' / ') : 'なし' : String(e.warnings ?? '')]),
      { class: 'km-table' }));
    }
  } catch (error) {
    section.append(el('p', { class: 'km-note' }, error.status === 404 ? '取り込みの履歴は、このサーバーではまだ使えません' : error.message));
  }
  return section;
}
