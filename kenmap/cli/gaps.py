"""``kenmap gaps``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kenmap.cli.options import (
    AsOf,
    CellSize,
    DataFormat,
    Detour,
    Minutes,
    OnNetwork,
    OutFile,
    Speed,
    WithPlanned,
    WsArg,
    at_date,
    chosen_layer,
    output,
    type_key,
    walking_reach,
)
from kenmap.model import settings


def gaps(
    workspace: WsArg,
    hub_type: Annotated[str, typer.Option(help="Hub type key, e.g. salon.")],
    layer: Annotated[Optional[str], typer.Option(
        help="Layer key or label (default: the layer the type is expected on).")] = None,
    radius: Annotated[Optional[float], typer.Option(
        help="Walking radius in metres; without it an area lacks a hub when none is inside.")
    ] = None,
    with_planned: WithPlanned = False,
    min_reach: Annotated[float, typer.Option(
        help="With --radius: an area lacks a hub below this % of 65+ reached.")
    ] = settings.MIN_REACH_PERCENT,
    detour: Detour = settings.DETOUR,
    cell: CellSize = settings.CELL_M,
    format: DataFormat = "table",
    out: OutFile = None,
    as_of: AsOf = None,
    compare: Annotated[Optional[str], typer.Option(
        help="Compare with this earlier date: areas newly lacking and no longer lacking.")
    ] = None,
    network: OnNetwork = False,
    minutes: Minutes = None,
    speed: Speed = settings.WALK_SPEED_MS,
) -> None:
    """Areas lacking a hub of a type, and the older residents that leaves out."""
    from kenmap.access.gaps import gap_table
    from kenmap.render.gaps import render_gaps
    from kenmap.workspace import Workspace

    opened = Workspace.open(workspace)
    ws = at_date(opened, as_of)
    hub_type = type_key(ws, hub_type) or hub_type
    layer = chosen_layer(ws, layer, hub_type)
    reach, radius = walking_reach(ws, network, minutes, speed, radius)
    table = gap_table(ws, layer=layer, hub_type=hub_type, radius=radius,
                      with_planned=with_planned, detour=detour, min_reach=min_reach, cell=cell,
                      network=reach)
    if compare is not None:
        from kenmap.people.snapshots import as_of as view_at
        from kenmap.render.gaps import render_gaps_compare

        then = gap_table(view_at(opened, compare, "--compare"), layer=layer, hub_type=hub_type,
                         radius=radius, with_planned=with_planned, detour=detour,
                         min_reach=min_reach, cell=cell, network=reach)
        output(render_gaps_compare(ws, table, then, format, as_of or "最新", compare), out,
               bom=format == "csv")
        return
    output(render_gaps(ws, table, format), out, bom=format == "csv")
