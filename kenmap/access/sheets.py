"""The 地域カルテ of one area: what its meeting needs on one sheet, gathered from the workspace.

Its figures beside its parent's and the city's, the trend over the stored snapshots (and the
projection, marked 推計), its hubs by type with schedule and operator, its child areas lacking
a hub of the type expected below, its indicators and activities, and the sources.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kenmap.access.gaps import gap_table
from kenmap.errors import KenmapError, NotFoundError
from kenmap.hubs.table import counting, layer_hub_type, read_hubs
from kenmap.layers.hierarchy import (
    child_layer,
    filled_layers,
    overlay_members,
    parent_layer,
    require_areas,
)
from kenmap.layers.locate import area_column
from kenmap.model.catalogue import Catalogue, catalogue_of
from kenmap.people.snapshots import SNAPSHOTS, as_of
from kenmap.people.stats import layer_stats, records, total_row
from kenmap.workspace import Workspace

#: Hubs listed on a sheet (the rest are counted).
MAX_HUBS = 14
#: Child areas listed as lacking (the rest are counted).
MAX_LACKING = 12
#: What a hub's name is followed by, by status.
_STATUS_TEXT = {"existing": "", "planned": "（計画）", "candidate": "（候補地）"}


def _figures(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: row.get(k) for k in ("name", "population", "pop65", "pop75", "households",
                                    "aging_rate", "late_aging_rate")}


def _hub_rows(listed: pd.DataFrame, column: str, catalogue: Catalogue
              ) -> dict[Any, list[dict[str, Any]]]:
    """Each area's hubs as its sheet lists them, by type and name (split by area once rather
    than filtered per sheet)."""
    rows: dict[Any, list[dict[str, Any]]] = {}
    if len(listed) == 0:
        return rows
    ordered = listed.sort_values(["type", "name"])
    blank = pd.Series(None, index=ordered.index, dtype=object)
    for area, kind, name, status, schedule, operator in zip(
            ordered[column], ordered["type"], ordered["name"], ordered["status"],
            ordered.get("schedule", blank), ordered.get("operator", blank)):
        rows.setdefault(area, []).append({
            "type": catalogue.get(str(kind)).label if str(kind) in catalogue.types
            else str(kind), "name": str(name), "status": _STATUS_TEXT.get(str(status), ""),
            "schedule": None if pd.isna(schedule) else str(schedule),
            "operator": None if pd.isna(operator) else str(operator)})
    return rows


def area_sheets(ws: Workspace, layer: str, codes: list[str]) -> list[dict[str, Any]]:
    """Everything the sheets of these areas of ``layer`` show (JSON-ready), one per code;
    what every sheet shares (the figures at each date, gaps below, indicators) is computed
    once."""
    stats = layer_stats(ws, layer)
    by_code = {r["code"]: r for r in records(stats)}
    for code in codes:
        if code not in by_code:
            raise NotFoundError(f"{ws.scheme.layer(layer).label}に区域 {code} はありません",
                                field="--code")
    upper = parent_layer(ws, layer)
    parents = {r["code"]: r for r in records(layer_stats(ws, upper))} if upper else {}
    top = filled_layers(ws)[0]
    city = records(pd.DataFrame([total_row(layer_stats(ws, top))]))[0]
    tops = ws.read_attributes(top)
    city["name"] = str(tops["name"].iloc[0]) if len(tops) == 1 else "市全体"

    kept = ws.get(SNAPSHOTS, {}) or {}
    dates = sorted({d for days in kept.values() for d in days})
    estimates = {d for days in kept.values() for d, facts in days.items()
                 if facts.get("estimate")}
    at_date = {day: {r["code"]: r for r in records(layer_stats(as_of(ws, day), layer))}
               for day in dates}

    catalogue = catalogue_of(ws.get("hub_types"))
    hubs = read_hubs(ws)
    column = area_column(layer)
    listed = counting(hubs, ws, ("existing", "planned", "candidate")) \
        if len(hubs) and column in hubs.columns else hubs.iloc[:0]

    lower = child_layer(ws, layer)
    children = ws.read_attributes(lower) if lower else pd.DataFrame()
    if layer in ws.scheme.overlays:  # a service area: the nested areas it is made of
        lower, members = overlay_members(ws, layer)
        children = ws.read_attributes(lower)
        children["parent_code"] = children["code"].map(members)
    child_type = layer_hub_type(ws, lower) if lower else None
    try:
        lacking_codes: set[str] | None = set() if lower is None else set(
            (t := gap_table(ws, layer=lower, hub_type=str(child_type)))
            .loc[t["lacking"].astype(bool), "code"])
    except KenmapError:
        lacking_codes = None  # no population yet: cannot say

    from kenmap.people.activities import ACTIVITIES, activity_share
    from kenmap.people.indicators import INDICATORS, field_label, indicator_figures

    indicator_columns = []
    for key, info in (ws.get(INDICATORS, {}) or {}).items():
        figures, note = indicator_figures(ws, layer, key)
        name = f"{key}_rate" if info.get("per") else key
        indicator_columns.append((field_label(ws, name), figures[name],
                                  bool(info.get("per")) or info["kind"] == "rate", note))
    activity_columns = []
    for name, info in (ws.get(ACTIVITIES, {}) or {}).items():
        year = max(info["years"])
        try:
            activity_columns.append((name, year, activity_share(ws, name, year, layer)[0]))
        except KenmapError:
            continue  # recorded on a finer layer than this sheet's… or not summable here

    def number(series: pd.Series, code: str) -> float | None:
        value = series.get(code)
        return None if value is None or pd.isna(value) else float(value)

    hub_rows = _hub_rows(listed, column, catalogue)
    kids: dict[Any, list[tuple[Any, Any]]] = {}  # split once, not filtered per sheet
    if lower:
        for parent, kid, name in zip(children["parent_code"], children["code"],
                                     children["name"]):
            kids.setdefault(parent, []).append((kid, name))

    out = []
    for code in codes:
        mine = by_code[code]
        hubs_here = hub_rows.get(code, [])
        mine_children = kids.get(code, [])
        lacking = {"layer": lower, "label": ws.scheme.layer(lower).label if lower else None,
                   "hub_type": catalogue.get(str(child_type)).label if child_type else None,
                   "of": len(mine_children),
                   "areas": None if lacking_codes is None else
                   [{"code": c, "name": n} for c, n in mine_children if c in lacking_codes]}
        out.append({
            "layer": layer, "label": ws.scheme.layer(layer).label, "code": code,
            "area": _figures(mine), "hubs_count": mine.get("hubs") or {},
            "parent": _figures(parents.get(mine.get("parent_code"))),
            "parent_label": ws.scheme.layer(upper).label if upper else None,
            "city": _figures(city),
            "trend": [{"as_of": day, "estimate": day in estimates,
                       **{k: at_date[day][code][k] for k in ("population", "pop65",
                                                             "aging_rate")}}
                      for day in dates if code in at_date[day]],
            "hubs": hubs_here[:MAX_HUBS], "hubs_more": max(0, len(hubs_here) - MAX_HUBS),
            "lacking": lacking,
            "indicators": [{"label": label, "value": number(series, code), "rate": rate,
                            "note": note} for label, series, rate, note in indicator_columns],
            "activities": [{"activity": name, "year": year, "share": number(share, code)}
                           for name, year, share in activity_columns],
            "sources": []})  # the faces add the attribution lines
    return out


def area_codes(ws: Workspace, layer: str) -> list[str]:
    """The codes of a layer's areas in table order (one sheet each)."""
    require_areas(ws, layer)
    return [str(c) for c in ws.read_attributes(layer)["code"]]
