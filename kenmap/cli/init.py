"""``kenmap init``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kenmap.cli.options import WsArg


def init(
    workspace: WsArg,
    scheme: Annotated[Optional[str], typer.Option(
        help="Layer scheme: toyooka (default), yonago, or a .toml file.")] = None,
) -> None:
    """Create a new, empty workspace with a layer scheme."""
    from kenmap.model.scheme import PRESETS, load_scheme
    from kenmap.workspace import Workspace

    chosen = load_scheme(scheme)
    preset = scheme if scheme in PRESETS else ("toyooka" if scheme is None else None)
    Workspace.create(workspace, chosen, preset)
    typer.echo(f"{workspace} を作成しました（圏域の構成 {chosen.name}）: "
               + " ⊃ ".join(f"{layer.label} ({layer.key})" for layer in chosen.layers))
