"""``kenmap site`` output: a Japanese table or the JSON result."""

from __future__ import annotations

import json

from kenmap.access.siting import SitingResult
from kenmap.errors import KenmapError
from kenmap.model.catalogue import catalogue_of
from kenmap.render.text import fmt_count, text_table
from kenmap.workspace import Workspace


def render_siting(ws: Workspace, result: SitingResult, fmt: str) -> str:
    """The result as a Japanese table (``table``) or its JSON (``json``)."""
    if fmt == "json":
        return json.dumps(result.to_json(), ensure_ascii=False, indent=1) + "\n"
    if fmt != "table":
        raise KenmapError(f"形式「{fmt}」は使えません（table か json）", field="--format")
    label = catalogue_of(ws.get("hub_types")).get(result.hub_type).label
    layer_label = ws.scheme.layer(result.layer).label
    quality = "最適解" if result.optimal else f"最適解との差 {result.gap_percent:.2f}% 以内"
    lines = [
        f"新しい{label} {result.k}か所の候補（徒歩{result.radius_m:.0f}"
        f"{'分' if result.measure == 'minutes' else 'm'}圏"
        f"{'' if result.measure == 'straight' else '、道路に沿って'}、"
        f"候補地 {result.candidates}、{result.solver}、{quality}）",
        f"65歳以上の圏内人口: {fmt_count(result.pop65_reached_before)} → "
        f"{fmt_count(result.pop65_reached_after)}人", ""]
    rows = []
    for site_row in result.sites:
        name = site_row.name + ("（固定）" if site_row.pinned else "")
        rows.append([str(site_row.number), name, f"{site_row.pop65_added:,.0f}",
                     str(len(site_row.areas_filled)),
                     f"{site_row.lat:.5f}, {site_row.lon:.5f}"])
    lines += text_table(["順", "候補地", "新たに届く65歳以上", f"不足が解消する{layer_label}",
                     "緯度, 経度"], rows, {2, 3})
    for note in result.notes:
        lines.append(f"注: {note}")
    if result.applied_hub_ids:
        lines.append(f"計画中の{label}として登録しました（id {result.applied_hub_ids}）")
    return "\n".join(lines) + "\n"
