// The users screen (admins): who may sign in and with which role; add and remove.

import { ApiError, clearErrors, del, get, post, showError } from './api.js';
import { ask, clear, el, option, table, toast, when } from './dom.js';

const ROLES = [['viewer', '閲覧のみ'], ['editor', '編集'], ['admin', '管理者']];
const roleLabel = (key) => (ROLES.find(([k]) => k === key) || [key, key])[1];

export async function usersScreen(app, screen) {
  clear(screen);
  const list = el('div', { class: 'km-users-list' });
  const form = el('form', { class: 'km-card', novalidate: true },
    el('h3', {}, '利用者を追加'),
    el('div', { class: 'km-field' }, el('label', {}, '利用者名', el('input', { name: 'name', maxlength: 100, autocomplete: 'off' })),
      el('span', { class: 'km-error', 'data-error-for': 'name' })),
    el('div', { class: 'km-field' }, el('label', {}, '役割',
      el('select', { name: 'role' }, ROLES.map(([key, text]) => option(key, text, key === 'viewer')))),
    el('span', { class: 'km-error', 'data-error-for': 'role' })),
    el('div', { class: 'km-field' }, el('label', {}, 'パスワード（8文字以上）',
      el('input', { name: 'password', type: 'password', autocomplete: 'new-password', maxlength: 200 })),
    el('span', { class: 'km-error', 'data-error-for': 'password' })),
    el('div', { class: 'km-field' }, el('label', {}, 'パスワード（確認）',
      el('input', { name: 'password2', type: 'password', autocomplete: 'new-password', maxlength: 200 })),
    el('span', { class: 'km-error', 'data-error-for': 'password2' })),
    el('p', { class: 'km-error km-form-error', role: 'alert' }),
    el('div', { class: 'km-actions' }, el('button', { type: 'submit', class: 'km-primary' }, '追加する')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const f = form.elements;
    if (f.password.value !== f.password2.value) {
      showError(new ApiError(422, { error: '確認のパスワードが一致しません', field: 'password2' }), form);
      return;
    }
    try {
      await post('/api/users', { name: f.name.value.trim(), role: f.role.value, password: f.password.value });
      toast(`${f.name.value.trim()} さんを追加しました`);
      form.reset();
      await fill(app, list);
    } catch (error) {
      showError(error, form);
    }
  });
  screen.append(el('div', { class: 'km-page-body' },
    el('h2', {}, '利用者'),
    el('p', { class: 'km-note' }, '閲覧のみ: 地図と表を見る。編集: 拠点の追加・変更、取り込み、配置の検討。管理者: さらに利用者と拠点の種類の管理。'),
    list, form));
  await fill(app, list);
}

async function fill(app, list) {
  clear(list);
  let users;
  try {
    users = await get('/api/users', { fresh: true });
  } catch (error) {
    list.append(el('p', { class: 'km-error' }, error.status === 404
      ? '利用者の管理はこのサーバーではまだ使えません（kenmap users add で追加できます）' : error.message));
    return;
  }
  const rows = (Array.isArray(users) ? users : users.users || []).map((user) => [
    user.name, roleLabel(user.role), when(user.created), when(user.updated),
    user.name === app.me.user ? '（あなた）' : el('button', {
      type: 'button', class: 'km-danger', onclick: () => remove(app, user.name, list),
    }, '削除'),
  ]);
  list.append(table(['利用者名', '役割', '登録', '更新', ''], rows, { class: 'km-table' }));
}

async function remove(app, name, list) {
  const answer = await ask('利用者の削除', el('p', {}, `${name} さんを削除します。サインインできなくなります。`),
    [{ label: '削除する', value: 'delete', danger: true }, { label: 'やめる', value: 'cancel' }]);
  if (answer !== 'delete') return;
  try {
    await del(`/api/users/${encodeURIComponent(name)}`);
    toast(`${name} さんを削除しました`);
  } catch (error) {
    toast(error.message, 'error');
  }
  await fill(app, list);
}
