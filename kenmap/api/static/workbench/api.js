// Every request the workbench makes goes through here: credentials (the session cookie with
// its CSRF header, or a bearer token for servers without users), the server's error bodies
// (ApiError: error, file, row, field), and fresh answers after a save.

const TOKEN_KEY = 'kenmap-token';
// After a write, reads ask for the current answer (Cache-Control: no-cache) for this long:
// the server may otherwise hand back the answer of a moment ago while it recomputes.
const FRESH_AFTER_WRITE_MS = 15000;

const state = {
  csrf: null,
  token: sessionStorage.getItem(TOKEN_KEY),
  freshUntil: 0,
};

export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    const text = body && typeof body.error === 'string' ? body.error : defaultMessage(status);
    super(text);
    this.status = status;
    this.field = body && body.field ? String(body.field) : null;
    this.file = body && body.file ? String(body.file) : null;
    this.row = body && Number.isInteger(body.row) ? body.row : null;
    this.retryAfter = retryAfter;
  }

  // The message with the file and row it is about, as the CLI prints it.
  describe() {
    const where = [];
    if (this.file) where.push(`ファイル ${this.file}`);
    if (this.row !== null) where.push(`${this.row} 行目`);
    return where.length ? `${this.message}（${where.join('、')}）` : this.message;
  }
}

function defaultMessage(status) {
  if (status === 0) return 'サーバーに接続できません（ネットワークかサーバーが止まっています）';
  if (status === 401) return 'サインインが必要です';
  if (status === 403) return 'この操作をする権限がありません';
  if (status === 404) return '見つかりません';
  if (status === 409) return '他の人が先に変更しました';
  if (status === 413) return 'データが大きすぎます';
  if (status === 429) return '混み合っています。しばらくしてからもう一度お試しください';
  return `サーバーがエラーを返しました（${status}）`;
}

export function setCsrf(token) { state.csrf = token || null; }
export function hasToken() { return Boolean(state.token); }
export function setToken(token) {
  state.token = token || null;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Reads that follow a write (or are asked to) want the current answer.
export function wantsFresh() { return performance.now() < state.freshUntil; }
export function markWritten() { state.freshUntil = performance.now() + FRESH_AFTER_WRITE_MS; }

export async function request(method, path, options = {}) {
  const { json, form, fresh = false, raw = false } = options;
  const headers = new Headers();
  let body;
  if (json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // multipart: the browser sets the boundary
  }
  const unsafe = method !== 'GET' && method !== 'HEAD';
  if (unsafe && state.csrf) headers.set('X-CSRF-Token', state.csrf);
  if (state.token) headers.set('Authorization', `Bearer ${state.token}`);
  const askFresh = fresh || (!unsafe && wantsFresh());
  if (askFresh) headers.set('Cache-Control', 'no-cache');
  let response;
  try {
    response = await fetch(path, {
      method, headers, body, credentials: 'same-origin',
      cache: askFresh ? 'no-store' : 'default',
    });
  } catch (error) {
    throw new ApiError(0, null);
  }
  if (!unsafe && response.ok && response.headers.get('X-Kenmap-Stale') && !askFresh) {
    // The answer of a moment ago: ask again for the current one.
    return request(method, path, { ...options, fresh: true });
  }
  if (!response.ok) {
    let errorBody = null;
    try { errorBody = await response.json(); } catch (error) { errorBody = null; }
    throw new ApiError(response.status, errorBody, response.headers.get('Retry-After'));
  }
  if (unsafe) markWritten();
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json() : response.text();
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, json) => request('POST', path, { json });
export const patch = (path, json) => request('PATCH', path, { json });
export const del = (path) => request('DELETE', path);
export const upload = (path, form) => request('POST', path, { form });

// A query string from an object, leaving out empty values.
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === '' || value === false) continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// Show an error where it belongs: next to the field it names (an element with
// data-error-for="field" inside `container`), else in the container's general message.
export function showError(error, container) {
  clearErrors(container);
  const message = error instanceof ApiError ? error.describe() : String(error && error.message || error);
  let slot = null;
  if (error instanceof ApiError && error.field) {
    const field = error.field.split('.').pop();
    for (const name of [error.field, field]) {
      slot = container.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
      if (slot) break;
    }
    const input = container.querySelector(`[name="${CSS.escape(field)}"]`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      if (slot) input.setAttribute('aria-describedby', ensureId(slot));
    }
  }
  if (!slot) slot = container.querySelector('.km-form-error');
  if (slot) {
    slot.textContent = message;
    slot.hidden = false;
  }
  return message;
}

export function clearErrors(container) {
  for (const slot of container.querySelectorAll('.km-error')) slot.textContent = '';
  for (const input of container.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

let ids = 0;
function ensureId(node) {
  if (!node.id) { ids += 1; node.id = `km-error-${ids}`; }
  return node.id;
}
