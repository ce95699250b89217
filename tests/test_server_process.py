"""A real server process on loopback: killed (SIGKILL) in the middle of an import, restarted."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pyogrio
from conftest import ROOT, digest

TOKEN = "kenmap-process-token-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(ws: Path, port: int, token_file: Path) -> subprocess.Popen[bytes]:
    code = "from kenmap.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", str(ws), "--port", str(port), "--token-file",
         str(token_file)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"server did not start: {proc.stderr.read() if proc.stderr else ''}")


def test_kill_during_import_leaves_workspace_intact(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from synthetic import jittered_grid

    from kenmap.model.scheme import PRESETS
    from kenmap.workspace import Workspace

    ws = Workspace.create(tmp_path / "ws.gpkg", PRESETS["yonago"], "yonago").path
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    big = tmp_path / "areas.fgb"
    pyogrio.write_dataframe(jittered_grid(300, 300), big)  # 90,000 areas: a few seconds
    before = digest(ws)
    port = _free_port()
    server = _start(ws, port, token_file)

    result: dict[str, object] = {}

    def upload() -> None:
        try:
            with open(big, "rb") as fh:
                result["response"] = httpx.post(
                    f"http://127.0.0.1:{port}/api/imports/areas",
                    params={"layer": "jichikai", "code_field": "code", "name_field": "name"},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    files={"file": ("areas.fgb", fh)}, timeout=120)
        except httpx.HTTPError as exc:
            result["error"] = exc

    thread = threading.Thread(target=upload)
    thread.start()
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".kenmap-tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(tmp_path.glob(".kenmap-tmp-*")), "the import never reached its transaction"
    server.send_signal(signal.SIGKILL)  # in the middle of the import's transaction
    server.wait(timeout=10)
    thread.join(timeout=30)
    assert "error" in result  # the client saw the connection die, not a success
    assert digest(ws) == before  # exactly as before the import

    restarted = _start(ws, port, token_file)
    try:
        layers = httpx.get(f"http://127.0.0.1:{port}/api/layers", timeout=10).json()
        assert {x["key"]: x["count"] for x in layers["layers"]}["jichikai"] == 0
        small = tmp_path / "small.fgb"
        pyogrio.write_dataframe(jittered_grid(10, 10), small)
        with open(small, "rb") as fh:
            ok = httpx.post(f"http://127.0.0.1:{port}/api/imports/areas",
                            params={"layer": "jichikai", "code_field": "code",
                                    "name_field": "name"},
                            headers={"Authorization": f"Bearer {TOKEN}"},
                            files={"file": ("small.fgb", fh)}, timeout=60)
        assert ok.status_code == 200, ok.text
        assert not list(tmp_path.glob(".kenmap-tmp-*"))  # the dead import's copy is gone
    finally:
        restarted.kill()
        restarted.wait(timeout=10)
