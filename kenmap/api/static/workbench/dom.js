// Building the page from data. Text from the workspace or the server (names, addresses,
// messages) only ever becomes text nodes or attribute values: a name holding "<script>" shows
// as those characters and never runs.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'value' || key === 'checked' || key === 'selected' || key === 'disabled') {
      node[key] = value;
    } else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function option(value, label, selected = false) {
  return el('option', { value, selected }, label);
}

const integer = new Intl.NumberFormat('ja-JP', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('ja-JP', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function number(value, unit = '') {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const text = unit === '%' ? oneDecimal.format(value) : integer.format(value);
  return `${text}${unit}`;
}

// An ISO time from the server as a date and time in the browser's time zone.
export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString('ja-JP', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  });
}

let toastTimer = null;
export function toast(message, kind = 'ok') {
  const box = document.getElementById('km-toast');
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === 'error' ? 8000 : 4000);
}

// A modal dialog built from `content` with buttons [{label, value, primary}]; resolves with
// the value of the button pressed (or null when closed with Escape).
export function ask(title, content, buttons) {
  const dialog = document.getElementById('km-dialog');
  clear(dialog);
  const form = el('form', { method: 'dialog', class: 'km-dialog-form' },
    el('h2', {}, title), content,
    el('div', { class: 'km-actions' }, buttons.map((b) => el('button', {
      value: b.value, class: b.primary ? 'km-primary' : (b.danger ? 'km-danger' : null),
    }, b.label))));
  dialog.append(form);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue || null);
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

// A table from rows of cells (each cell a string, number or node); `head` the header row.
// The first cell of each row is its header unless `rowHeaders` is false.
export function table(head, rows, props = {}, rowHeaders = true) {
  return el('table', props,
    head ? el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))) : null,
    el('tbody', {}, rows.map((row) => el('tr', {}, row.map((cell, i) => (
      i === 0 && head && rowHeaders ? el('th', { scope: 'row' }, cell) : el('td', {}, cell)))))));
}

// Seven decimals of a degree: about a centimetre.
export function degrees(value) {
  return Math.round(value * 1e7) / 1e7;
}
