"""``kenmap serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kenmap.cli.options import WsArg
from kenmap.model import settings


def serve(
    workspace: WsArg,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = settings.HOST,
    port: Annotated[int, typer.Option(help="Port.")] = settings.PORT,
    token_file: Annotated[Optional[Path], typer.Option(
        help="File holding the bearer token for scripts (acts as admin; or set "
             "KENMAP_TOKEN). Browser users sign in: see 'kenmap users add'.")] = None,
    max_upload_mb: Annotated[int, typer.Option(help="Largest upload accepted (MiB).", min=1)
                             ] = settings.MAX_UPLOAD_MB,
    allowed_host: Annotated[Optional[list[str]], typer.Option(
        help="Another host name clients may use to reach the server (repeatable); others "
             "are refused, against DNS rebinding.")] = None,
    job_memory_mb: Annotated[int, typer.Option(
        help="Memory ceiling of one heavy job (siting), MiB.", min=256)
    ] = settings.JOB_MEMORY_MB,
) -> None:
    """Serve maps, figures, hub edits and imports (FastAPI; docs at /docs). Reads are open;
    writes need a user signed in with a role ('kenmap users add') or the bearer token, and
    with neither the server is read-only."""
    from kenmap.api.server import run_server

    run_server(workspace, host=host, port=port, token_file=token_file,
               max_upload=max_upload_mb * 1024 * 1024, allowed_hosts=allowed_host,
               job_memory_mb=job_memory_mb, echo=typer.echo)
