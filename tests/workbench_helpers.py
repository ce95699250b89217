"""The workbench in Chromium: a real ``kenmap serve`` process, pages that record what they
logged and requested, and screenshots kept in ``test-artifacts/``."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
#: A laptop screen (the smallest the workbench is made for).
LAPTOP = {"width": 1366, "height": 768}


@dataclass
class Server:
    base: str
    token: str | None
    workspace: Path
    log: Path

    def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return httpx.request(method, self.base + path, headers=headers, timeout=120, **kw)

    def has(self, method: str, path: str, **kw: Any) -> bool:
        """Whether the server has this endpoint yet (pieces of the workbench merged later)."""
        return self.api(method, path, **kw).status_code not in (404, 405)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(process: Any, base: str, log: Path, seconds: float) -> None:
    """Wait until a started ``kenmap serve`` answers /healthz (failing with its log if it
    exits or takes longer than ``seconds``)."""
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, f"server exited: {log.read_text()}"
        assert time.monotonic() < deadline, f"server did not start: {log.read_text()}"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)


@contextmanager
def serving(workspace: Path, tmp: Path, *, token: bool) -> Iterator[Server]:
    """``kenmap serve`` on ``workspace`` (with a token file when ``token``), until the end."""
    port = free_port()
    args = [sys.executable, "-c", "from kenmap.cli import main; main()", "serve", str(workspace),
            "--port", str(port)]
    secret = None
    if token:
        secret = secrets.token_urlsafe(24)
        (tmp / "token").write_text(secret, encoding="utf-8")
        args += ["--token-file", str(tmp / "token")]
    env = {k: v for k, v in os.environ.items() if k != "KENMAP_TOKEN"}
    log = tmp / f"server-{port}.log"
    with open(log, "wb") as err:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(process, base, log, 60)
        yield Server(base, secret, workspace, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Bench:
    """One browser page on the workbench, with what it logged and requested."""

    def __init__(self, context: Any, server: Server) -> None:
        self.server = server
        self.page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        # window.alert/confirm would mean a script from the data ran (we use <dialog>).
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        # The servers before accounts answer /auth/me 404; the browser logs every 4xx.
        if "Failed to load resource" in message.text:
            return
        self.errors.append(message.text)

    def open(self, path: str = "/workbench") -> Any:
        self.page.goto(self.server.base + path)
        self.page.wait_for_selector("body[data-ready]", timeout=90_000)
        assert self.page.evaluate("document.body.dataset.ready") == "true", self.errors
        return self.page

    def remote(self) -> list[str]:
        """Requests to anywhere but the server (there must be none)."""
        return [u for u in self.requests
                if not u.startswith((self.server.base + "/", "data:", "blob:", "about:"))]

    def shot(self, name: str, **kw: Any) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"workbench_{name}.png"
        self.page.screenshot(path=str(path), **kw)
        return path

    def lacking(self) -> int:
        return int(self.page.get_attribute("#km-lacking-count", "data-count"))

    def wait_lacking(self, count: int, timeout: float = 30_000) -> None:
        self.page.wait_for_function(
            "n => document.querySelector('#km-lacking-count')?.dataset.count === String(n)",
            arg=count, timeout=timeout)

    def lacking_codes(self) -> set[str]:
        return set(self.page.evaluate("[...window.kenmap.areaMap.lacking]"))

    def timings(self) -> list[dict[str, Any]]:
        return list(self.page.evaluate("window.kenmap.timings"))

    def sign_in_with_token(self) -> None:
        p = self.page
        p.click("#km-signin-open")
        p.fill("#km-signin [name=token]", self.server.token or "")
        p.click("#km-signin button[type=submit]")
        p.wait_for_selector("#km-signout:not([hidden])")

    def screen_point(self, lat: float, lon: float) -> tuple[float, float]:
        """Where a place is on the screen now (page pixels)."""
        x, y = self.page.evaluate(
            """([lat, lon]) => {
                const map = window.kenmap.areaMap.map;
                const p = map.latLngToContainerPoint([lat, lon]);
                const box = map.getContainer().getBoundingClientRect();
                return [box.left + p.x, box.top + p.y];
            }""", [lat, lon])
        return float(x), float(y)

    def show_places(self, *places: tuple[float, float], zoom: float | None = None) -> None:
        """Bring places into view, as a user would by panning and zooming (waits for it)."""
        self.page.evaluate(
            """([places, zoom]) => new Promise((done) => {
                const map = window.kenmap.areaMap.map;
                map.once('moveend', () => setTimeout(done, 50));
                if (places.length === 1) map.setView(places[0], zoom || 15, { animate: false });
                else map.fitBounds(L.latLngBounds(places).pad(0.3), { animate: false });
            })""", [[list(p) for p in places], zoom])


def inside_points(workspace: Path, layer: str, codes: list[str]) -> dict[str, tuple[float, float]]:
    """A point inside each area (lat, lon): where a user clicks to place a hub in it."""
    import geopandas as gpd

    areas = gpd.read_file(workspace, layer=layer)
    chosen = areas[areas["code"].isin(codes)]
    points = chosen.geometry.representative_point().to_crs(4326)
    return {code: (float(pt.y), float(pt.x)) for code, pt in zip(chosen["code"], points)}


def save_timings(name: str, timings: list[dict[str, Any]]) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"workbench_{name}.json"
    path.write_text(json.dumps(timings, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
