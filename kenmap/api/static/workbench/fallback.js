// A classic script, run before the workbench's modules: if they fail to load (an old
// browser, a file missing), say so on the page instead of leaving it blank.
window.addEventListener('error', (event) => {
  if (document.body.dataset.ready) return;
  document.body.dataset.ready = 'error';
  const message = document.createElement('p');
  message.className = 'km-fatal';
  message.textContent = `ワークベンチを読み込めませんでした（${event.message}）。ページを読み込み直してください。`;
  document.body.prepend(message);
});
