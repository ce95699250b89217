// The downloads menu: tables, the printable map and the offline page for what is on the
// screen (layer, hub type, radius). Files are fetched through api.js, so a refusal (a missing
// optional part, a report with no targets) shows its message instead of a broken file.

import { get, query } from './api.js';
import { clear, el, toast } from './dom.js';

function fiscalYear() {
  const now = new Date();
  return now.getMonth() >= 3 ? now.getFullYear() : now.getFullYear() - 1;
}

function items(state) {
  const layer = { layer: state.layer };
  const gaps = { layer: state.layer, hub_type: state.hub_type, radius: state.radius };
  const map = { layer: state.layer, hub_type: state.hub_type };
  return [
    ['統計表', [['CSV', `stats.csv${query(layer)}`], ['Excel', `stats.xlsx${query(layer)}`]]],
    ['不足する区域の一覧', [['CSV', `gaps.csv${query(gaps)}`], ['Excel', `gaps.xlsx${query(gaps)}`]]],
    ['印刷用の地図（A4）', [['PDF', `handout.pdf${query(map)}`]]],
    ['この地図のオフライン版', [['HTML', `page.html${query(map)}`]]],
    ['地域カルテ', [['PDF', `sheets.pdf${query(layer)}`]]],
    [`評価の報告書（${fiscalYear()}年度）`, [['PDF', `report.pdf${query({ year: fiscalYear() })}`]]],
  ];
}

export function setupDownloads(app) {
  const button = document.getElementById('km-downloads-button');
  const menu = document.getElementById('km-downloads');
  const close = () => {
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  };
  button.addEventListener('click', () => {
    if (!menu.hidden) { close(); return; }
    clear(menu);
    menu.append(el('p', { class: 'km-note' }, `${app.layerLabel(app.state.layer)}・${app.hubTypeLabel(app.state.hub_type)}`));
    for (const [text, formats] of items(app.state)) {
      menu.append(el('div', { class: 'km-menu-row' }, el('span', {}, text),
        formats.map(([format, path]) => el('button', {
          type: 'button', class: 'km-menu-item',
          onclick: () => { close(); download(`/api/downloads/${path}`, `${text}（${format}）`); },
        }, format))));
    }
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
  });
  document.addEventListener('keydown', (event) => { if (event.key === 'Escape') close(); });
  document.addEventListener('click', (event) => {
    if (!menu.hidden && !menu.contains(event.target) && event.target !== button) close();
  });
}

async function download(path, what) {
  toast(`${what}を用意しています…`);
  try {
    const response = await get(path, { raw: true });
    const blob = await response.blob();
    const name = fileName(response.headers.get('Content-Disposition')) || path.split('/').pop().split('?')[0];
    const url = URL.createObjectURL(blob);
    const link = el('a', { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    toast(`${what}を保存しました（${name}）`);
  } catch (error) {
    toast(error.status === 404 && !error.field && error.message === '見つかりません'
      ? `${what}はこのサーバーではまだ使えません` : error.message, 'error');
  }
}

// The file name of a Content-Disposition header (RFC 5987 filename* first: Japanese names).
export function fileName(header) {
  if (!header) return null;
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  if (star) {
    try { return decodeURIComponent(star[2].trim()); } catch (error) { /* the plain name below */ }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  return plain ? plain[1].trim() : null;
}
