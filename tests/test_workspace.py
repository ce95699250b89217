"""The workspace file: GeoPackage tables QGIS can open, all-or-nothing writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import digest
from shapely.geometry import box

from kenmap.errors import KenmapError
from kenmap.model.scheme import PRESETS
from kenmap.workspace import Workspace


def _areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["1"], "name": ["市"], "parent_code": [None]},
                            geometry=[box(0, 0, 10, 10)], crs=6673)


def test_layers_are_registered_geopackage_tables(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "w.gpkg", PRESETS["toyooka"])
    with ws.transaction() as tx:
        tx.set_crs(6673)
        tx.write_layer("shi", _areas())
    with sqlite3.connect(ws.path) as con:
        rows = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        srs = con.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name='shi'"
                          ).fetchone()[0]
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
    assert rows["shi"] == "features"  # what QGIS lists and opens
    assert rows["kenmap_meta"] == "attributes"
    assert srs == 6673
    assert app_id == 0x47504B47  # 'GPKG'
    reopened = Workspace.open(ws.path)
    assert reopened.crs_epsg == 6673 and reopened.scheme.keys[0] == "shi"


def test_failed_transaction_leaves_file_byte_identical(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "w.gpkg", PRESETS["toyooka"])
    before = digest(ws.path)
    with pytest.raises(KenmapError), ws.transaction() as tx:
        tx.set_crs(6673)
        tx.write_layer("shi", _areas())
        raise KenmapError("boom")
    assert digest(ws.path) == before
    assert not Workspace.open(ws.path).has_layer("shi")
    left = [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")]
    assert left == ["w.gpkg"]  # no temporary left behind


def test_stale_temporary_from_a_killed_process_is_ignored(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "w.gpkg", PRESETS["toyooka"])
    stale = tmp_path / ".kenmap-tmp-99999-w.gpkg"
    stale.write_bytes(b"half-written")
    with ws.transaction() as tx:
        tx.set_crs(6673)
        tx.write_layer("shi", _areas())
    assert not stale.exists()
    assert len(Workspace.open(ws.path).read_layer("shi")) == 1


def test_writes_outside_a_transaction_are_refused(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "w.gpkg", PRESETS["toyooka"])
    with pytest.raises(RuntimeError):
        ws.write_layer("shi", _areas())


def test_not_a_workspace(tmp_path: Path) -> None:
    other = tmp_path / "x.gpkg"
    _areas().to_file(other)
    with pytest.raises(KenmapError, match="kenmap のワークスペースではありません"):
        Workspace.open(other)
