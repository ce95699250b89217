"""Running the server (``kenmap serve`` and the end of ``kenmap demo``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from kenmap.errors import KenmapError
from kenmap.model import settings


def read_token(token_file: Path | None) -> str | None:
    """The bearer token from a file or ``KENMAP_TOKEN``; None means read-only."""
    if token_file is not None:
        if not token_file.exists():
            raise KenmapError("トークンファイルが見つかりません", file=token_file)
        token = token_file.read_text(encoding="utf-8").strip()
        if len(token) < 16:
            raise KenmapError("トークンは16文字以上にしてください", file=token_file)
        return token
    token = os.environ.get("KENMAP_TOKEN", "").strip()
    if token and len(token) < 16:
        raise KenmapError("KENMAP_TOKEN は16文字以上にしてください")
    return token or None


def run_server(workspace: Path, *, host: str, port: int, token_file: Path | None = None,
               max_upload: int = settings.MAX_UPLOAD_MB * 1024 * 1024,
               allowed_hosts: list[str] | None = None,
               job_memory_mb: int = settings.JOB_MEMORY_MB,
               echo: Callable[[str], None] = print) -> None:
    """Serve ``workspace`` until stopped; read-only unless a token is given (see
    :func:`read_token`). ``max_upload`` is in bytes."""
    import uvicorn

    from kenmap.api.app import create_app

    token = read_token(token_file)
    app = create_app(workspace, token=token, max_upload=max_upload, host=host,
                     extra_hosts=allowed_hosts, job_memory_mb=job_memory_mb,
                     figure_process=True)
    echo(f"{workspace} を http://{host}:{port}/maps/ で公開しています（ワークベンチ: "
         f"http://{host}:{port}/workbench、API の説明: http://{host}:{port}/docs、"
         f"{'トークンで編集できます' if token else '閲覧のみ'}）")
    if host in ("0.0.0.0", "::") and not allowed_hosts:
        echo("  注意: すべてのアドレスで待ち受けています。利用者が使うホスト名を --allowed-host "
             "NAME で指定すると、それ以外の名前は拒否されます")
    # SIGTERM: stop within a few seconds whatever is running (heavy jobs are killed).
    uvicorn.run(app, host=host, port=port, log_level="warning",
                timeout_graceful_shutdown=settings.SHUTDOWN_GRACE_S,
                # Idle connections kept longer than uvicorn's 5 s, so a client reusing one
                # rarely meets a connection the server is closing just then.
                timeout_keep_alive=settings.SERVER_KEEP_ALIVE_S)
