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


def sign_in_notes(workspace: Path, host: str, token: bool) -> list[str]:
    """What ``kenmap serve`` says at start about how people get in, and the warning that
    sign-in cookies and passwords cross the network unencrypted over plain HTTP."""
    import ipaddress

    from kenmap.accounts import list_users
    from kenmap.workspace import Workspace

    users = list_users(Workspace.open(workspace))
    counts = "・".join(f"{role} {n}" for role in settings.ROLES
                      if (n := sum(u.role == role for u in users)))
    lines = []
    if users:
        lines.append(f"  サインイン: ユーザー {len(users)} 人（{counts}）がブラウザーで"
                     "サインインして使えます"
                     + ("。スクリプトは bearer トークンで編集できます（admin 扱い）"
                        if token else ""))
    elif token:
        lines.append("  編集: bearer トークンでのみ編集できます（ブラウザーでサインインする"
                     f"ユーザーは kenmap users add {workspace} NAME --role editor で追加）")
    else:
        lines.append("  閲覧のみ: ユーザーもトークンもありません（編集するには kenmap users "
                     f"add {workspace} NAME --role admin でユーザーを追加するか "
                     "--token-file を付けて起動）")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback and (users or token):
        lines.append("  注意: HTTP のままネットワークに公開しています。サインインのパスワードと"
                     "クッキー（Secure 属性は HTTPS でしか付けられません）が暗号化されずに"
                     "流れます。ネットワークで使うときは HTTPS のリバースプロキシ（Caddy や "
                     "nginx）の後ろで動かしてください")
    return lines


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
         f"http://{host}:{port}/workbench、API の説明: http://{host}:{port}/docs）")
    for line in sign_in_notes(workspace, host, token is not None):
        echo(line)
    if host in ("0.0.0.0", "::") and not allowed_hosts:
        echo("  注意: すべてのアドレスで待ち受けています。利用者が使うホスト名を --allowed-host "
             "NAME で指定すると、それ以外の名前は拒否されます")
    # SIGTERM: stop within a few seconds whatever is running (heavy jobs are killed).
    uvicorn.run(app, host=host, port=port, log_level="warning",
                timeout_graceful_shutdown=settings.SHUTDOWN_GRACE_S,
                # Idle connections kept longer than uvicorn's 5 s, so a client reusing one
                # rarely meets a connection the server is closing just then.
                timeout_keep_alive=settings.SERVER_KEEP_ALIVE_S)
