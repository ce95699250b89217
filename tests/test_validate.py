"""validate on hand-made layers where every problem is known."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
from conftest import CliResult
from shapely.geometry import box

from kenmap.model.scheme import PRESETS
from kenmap.workspace import Workspace


def _frame(rows: list[tuple[str, str, str | None, object]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows],
         "parent_code": [r[2] for r in rows]},
        geometry=[r[3] for r in rows], crs=6673)


def _workspace(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    ws = Workspace.create(tmp_path / "v.gpkg", PRESETS["toyooka"])
    with ws.transaction() as tx:
        tx.set_crs(6673)
        for key, frame in layers.items():
            tx.write_layer(key, frame)
    return ws.path


def test_clean_layers_pass(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    shi = _frame([("1", "市", None, box(0, 0, 200, 100))])
    kyu = _frame([("A", "東", "1", box(0, 0, 100, 100)), ("B", "西", "1", box(100, 0, 200, 100))])
    path = _workspace(tmp_path, {"shi": shi, "kyushicho": kyu})
    result = run("validate", path, "--format", "json")
    report = json.loads(result.out)
    assert result.code == 0 and report["ok"]
    # 6 旧市町 expected by the toyooka scheme, and the three layers below left empty: warnings,
    # not errors.
    assert [(w["kind"], w["layer"]) for w in report["warnings"]] == [
        ("count", "kyushicho"), ("empty", "chiku"), ("empty", "gyoseiku"),
        ("empty", "tonarikinjo")]


def test_every_problem_is_named(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    shi = _frame([("1", "市", None, box(0, 0, 200, 100))])
    kyu = _frame([
        ("A", "東町", "1", box(0, 0, 100, 100)),
        ("B", "西町", "1", box(100, 0, 200, 100)),
    ])
    chiku = _frame([
        ("a1", "重なり一", "A", box(0, 0, 60, 100)),
        ("a2", "重なり二", "A", box(50, 0, 100, 50)),   # overlaps a1 by 10 × 50 m
        ("b1", "跨ぎ", "B", box(80, 50, 200, 100)),      # 1/6 of it lies in 東町
        ("b2", "孤児", "Z", box(100, 0, 150, 50)),       # names a parent that does not exist
    ])
    path = _workspace(tmp_path, {"shi": shi, "kyushicho": kyu, "chiku": chiku})
    result = run("validate", path, "--format", "json")
    assert result.code != 0
    report = json.loads(result.out)
    assert report["ok"] is False
    kinds = {e["kind"]: e for e in report["errors"]}
    assert set(kinds) == {"overlap", "across", "orphan"}
    assert kinds["overlap"]["areas"] == ["a1 重なり一", "a2 重なり二"]
    assert "500.0 m²" in kinds["overlap"]["message"]
    assert "b1 跨ぎ" in kinds["across"]["message"] and "東町" in kinds["across"]["message"]
    assert "16.7%" in kinds["across"]["message"]
    assert kinds["orphan"]["areas"] == ["b2 孤児"]
    holes = [w for w in report["warnings"] if w["kind"] == "hole"]
    # 東町: 100×100 minus a1 (60×100) minus a2's part outside a1 (40×50) minus b1's 20×50.
    assert any("A 東町" in h["message"] and "0.001 km²" in h["message"] for h in holes)
    assert report["layers"]["chiku"]["errors"] == 3


def test_invalid_geometry(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    from shapely.geometry import Polygon

    bowtie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    path = _workspace(tmp_path, {"shi": _frame([("1", "市", None, bowtie)])})
    result = run("validate", path)
    assert result.code != 0
    assert "1 市: 不正な形状（Self-intersection" in result.out
