"""Population at several dates: every import with a base date (``--as-of``) is kept beside the
earlier ones, and the whole workspace can be read as it was at one of them.

The latest snapshot is also the layer's current population (``population_{layer}``), so every
command without ``--as-of`` reads what it always read. A view at another date
(:func:`as_of`) reads each layer's snapshot of that date instead, so stats, gaps, coverage,
maps and profiles work on it unchanged.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from kenmap.errors import KenmapError
from kenmap.people.tables import table_name
from kenmap.workspace import Workspace

#: Metadata key: {layer: {base date: what the import recorded}}.
SNAPSHOTS = "population_snapshots"

_PERIOD = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def snapshot_table(layer: str, as_of: str) -> str:
    """The table holding ``layer``'s population as of ``as_of`` (YYYY-MM-DD)."""
    return f"{table_name(layer)}_d{as_of.replace('-', '')}"


def snapshot_dates(ws: Workspace) -> dict[str, list[str]]:
    """The base dates kept per layer, oldest first."""
    kept = ws.get(SNAPSHOTS, {}) or {}
    return {layer: sorted(dates) for layer, dates in kept.items() if dates}


def period_end(text: str, option: str = "--as-of") -> str:
    """The last day of what ``text`` names: 2020 → 2020-12-31, 2020-10 → 2020-10-31,
    2020-10-01 as it is (a snapshot belongs to a period when its base date is within it)."""
    match = _PERIOD.match(str(text).strip())
    if not match:
        raise KenmapError(f"「{text}」は日付ではありません（2020、2020-10 か 2020-10-01 の形で"
                          "指定してください）", field=option)
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    try:
        if month is None:
            return date(year, 12, 31).isoformat()
        if day is None:
            following = date(year + (month == 12), month % 12 + 1, 1)
            return date.fromordinal(following.toordinal() - 1).isoformat()
        return date(year, month, day).isoformat()
    except ValueError as exc:
        raise KenmapError(f"「{text}」は日付ではありません（{exc}）", field=option) from exc


def as_of(ws: Workspace, when: str, option: str = "--as-of") -> Workspace:
    """The workspace as of ``when`` (a year, month or day): every layer's latest snapshot on or
    before it. Refused, naming the dates there are, when no layer has one."""
    end = period_end(when, option)
    kept = snapshot_dates(ws)
    if not kept:
        raise KenmapError("基準日つきの人口がありません（'kenmap import population … --as-of "
                          "YYYY-MM-DD' で取り込むと、時点ごとに残ります）", field=option)
    infos: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    for layer in ws.scheme.keys:
        dates = [d for d in kept.get(layer, []) if d <= end]
        if dates:
            aliases[table_name(layer)] = snapshot_table(layer, dates[-1])
            infos[layer] = ws.get(SNAPSHOTS)[layer][dates[-1]]
        elif layer in kept or table_name(layer) in ws.tables():
            aliases[table_name(layer)] = snapshot_table(layer, "0000-00-00")  # none then
    if not infos:
        there = "、".join(sorted({d for dates in kept.values() for d in dates}))
        raise KenmapError(f"{when} 時点の人口がありません（取り込まれている基準日: {there}）",
                          field=option)
    return ws.viewed(aliases, {"population": infos, "viewed_as_of": end})
