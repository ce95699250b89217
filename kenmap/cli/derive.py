"""``kenmap derive``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli.options import Encoding, TextFormat, WsArg, emit, layer_key, say
from kenmap.model import settings


def derive(
    workspace: WsArg,
    layer: Annotated[str, typer.Option(help="The upper layer to create.")],
    from_layer: Annotated[str, typer.Option("--from", help="The lower layer to dissolve.")],
    by_field: Annotated[Optional[str], typer.Option(
        help="Child field whose values are the parent codes.")] = None,
    name_field: Annotated[Optional[str], typer.Option(
        help="With --by-field: child field holding the parent names.")] = None,
    mapping: Annotated[Optional[Path], typer.Option(
        help="CSV with columns child_code,parent_code,parent_name.")] = None,
    single: Annotated[Optional[str], typer.Option(
        help="Dissolve all into one area with this name.")] = None,
    code: Annotated[Optional[str], typer.Option(help="With --single: the area's code.")] = None,
    encoding: Encoding = None,
    format: TextFormat = "text",
) -> None:
    """Derive an upper layer by dissolving a lower one."""
    from kenmap.layers.derive import derive_layer
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    layer = layer_key(ws, layer) or layer
    from_layer = layer_key(ws, from_layer, "--from") or from_layer
    report = derive_layer(ws, layer=layer, from_layer=from_layer, by_field=by_field,
                          name_field=name_field, mapping=mapping, single=single, code=code,
                          encoding=encoding)
    emit(report.to_dict(), report.lines(), format)


def derive_neighbourhoods_cmd(
    workspace: WsArg,
    from_layer: Annotated[str, typer.Option("--from", help="The layer to fill below, e.g. "
                                            "gyoseiku.")],
    size: Annotated[float, typer.Option(help="Cell size in metres.")] = settings.NEIGHBOURHOOD_M,
) -> None:
    """Fill the layer below with small cells clipped to each area (隣近所)."""
    from kenmap.people.neighbourhoods import derive_neighbourhoods
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    report = derive_neighbourhoods(ws, from_layer=layer_key(ws, from_layer, "--from") or from_layer,
                                   size=size)
    say(report.lines())
