"""Option types and output helpers shared by the ``kenmap`` commands (one place)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import typer

from kenmap.errors import KenmapError

WsArg = Annotated[Path, typer.Argument(help="The workspace GeoPackage (.gpkg).")]
Encoding = Annotated[Optional[str], typer.Option(
    help="Text encoding of the file (detected when omitted: strict UTF-8, then cp932).")]
# Options shared by the coverage, gaps, map and site commands: the same reach rule everywhere.
WithPlanned = Annotated[bool, typer.Option(help="Count planned hubs too.")]
Detour = Annotated[float, typer.Option(help="Walking distance ÷ straight line.")]
CellSize = Annotated[float, typer.Option(help="Demand cell size in metres.")]
OnNetwork = Annotated[bool, typer.Option(
    "--network", help="Measure walks along the imported walking network (kenmap import "
    "network) instead of a straight line × detour.")]
Minutes = Annotated[Optional[float], typer.Option(
    help="With --network: reach in walking minutes instead of --radius metres (slower "
         "uphill by Tobler's function when terrain was imported).")]
Speed = Annotated[float, typer.Option(
    help="With --minutes: walking speed on the flat in m/s (older residents: about 1.0).")]


def walking_reach(ws: Any, network: bool, minutes: float | None, speed: float,
                  radius: float | None) -> tuple[Any, float | None]:
    """The network measure (or None for straight lines) and the radius in its unit, from
    ``--network``, ``--minutes``, ``--speed`` and ``--radius``."""
    from kenmap.errors import KenmapError

    if minutes is None:
        if not network:
            return None, radius
        from kenmap.access.netreach import Walking, network_reach

        return network_reach(ws, Walking(minutes=False, speed=speed)), radius
    if not network:
        raise KenmapError("--minutes は --network と一緒に指定してください（道路に沿った"
                          "徒歩時間です）", field="--minutes")
    if radius is not None:
        raise KenmapError("--radius と --minutes はどちらか一方にしてください",
                          field="--minutes")
    if not 0 < minutes <= 120:
        raise KenmapError("--minutes は0より大きく120以下にしてください", field="--minutes")
    from kenmap.access.netreach import Walking, network_reach

    return network_reach(ws, Walking(minutes=True, speed=speed)), minutes
# Output formats: checked by the parser before any work, so a bad one never follows a write.
TextFormat = Annotated[Literal["text", "json"], typer.Option("--format", help="text or json")]
TableFormat = Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")]
DataFormat = Annotated[Literal["table", "csv", "json"], typer.Option(
    "--format", help="table, csv or json")]
OutFile = Annotated[Optional[Path], typer.Option(help="Write to this file.")]
AsOf = Annotated[Optional[str], typer.Option(
    help="The population as of this date (2020, 2020-10 or 2020-10-01): each layer's latest "
         "snapshot on or before it (default: the latest).")]


def at_date(ws: Any, when: str | None) -> Any:
    """The workspace as of ``when`` (``--as-of``), or as it is."""
    if when is None:
        return ws
    from kenmap.people.snapshots import as_of

    return as_of(ws, when)


def say(lines: list[str]) -> None:
    """Print each line."""
    for line in lines:
        typer.echo(line)


def output(text: str, out: Path | None, *, bom: bool = False) -> None:
    """Print ``text``, or write it to ``out``; ``bom`` marks it as UTF-8 so Excel reads CSV
    right."""
    from kenmap.model.files import write_atomic

    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        write_atomic(out, text.encode("utf-8-sig" if bom else "utf-8"))
        typer.echo(f"書き出しました: {out}")

def emit(data: dict[str, object], lines: list[str], fmt: str) -> None:
    """Print ``data`` as JSON or ``lines`` as text, as ``fmt`` asks."""
    if fmt == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif fmt == "text":
        say(lines)
    else:
        raise KenmapError(f"形式「{fmt}」は使えません（text か json）", field="--format")


def layer_key(ws: Any, value: str | None, option: str = "--layer") -> str | None:
    """A layer given by key or Japanese label (``--layer 自治会``) as its key."""
    return None if value is None else str(ws.scheme.key_of(value, option))


def chosen_layer(ws: Any, value: str | None, hub_type: str | None = None) -> str:
    """``--layer`` as a key, or the layer that makes sense when it was not given (see
    :func:`kenmap.layers.hierarchy.default_layer`), said on stderr."""
    if value is not None:
        return str(layer_key(ws, value))
    from kenmap.layers.hierarchy import default_layer

    key = default_layer(ws, hub_type)
    typer.echo(f"（--layer の指定がないため {ws.scheme.layer(key).label}（{key}）で集計します）",
               err=True)
    return key


def type_key(ws: Any, value: str | None, option: str = "--hub-type") -> str | None:
    """A hub type given by key or Japanese label (``--hub-type 公民館``) as its key."""
    if value is None:
        return None
    from kenmap.model.catalogue import catalogue_of

    return str(catalogue_of(ws.get("hub_types")).key_of(value, option))
