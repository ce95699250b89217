// The catalogue of hub types (admins): label, colour, the marker's letter, walking radius and
// the layer on which every area should have one. Changes are saved one type at a time; the
// map takes them the next time it is shown (its choices, markers and reach radius).

import { ApiError, clearErrors, del, get, post, request, showError } from './api.js';
import { ask, clear, el, number, option, toast } from './dom.js';

export async function catalogueScreen(app, screen) {
  clear(screen);
  const box = el('div', { class: 'km-page-body km-catalogue', id: 'km-catalogue' },
    el('h2', {}, '拠点の種類'),
    el('p', { class: 'km-note' }, '地図の色と文字、歩いて届く半径、各区域に1つ必要な階層を決めます。拠点のある種類は削除できません。新しい種類の拠点は、サーバーを再起動すると追加できます。'));
  const list = el('div', { class: 'km-catalogue-list' });
  box.append(list, addForm(app, list));
  screen.append(box);
  await fill(app, list);
}

async function fill(app, list) {
  clear(list);
  let catalogue;
  try {
    catalogue = await get('/api/catalogue', { fresh: true });
  } catch (error) {
    list.append(el('p', { class: 'km-error' }, error.message));
    return;
  }
  for (const type of catalogue.types) list.append(typeForm(app, list, type, catalogue.layers));
}

function fields(type, layers) {
  return [
    el('div', { class: 'km-field' }, el('label', {}, '名称', el('input', { name: 'label', value: type.label || '', maxlength: 60 })),
      el('span', { class: 'km-error', 'data-error-for': 'label' })),
    el('div', { class: 'km-field km-narrow' }, el('label', {}, '色', el('input', { name: 'colour', type: 'color', value: type.colour || '#555555' })),
      el('span', { class: 'km-error', 'data-error-for': 'colour' })),
    el('div', { class: 'km-field km-narrow' }, el('label', {}, '文字', el('input', { name: 'glyph', value: type.glyph || '', maxlength: 1, class: 'km-short' })),
      el('span', { class: 'km-error', 'data-error-for': 'icon' })),
    el('div', { class: 'km-field km-narrow' }, el('label', {}, '半径（m）', el('input', {
      name: 'radius_m', type: 'number', min: 1, max: 50000, step: 50, inputmode: 'numeric', class: 'km-short',
      value: type.radius_m ? String(type.radius_m) : '',
    })), el('span', { class: 'km-error', 'data-error-for': 'radius_m' })),
    el('div', { class: 'km-field' }, el('label', {}, '各区域に必要な階層', el('select', { name: 'expected_layer' },
      option('', '—（なし）', !type.expected_layer),
      layers.map((l) => option(l.key, l.label, l.key === type.expected_layer)))),
    el('span', { class: 'km-error', 'data-error-for': 'expected_layer' })),
  ];
}

// The form's values as the API takes them; null (with the message by the field) when wrong.
function values(form, type) {
  const f = form.elements;
  const radius = f.radius_m.value.trim();
  if (radius && !(Number(radius) > 0 && Number(radius) <= 50000)) {
    showError(new ApiError(422, { error: '半径は 1〜50000 m で指定してください（空欄はなし）', field: 'radius_m' }), form);
    return null;
  }
  const glyph = f.glyph.value.trim();
  // The letter is the icon when it was changed (a one-character icon is the marker's glyph).
  const icon = type && glyph === type.glyph ? type.icon : (glyph || 'circle');
  return {
    label: f.label.value.trim(), colour: f.colour.value, icon,
    radius_m: radius ? Number(radius) : null, expected_layer: f.expected_layer.value || null,
  };
}

function typeForm(app, list, type, layers) {
  const glyph = el('span', { class: 'km-hub km-hub-existing km-type-glyph' }, type.glyph);
  glyph.style.setProperty('--hub-colour', type.colour); // CSSOM: allowed by the page's CSP
  const form = el('form', { class: 'km-card km-type', novalidate: true, dataset: { key: type.key } },
    el('div', { class: 'km-type-head' },
      glyph,
      el('strong', {}, type.label), el('code', {}, type.key),
      el('span', { class: 'km-note' }, `拠点 ${number(type.hubs)} か所`)),
    el('div', { class: 'km-row km-wrap' }, fields(type, layers)),
    el('p', { class: 'km-error km-form-error', role: 'alert' }),
    el('div', { class: 'km-actions km-small' },
      el('button', { type: 'submit', class: 'km-primary' }, '保存'),
      type.hubs ? null : el('button', { type: 'button', class: 'km-danger', onclick: () => remove(app, list, type) }, '削除')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = values(form, type);
    if (!body) return;
    try {
      await request('PUT', `/api/catalogue/${encodeURIComponent(type.key)}`, { json: body });
      toast(`「${body.label}」を保存しました`);
      app.dirty = true; // the map takes the new colours, letters and radius when shown
      await fill(app, list);
    } catch (error) {
      showError(error, form);
    }
  });
  return form;
}

function addForm(app, list) {
  const form = el('form', { class: 'km-card km-type-new', novalidate: true },
    el('h3', {}, '種類を追加'),
    el('div', { class: 'km-row km-wrap' },
      el('div', { class: 'km-field' }, el('label', {}, 'キー（半角英小文字）', el('input', { name: 'key', maxlength: 31, autocomplete: 'off', class: 'km-short' })),
        el('span', { class: 'km-error', 'data-error-for': 'key' })),
      fields({ colour: '#555555' }, app.config.scheme_layers || app.config.layers)),
    el('p', { class: 'km-error km-form-error', role: 'alert' }),
    el('div', { class: 'km-actions' }, el('button', { type: 'submit', class: 'km-primary' }, '追加する')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = values(form, null);
    if (!body) return;
    try {
      await post('/api/catalogue', { key: form.elements.key.value.trim(), ...body });
      toast(`「${body.label}」を追加しました`);
      form.reset();
      app.dirty = true;
      await fill(app, list);
    } catch (error) {
      showError(error, form);
    }
  });
  return form;
}

async function remove(app, list, type) {
  const answer = await ask('種類の削除', el('p', {}, `「${type.label}」を拠点の種類から削除します。`),
    [{ label: '削除する', value: 'delete', danger: true }, { label: 'やめる', value: 'cancel' }]);
  if (answer !== 'delete') return;
  try {
    await del(`/api/catalogue/${encodeURIComponent(type.key)}`);
    toast(`「${type.label}」を削除しました`);
    app.dirty = true;
  } catch (error) {
    toast(error.message, 'error');
  }
  await fill(app, list);
}
