"""Shared fixtures: the real data beside the project, and an in-process CLI runner."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
