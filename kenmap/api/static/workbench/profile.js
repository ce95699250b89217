// The profile of one area (地域カルテ in short): its figures beside its parent's and the
// city's, its hubs, whether it lacks one, and the areas below it that do.

import { get } from './api.js';
import { el, number, table } from './dom.js';

const ROWS = [
  ['population', '人口', '人'], ['pop65', '65歳以上', '人'], ['pop75', '75歳以上', '人'],
  ['aging_rate', '高齢化率', '%'], ['late_aging_rate', '後期高齢化率', '%'],
  ['households', '世帯数', '世帯'], ['area_km2', '面積（km²）', 'km2'],
];

function figure(value, unit) {
  if (unit === 'km2') return value === null || value === undefined ? '—' : Number(value).toFixed(2);
  return number(value, unit);
}

export async function profilePanel(app, layer, code) {
  const data = await get(`/api/areas/${encodeURIComponent(layer)}/${encodeURIComponent(code)}`);
  const area = data.area;
  const parent = data.parent;
  const city = data.city;
  const head = ['', 'この区域', parent ? parent.name : null, '市全体'].filter((h) => h !== null);
  const rows = ROWS.map(([key, text, unit]) => [text, figure(area[key], unit),
    ...(parent ? [figure(parent[key], unit)] : []), figure(city[key], unit)]);
  const gap = app.gapOf(code);
  const layerLabel = app.layerLabel(layer);
  const status = gap
    ? el('p', { class: gap.lacking ? 'km-status km-status-gap' : 'km-status km-status-ok' },
      gap.lacking ? `不足: ${gap.reason}` : `${app.hubTypeLabel(gap.hub_type)}: 足りています`)
    : null;
  const hubs = el('ul', { class: 'km-links' }, data.hubs_inside.map((hub) => el('li', {},
    el('button', { type: 'button', class: 'km-link', onclick: () => app.openHub(hub.id) },
      `${app.hubTypeLabel(hub.type)}　${hub.name}`, hub.status !== 'existing' ? `（${app.statusLabel(hub.status)}）` : ''))));
  const lacking = data.children_lacking || { areas: [] };
  const children = lacking.areas.length
    ? el('section', {},
      el('h3', {}, `${app.hubTypeLabel(lacking.hub_type)}の不足する${app.layerLabel(lacking.layer)}（${lacking.areas.length}）`),
      el('ul', { class: 'km-plain-list' }, lacking.areas.slice(0, 30).map((a) => el('li', {}, `${a.name}: ${a.reason}`))),
      lacking.areas.length > 30 ? el('p', { class: 'km-note' }, `ほか ${lacking.areas.length - 30} 区域`) : null)
    : null;
  return el('div', { class: 'km-profile' },
    el('h2', {}, area.name ?? area.code),
    el('p', { class: 'km-note' }, `${layerLabel}　コード ${area.code}`),
    status,
    table(head, rows, { class: 'km-figures' }),
    el('h3', {}, `区域内の拠点（${data.hubs_inside.length}）`),
    data.hubs_inside.length ? hubs : el('p', { class: 'km-note' }, 'ありません'),
    children);
}
