"""What an installed kenmap needs beyond its code: shipped data and assets, files others can
read, and optional parts that say what to install. (The built wheel itself is installed in a
fresh venv and run from a temporary folder by ``make wheel-check``, part of ``make test``.)"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import ROOT

from kenmap.errors import KenmapError


def test_demo_data_ships_inside_the_package() -> None:
    from kenmap.demo import DEMO_CITY, DEMO_HUBS, DEMO_POPULATION

    package = ROOT / "kenmap"
    for path in (DEMO_CITY, DEMO_POPULATION, DEMO_HUBS):
        assert path.is_file() and package in path.parents, path


def test_every_shipped_asset_is_listed_and_present() -> None:
    from kenmap.maps.assets import ASSETS, asset_root
    from kenmap.maps.vendor_files import VENDOR_FILES

    assert set(ASSETS.values()) <= set(VENDOR_FILES)
    root = asset_root()
    missing = [name for name in VENDOR_FILES if not (root / name).is_file()]
    assert not missing
    licences = {name.split("/")[0] for name in VENDOR_FILES if "LICEN" in name.upper()}
    assert licences == {name.split("/")[0] for name in VENDOR_FILES}  # a licence per package


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_follow_the_umask(tmp_path: Path, umask: int,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from kenmap.model import files

    monkeypatch.setattr(files, "_umask", lambda: umask)
    out = tmp_path / "gaps.csv"
    files.write_atomic(out, b"code,name\n")
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert os.listdir(tmp_path) == ["gaps.csv"]


def test_a_missing_extra_names_what_to_install() -> None:
    from kenmap.optional import need

    with pytest.raises(KenmapError) as caught:
        need("kenmap_no_such_module", "print", "印刷用の地図")
    assert "pip install 'kenmap[print]'" in caught.value.message
    assert "印刷用の地図" in caught.value.message


def test_siting_without_the_exact_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    from kenmap.access import covering

    # Two candidates, three demand rows: greedy cannot prove k=1 optimal here.
    weights = np.array([5.0, 4.0, 4.0])
    cover = sp.csr_matrix(np.array([[1, 0], [0, 1], [0, 1]]))
    monkeypatch.setattr(covering, "has", lambda module: module != "highspy")
    auto = covering.solve(weights, cover, 1, solver="auto")
    assert auto.solver == "greedy" and list(auto.chosen) == [1] and auto.value == 8.0
    monkeypatch.setattr(covering, "need", lambda *a: (_ for _ in ()).throw(
        KenmapError("厳密解法（--solver exact）には追加のパッケージ highspy が必要です"
                    "（pip install 'kenmap[siting]' で入ります）")))
    weights = np.array([3.0, 3.0, 2.0, 2.0])
    cover = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1]]))
    greedy = covering.greedy(weights, cover, 2)
    if greedy.optimal:
        pytest.skip("greedy proved this instance optimal; the exact solver is not called")
    with pytest.raises(KenmapError, match="kenmap\\[siting\\]"):
        covering.solve(weights, cover, 2, solver="exact")
