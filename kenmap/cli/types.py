"""``kenmap types``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli.options import TextFormat, WsArg, emit
from kenmap.model.catalogue import Catalogue


def _save_catalogue(workspace: Path, change: Callable[[Catalogue], object]) -> Catalogue:
    from kenmap.model.catalogue import catalogue_of
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    with ws.edit():  # read and changed under the lock: a change made meanwhile is kept
        catalogue = catalogue_of(ws.get("hub_types"))
        change(catalogue)
        ws.put("hub_types", catalogue.to_list())
        ws.record("types", count=len(catalogue.types))
    return catalogue


def types_list(workspace: WsArg,
               format: TextFormat = "text") -> None:
    """List hub types with their label, colour, expected layer and radius."""
    from kenmap.model.catalogue import catalogue_of
    from kenmap.workspace import Workspace

    ws = Workspace.open(workspace)
    catalogue = catalogue_of(ws.get("hub_types"))
    keys = ws.scheme.keys
    preset = ws.get("scheme_preset")
    lines = []
    for t in catalogue.types.values():
        layer = t.expected_layer(keys, preset)
        lines.append(f"{t.key:<14} {t.label}  {t.colour} {t.icon}  各区域に必要な階層: "
                     f"{ws.scheme.layer(layer).label if layer else '—'}  徒歩圏: "
                     f"{f'{t.radius_m:.0f} m' if t.radius_m else '—'}")
    emit({"types": catalogue.to_list()}, lines, format)


def types_add(
    workspace: WsArg,
    key: Annotated[str, typer.Argument(help="ascii key, e.g. shelter")],
    label: Annotated[str, typer.Option(help="Japanese label, e.g. 避難所")],
    colour: Annotated[str, typer.Option(help="#rrggbb")] = "#555555",
    icon: Annotated[str, typer.Option(help="Font Awesome icon name")] = "circle",
    expected: Annotated[Optional[str], typer.Option(help="Layer key expected to have one")] = None,
    radius: Annotated[Optional[float], typer.Option(help="Walking radius in metres")] = None,
) -> None:
    """Add a hub type."""
    data: dict[str, object] = {"key": key, "label": label, "colour": colour, "icon": icon,
                               "radius_m": radius}
    if expected:
        data["expected"] = {"*": expected}
    _save_catalogue(workspace, lambda c: c.add(data))
    typer.echo(f"Added hub type {key} ({label})")


def types_set(
    workspace: WsArg,
    key: Annotated[str, typer.Argument(help="The type to change")],
    label: Annotated[Optional[str], typer.Option()] = None,
    colour: Annotated[Optional[str], typer.Option()] = None,
    icon: Annotated[Optional[str], typer.Option()] = None,
    expected: Annotated[Optional[str], typer.Option(help="Layer key expected to have one")] = None,
    radius: Annotated[Optional[float], typer.Option(help="Walking radius in metres")] = None,
) -> None:
    """Change a hub type's label, colour, icon, expected layer or radius."""
    changes: dict[str, object] = {"label": label, "colour": colour, "icon": icon,
                                  "radius_m": radius}
    if expected:
        changes["expected"] = {"*": expected}
    _save_catalogue(workspace, lambda c: c.set(key, changes))
    typer.echo(f"Updated hub type {key}")


def types_load(workspace: WsArg,
               file: Annotated[Path, typer.Argument(help="TOML with [[types]] tables")]) -> None:
    """Add or replace hub types from a TOML file."""
    _save_catalogue(workspace, lambda c: c.load_toml(file))
    typer.echo(f"Loaded hub types from {file}")
