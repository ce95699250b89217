"""Shared fixtures: the real data beside the project, the demo workspace (built once per
session, copied per test), and an in-process CLI runner.

Markers: ``real`` (reads ../shared/data/real), ``browser`` (Chromium), ``slow`` (over ~10 s).
``make test-fast`` leaves those out; ``make test`` (CI) runs everything.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"
ESTAT = REAL / "estat_h27_tottori" / "31-tottori-all.shp"
N03 = REAL / "n03_2021" / "N03-21_31_210101_s0010.geojson"
SHELTERS = REAL / "gsi_shelters"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
        ) -> Callable[..., CliResult]:
    """Run ``kenmap ARGS`` in-process and return exit code, stdout and stderr."""
    from kenmap.cli import main

    def _run(*args: object) -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["kenmap", *map(str, args)])
        monkeypatch.delenv("KENMAP_DEBUG", raising=False)
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def real_data() -> Path:
    assert ESTAT.exists(), f"real data missing: {ESTAT} (tests need ../shared beside the project)"
    return REAL


#: Modules whose tests read the real data or drive Chromium (marked automatically).
_REAL_MODULES = {"test_real_estat"}
_BROWSER_MODULES = {"test_maps", "test_hostile_text"}
#: Tests over about 10 s on this machine (left out of ``make test-fast``).
_SLOW = {"test_no_written_or_served_page_runs_hostile_text", "test_every_operation_conforms",
         "test_demo_exact_and_greedy_agree", "test_demo_command", "test_large_layer_stays_small",
         "test_kill_during_import_leaves_workspace_intact"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__ if getattr(item, "module", None) else ""
        fixtures = set(getattr(item, "fixturenames", ()))
        if module in _REAL_MODULES or "real_data" in fixtures:
            item.add_marker(pytest.mark.real)
        if module in _BROWSER_MODULES or "chromium" in fixtures:
            item.add_marker(pytest.mark.browser)
        if getattr(item, "originalname", item.name) in _SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo city's workspace, built once per session. Do not write to it: copy it."""
    from kenmap.demo import build_demo_workspace

    return build_demo_workspace(tmp_path_factory.mktemp("demo-master") / "demo.gpkg").path


def copy_of(master: Path, folder: Path, name: str = "demo.gpkg") -> Path:
    """A private copy of a workspace for a test that writes to it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copy(master, target)
    return target


@pytest.fixture
def demo_copy_ws(demo_master: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo workspace for one test."""
    return copy_of(demo_master, tmp_path)


def demo_pages(demo_master: Path, factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder with a copy of the demo workspace and its written map pages (``maps/``)."""
    from kenmap.maps.page import MapOptions
    from kenmap.maps.pages import write_all_pages
    from kenmap.workspace import Workspace

    tmp = factory.mktemp(name)
    ws = Workspace.open(copy_of(demo_master, tmp))
    write_all_pages(ws, MapOptions(), tmp / "maps")
    return tmp



@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium (headless), one per test module."""
    from browser import browser

    with browser() as b:
        yield b
