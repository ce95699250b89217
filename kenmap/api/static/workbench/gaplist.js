// The summary of the gaps beside the map and the ranked list of areas lacking a hub.

import { clear, el, number } from './dom.js';

const $ = (id) => document.getElementById(id);
export const GAP_PAGE = 50;

export function showGapError(app, error) {
  const box = clear($('km-summary'));
  box.append(el('p', { class: 'km-error' }, error.message));
  clear($('km-gaps'));
  app.areaMap.setLacking([], null);
}

// The count of areas lacking a hub, the older residents it leaves out, and the coverage
// (share of 65+ reached, or living in an area with a hub), all from the one gaps answer.
export function renderSummary(app, lacking, total) {
  const s = app.state;
  const all65 = app.gaps.areas.reduce((sum, a) => sum + (a.pop65 || 0), 0);
  const reached = s.radius
    ? app.gaps.areas.reduce((sum, a) => sum + (a.pop65_reached || 0), 0)
    : all65 - lacking.reduce((sum, a) => sum + (a.pop65 || 0), 0);
  const leftOut = all65 - reached;
  const box = clear($('km-summary'));
  const share = all65 > 0 ? (100 * reached) / all65 : null;
  box.append(
    el('p', { class: 'km-big' }, `${app.hubTypeLabel(s.hub_type)}の不足する${app.layerLabel(s.layer)}: `,
      el('strong', { id: 'km-lacking-count', dataset: { count: String(lacking.length) } }, number(lacking.length)),
      ` / ${number(total)}`),
    el('p', {}, s.radius ? '歩いて届かない65歳以上: ' : '拠点のない区域の65歳以上: ',
      el('strong', { id: 'km-left-out' }, `${number(leftOut)} 人`)),
    el('p', { id: 'km-coverage' }, s.radius ? `半径 ${number(s.radius)} m で届く65歳以上: ` : '拠点のある区域に住む65歳以上: ',
      el('strong', {}, number(share, '%'))),
    el('p', { class: 'km-note' }, s.radius ? '判定: 歩いて届く距離（直線×迂回係数）' : '判定: 区域の中に拠点があるか',
      s.with_planned ? '・計画中を含む' : ''));
}

export function renderGapList(app) {
  const list = clear($('km-gaps'));
  const shown = app.lackingSorted.slice(0, app.gapShown);
  shown.forEach((area, i) => {
    list.append(el('li', {}, el('button', {
      type: 'button', class: 'km-gap-item', dataset: { code: area.code },
      onclick: () => { app.areaMap.fitArea(area.code); app.openProfile(area.code); },
    },
    el('span', { class: 'km-rank' }, String(i + 1)),
    el('span', { class: 'km-gap-name' }, area.name ?? area.code),
    el('span', { class: 'km-gap-count' }, `${number(area.left_out)} 人`),
    el('span', { class: 'km-gap-reason' }, area.reason))));
  });
  if (!shown.length) list.append(el('li', { class: 'km-note' }, '不足する区域はありません'));
  const more = $('km-gaps-more');
  more.hidden = app.lackingSorted.length <= app.gapShown;
  more.onclick = () => { app.gapShown += GAP_PAGE; renderGapList(app); };
}
