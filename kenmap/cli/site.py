"""``kenmap site``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from kenmap.cli.options import (
    Detour,
    Minutes,
    OnNetwork,
    OutFile,
    Speed,
    TableFormat,
    WsArg,
    layer_key,
    output,
    type_key,
    walking_reach,
)
from kenmap.errors import KenmapError
from kenmap.model import settings


def site(
    workspace: WsArg,
    hub_type: Annotated[str, typer.Option(help="Type of the new hubs, e.g. ibasho.")],
    k: Annotated[int, typer.Option(help="How many new sites.")],
    radius: Annotated[Optional[float], typer.Option(
        help="Walking radius in metres (default: the type's).")] = None,
    candidates: Annotated[Optional[Path], typer.Option(
        help="File of candidate points (CSV lon/lat or a point file).")] = None,
    candidate_status: Annotated[Optional[str], typer.Option(
        help="Use hubs with this status as candidates (default: candidate).")] = None,
    candidate_grid: Annotated[Optional[float], typer.Option(
        help="Generate candidates on a grid of this spacing inside areas lacking a hub.")
    ] = None,
    layer: Annotated[Optional[str], typer.Option(
        help="Layer whose areas are reported as filled (default: the type's layer).")] = None,
    solver: Annotated[Literal["exact", "greedy", "auto"], typer.Option(
        help="exact, greedy or auto")] = "auto",
    time_limit: Annotated[float, typer.Option(help="Seconds for the exact solver.")
                          ] = settings.SITING_TIME_LIMIT_S,
    also: Annotated[Optional[list[str]], typer.Option(
        help="Other hub types whose hubs also count as reach (repeatable).")] = None,
    one_per_lacking: Annotated[Optional[str], typer.Option(
        help="Layer (e.g. chiku) each of whose areas lacking a hub must get a new site.")
    ] = None,
    detour: Detour = settings.DETOUR,
    apply: Annotated[bool, typer.Option(help="Write the sites as planned hubs.")] = False,
    format: TableFormat = "table",
    out: OutFile = None,
    network: OnNetwork = False,
    minutes: Minutes = None,
    speed: Speed = settings.WALK_SPEED_MS,
) -> None:
    """Choose k new hub sites that bring the most older residents within reach."""
    from kenmap.access.siting import apply_sites
    from kenmap.access.siting import site as run
    from kenmap.render.siting import render_siting
    from kenmap.workspace import Workspace

    # Checked before any work: with --apply the hubs are written before the result is.
    if out is not None and out.is_dir():
        raise KenmapError("フォルダです。ファイル名を指定してください", file=out, field="--out")
    if out is not None and not out.parent.exists():
        raise KenmapError("フォルダがありません", file=out.parent, field="--out")
    ws = Workspace.open(workspace)
    hub_type = type_key(ws, hub_type) or hub_type
    layer = layer_key(ws, layer)
    one_per_lacking = layer_key(ws, one_per_lacking, "--one-per-lacking")
    also = [type_key(ws, t, "--also") or t for t in also] if also else also
    reach, radius = walking_reach(ws, network, minutes, speed, radius)
    result = run(ws, hub_type=hub_type, k=k, radius=radius, candidates_file=candidates,
                 candidate_status=candidate_status, candidate_grid=candidate_grid, layer=layer,
                 solver=solver, time_limit=time_limit, also=also, detour=detour,
                 one_per_lacking=one_per_lacking, network=reach)
    if apply:
        apply_sites(ws, result)
    output(render_siting(ws, result, format), out)
