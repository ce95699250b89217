// Signing in: with a name and password on a server with users, or with the server's token on
// a server without them; and signing out.

import { ApiError, clearErrors, post, setCsrf, setToken, showError } from './api.js';
import { toast } from './dom.js';

const $ = (id) => document.getElementById(id);

export function setupSignIn(app) {
  const form = $('km-signin');
  $('km-signin-open').addEventListener('click', () => app.showScreen('signin'));
  $('km-signin-skip').addEventListener('click', () => app.showScreen('map'));
  $('km-signout').addEventListener('click', () => signOut(app));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      if (app.me.sign_in) {
        const name = form.elements.name.value.trim();
        if (!name) throw new ApiError(422, { error: '利用者名を入力してください', field: 'name' });
        if (!form.elements.password.value) throw new ApiError(422, { error: 'パスワードを入力してください', field: 'password' });
        const answer = await post('/auth/login', { name, password: form.elements.password.value });
        setCsrf(answer.csrf);
      } else {
        const token = form.elements.token.value.trim();
        if (!token) throw new ApiError(422, { error: 'トークンを入力してください', field: 'Authorization' });
        setToken(token);
        await checkToken();
      }
      form.reset();
      await app.whoami();
      toast(`${app.me.token ? 'トークンで' : `${app.me.user} さんとして`}サインインしました`);
      app.showScreen('map');
    } catch (error) {
      if (error instanceof ApiError && error.status === 429 && error.retryAfter) {
        error.message = `${error.message}（${error.retryAfter} 秒後にもう一度お試しください）`;
      }
      showError(error, form);
    }
  });
}

// Whether the server takes the token: a siting question with no fields is refused for a
// missing token (401/403) before its fields are read (422). Nothing is written.
async function checkToken() {
  try {
    await post('/api/siting', {});
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) return;
    setToken(null);
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      throw new ApiError(error.status, { error: 'トークンが違います', field: 'Authorization' });
    }
    throw error;
  }
}

async function signOut(app) {
  try {
    if (app.me.token) setToken(null);
    else await post('/auth/logout', {});
  } catch (error) {
    toast(error.message, 'error');
  }
  setCsrf(null);
  app.closePanel();
  await app.whoami();
  toast('サインアウトしました');
  app.showScreen(app.me.sign_in ? 'signin' : 'map');
}
