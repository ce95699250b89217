"""The server and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli import WsArg, app


@app.command()
def serve(
    workspace: WsArg,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    token_file: Annotated[Optional[Path], typer.Option(
        help="File holding the bearer token for edits (or set KENMAP_TOKEN).")] = None,
    max_upload_mb: Annotated[int, typer.Option(help="Largest upload accepted.")] = 200,
) -> None:
    """Serve maps, figures, hub edits and imports (FastAPI; docs at /docs)."""
    from kenmap.api.server import run_server

    run_server(workspace, host=host, port=port, token_file=token_file,
               max_upload=max_upload_mb * 1024 * 1024, echo=typer.echo)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo workspace.")] = Path("kenmap-demo"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build only; do not serve.")] = False,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Build the synthetic demo city's workspace and run everything on it."""
    from kenmap.demo import run_demo

    run_demo(out, serve=not no_serve, echo=typer.echo, host=host, port=port)
