"""``kenmap coverage``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kenmap.cli.options import (
    AsOf,
    CellSize,
    Detour,
    Minutes,
    OnNetwork,
    OutFile,
    Speed,
    TableFormat,
    WithPlanned,
    WsArg,
    at_date,
    output,
    walking_reach,
)
from kenmap.model import settings


def coverage(
    workspace: WsArg,
    with_planned: WithPlanned = False,
    detour: Detour = settings.DETOUR,
    cell: CellSize = settings.CELL_M,
    format: TableFormat = "table",
    out: OutFile = None,
    as_of: AsOf = None,
    compare: Annotated[Optional[str], typer.Option(
        help="Compare with this earlier date: hubs, reach and lacking areas then and now.")
    ] = None,
    network: OnNetwork = False,
    minutes: Minutes = None,
    speed: Speed = settings.WALK_SPEED_MS,
) -> None:
    """For every layer and hub type: areas lacking a hub and the 65+ within reach."""
    from kenmap.access.gaps import coverage as run
    from kenmap.render.gaps import render_coverage
    from kenmap.workspace import Workspace

    opened = Workspace.open(workspace)
    ws = at_date(opened, as_of)
    reach, _ = walking_reach(ws, network, minutes, speed, None)
    result = run(ws, with_planned=with_planned, detour=detour, cell=cell, network=reach,
                 minutes=minutes)
    from kenmap.people.activities import activity_summary

    if activity_summary(ws):
        result = {**result, "activities": activity_summary(ws)}
    if compare is not None:
        from kenmap.people.snapshots import as_of as view_at
        from kenmap.render.gaps import render_coverage_compare

        then = run(view_at(opened, compare, "--compare"), with_planned=with_planned,
                   detour=detour, cell=cell, network=reach, minutes=minutes)
        output(render_coverage_compare(ws, result, then, format, as_of or "最新", compare), out)
        return
    output(render_coverage(ws, result, format), out)
