// One hub in the side panel: its attributes (a form for editors), its history, and what
// happens when someone else saved it first.

import { ApiError, clearErrors, del, get, patch, post, showError } from './api.js';
import { ask, degrees, el, option, table, toast, when } from './dom.js';

// The hub's attributes in the order of the form: key, label, kind, maximum length.
export const FIELDS = [
  ['type', '種類', 'select'], ['name', '名称', 'text', 200], ['status', '状態', 'select'],
  ['address', '住所', 'text', 300], ['schedule', '開催（常設・月2回 など）', 'text', 100],
  ['host', '会場（建物）', 'text', 200], ['operator', '運営', 'text', 200],
  ['responsible', '担当する区域', 'text', 2000],
  ['opened', '開設日', 'date', 20], ['closed', '廃止日', 'date', 20],
];
const LABELS = {
  ...Object.fromEntries(FIELDS.map(([key, label]) => [key, label.replace(/（.*）/, '')])),
  lon: '経度', lat: '緯度',
};
const ACTIONS = { 'add hub': '追加', 'update hub': '変更', 'delete hub': '削除' };

export function label(key) { return LABELS[key] || key; }

// A value as people read it: type and status by their labels, coordinates to 6 decimals.
export function shown(app, key, value) {
  if (value === null || value === undefined || value === '') return '（なし）';
  if (key === 'type') return (app.config.hub_types.find((t) => t.key === value) || {}).label || String(value);
  if (key === 'status') return (app.config.statuses.find((s) => s.key === value) || {}).label || String(value);
  if (key === 'lon' || key === 'lat') return Number(value).toFixed(6);
  return String(value);
}

// The panel of one hub: a form for editors (a new hub when `hub.id` is absent), else a list.
export function hubPanel(app, hub) {
  const isNew = hub.id === undefined;
  const title = el('h2', {}, isNew ? '新しい拠点' : hub.name);
  if (!app.canEdit()) {
    return el('div', { class: 'km-hub-panel' }, title,
      el('dl', { class: 'km-facts' }, FIELDS.flatMap(([key, text]) => [
        el('dt', {}, text), el('dd', {}, shown(app, key, hub[key]))])),
      el('div', { class: 'km-actions' },
        el('button', { type: 'button', onclick: () => app.openHistory(hub) }, '履歴')));
  }
  const form = el('form', { class: 'km-hub-form', novalidate: true },
    title,
    FIELDS.map(([key, text, kind, max]) => field(app, hub, key, text, kind, max)),
    el('p', { class: 'km-note' }, `位置: 北緯 ${shown(app, 'lat', hub.lat)}、東経 ${shown(app, 'lon', hub.lon)}`),
    el('p', { class: 'km-error km-form-error', role: 'alert' }),
    el('div', { class: 'km-actions' },
      el('button', { type: 'submit', class: 'km-primary' }, isNew ? '追加する' : '保存'),
      isNew ? null : el('button', { type: 'button', onclick: () => app.openHistory(hub) }, '履歴'),
      isNew ? null : el('button', { type: 'button', class: 'km-danger', onclick: () => remove(app, hub) }, '削除'),
      el('button', { type: 'button', onclick: () => app.closePanel() }, '閉じる')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save(app, form, hub, isNew);
  });
  return form;
}

function field(app, hub, key, text, kind, max) {
  let input;
  const value = hub[key] ?? '';
  if (key === 'type') {
    input = el('select', { name: key }, app.config.hub_types.map((t) => option(t.key, t.label, t.key === value)));
  } else if (key === 'status') {
    input = el('select', { name: key }, app.config.statuses.map((s) => option(s.key, s.label, s.key === (value || 'existing'))));
  } else {
    input = el('input', { name: key, value: String(value), maxlength: max, autocomplete: 'off',
      placeholder: kind === 'date' ? '例: 2021-04-01' : null, required: key === 'name' });
  }
  return el('div', { class: 'km-field' }, el('label', {}, text, input),
    el('span', { class: 'km-error', 'data-error-for': key }));
}

function read(form) {
  const values = {};
  for (const [key] of FIELDS) {
    const raw = form.elements[key].value.trim();
    values[key] = raw === '' ? null : raw;
  }
  return values;
}

// The fields whose value differs from the hub as it was loaded.
function changes(hub, values) {
  const out = {};
  for (const [key, value] of Object.entries(values)) {
    if ((hub[key] ?? null) !== value) out[key] = value;
  }
  return out;
}

async function save(app, form, hub, isNew) {
  clearErrors(form);
  const values = read(form);
  if (!values.name) {
    showError(new ApiError(422, { error: '名称を入力してください', field: 'name' }), form);
    return;
  }
  if (isNew) {
    await app.saveTimed('add', async () => {
      try {
        const saved = await post('/api/hubs', { ...values, lon: degrees(hub.lon), lat: degrees(hub.lat) });
        app.hubs.put(saved);
        app.openHub(saved.id);
        toast(`「${saved.name}」を追加しました`);
        return saved;
      } catch (error) {
        showError(error, form);
        return null;
      }
    });
    return;
  }
  const change = changes(hub, values);
  if (Object.keys(change).length === 0) {
    toast('変更はありません');
    return;
  }
  await app.saveTimed('edit', async () => {
    try {
      const saved = await patch(`/api/hubs/${hub.id}`, { version: hub.version, ...change });
      app.hubs.put(saved);
      app.openHub(saved.id);
      toast(`「${saved.name}」を保存しました`);
      return saved;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return resolveConflict(app, hub, change, 'save');
      showError(error, form);
      return null;
    }
  });
}

async function remove(app, hub) {
  const answer = await ask('拠点の削除', el('p', {}, `「${hub.name}」を削除します。よろしいですか。`),
    [{ label: '削除する', value: 'delete', danger: true }, { label: 'やめる', value: 'cancel' }]);
  if (answer !== 'delete') return;
  await app.saveTimed('delete', async () => {
    try {
      await del(`/api/hubs/${hub.id}?version=${hub.version}`);
      app.hubs.remove(hub.id);
      app.closePanel();
      toast(`「${hub.name}」を削除しました`);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return resolveConflict(app, hub, null, 'delete');
      toast(error.message, 'error');
      return null;
    }
  });
}

// Someone saved this hub after `base` was loaded. Show both versions and let the user keep
// theirs (saved again on the current version) or take the other one. `change` holds the
// fields this user changed (null for a deletion). Returns what was saved or shown, or null.
export async function resolveConflict(app, base, change, kind) {
  let theirs;
  try {
    theirs = await app.hubs.current(base.id);
  } catch (error) {
    toast(error.message, 'error');
    return null;
  }
  if (!theirs) {
    await ask('他の人が先に変更しました', el('p', {}, `「${base.name}」は他の人が削除しました。`),
      [{ label: '閉じる', value: 'close', primary: true }]);
    app.hubs.remove(base.id);
    app.closePanel();
    return true;
  }
  const last = await lastChange(base.id);
  const keys = new Set(change ? Object.keys(change) : []);
  for (const key of [...FIELDS.map(([k]) => k), 'lon', 'lat']) {
    if ((theirs[key] ?? null) !== (base[key] ?? null)) keys.add(key);
  }
  const rows = [...keys].map((key) => {
    const mine = change && key in change ? change[key] : base[key];
    const row = [label(key), shown(app, key, mine), shown(app, key, theirs[key])];
    return row;
  });
  if (kind === 'delete') rows.unshift(['操作', '削除する', '残す']);
  const content = el('div', { class: 'km-conflict' },
    el('p', {}, `「${theirs.name}」は、あなたが開いた後に`,
      last && last.by ? `${last.by} さんが` : '他の人が',
      last && last.at ? `（${when(last.at)}）` : '', '変更しました。どちらを残しますか。'),
    table(['項目', 'あなたの変更', 'いまの内容'], rows, { class: 'km-compare' }));
  const choice = await ask('他の人が先に変更しました', content, [
    { label: kind === 'delete' ? '自分の操作を通す（削除する）' : '自分の変更で上書きする', value: 'mine', primary: true },
    { label: '相手の変更を使う', value: 'theirs' }]);
  if (choice === 'mine') {
    try {
      if (kind === 'delete') {
        await del(`/api/hubs/${theirs.id}?version=${theirs.version}`);
        app.hubs.remove(theirs.id);
        app.closePanel();
        toast(`「${theirs.name}」を削除しました`);
        return true;
      }
      const saved = await patch(`/api/hubs/${theirs.id}`, { version: theirs.version, ...change });
      app.hubs.put(saved);
      app.openHub(saved.id);
      toast(`「${saved.name}」をあなたの変更で保存しました`);
      return saved;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return resolveConflict(app, theirs, change, kind);
      toast(error.message, 'error');
      return null;
    }
  }
  app.hubs.put(theirs);
  app.openHub(theirs.id);
  toast('相手の変更を表示しています');
  return theirs;
}

async function lastChange(id) {
  try {
    const entries = await get(`/api/hubs/${id}/history`, { fresh: true });
    return entries.length ? entries[entries.length - 1] : null;
  } catch (error) {
    return null;
  }
}

// The history panel: who changed what, when, newest first.
export async function historyPanel(app, hub) {
  const list = el('ol', { class: 'km-history' });
  const box = el('div', { class: 'km-history-panel' },
    el('h2', {}, `「${hub.name}」の履歴`), list,
    el('div', { class: 'km-actions' },
      el('button', { type: 'button', onclick: () => app.openHub(hub.id) }, '拠点に戻る')));
  let entries;
  try {
    entries = await get(`/api/hubs/${hub.id}/history`, { fresh: true });
  } catch (error) {
    list.append(el('li', { class: 'km-error' }, error.message));
    return box;
  }
  if (entries.length === 0) list.append(el('li', {}, '記録はまだありません（取り込まれた拠点は、最初の変更から記録されます）'));
  for (const entry of [...entries].reverse()) {
    const details = el('ul', {});
    for (const [key, pair] of Object.entries(entry.changes || {})) {
      const [before, after] = Array.isArray(pair) ? pair : [null, pair];
      details.append(el('li', {}, `${label(key)}: ${shown(app, key, before)} → ${shown(app, key, after)}`));
    }
    if (entry.moved) details.append(el('li', {}, '位置を移動'));
    list.append(el('li', {},
      el('div', { class: 'km-history-head' },
        el('span', { class: 'km-history-action' }, ACTIONS[entry.action] || String(entry.action)),
        ` ${when(entry.at)}　${entry.by ? entry.by : '（変更した人の記録なし）'}`,
        entry.version ? `　版 ${entry.version}` : ''),
      details));
  }
  return box;
}
