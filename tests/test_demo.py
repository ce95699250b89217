"""The embedded demo city: deterministic, nested exactly, the shape of 豊岡市's plan."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import pyogrio
import pytest
import shapely
from conftest import ROOT, CliResult

SHAPES = ROOT / "data" / "shapes"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("generate_demo", SHAPES / "generate_demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_shipped_file(tmp_path: Path) -> None:
    gen = _generator()
    out = tmp_path / "demo_city.geojson"
    gen.write(gen.build(), out)
    assert out.read_bytes() == (SHAPES / "demo_city.geojson").read_bytes()


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kenmap.demo import build_demo_workspace

    return build_demo_workspace(tmp_path_factory.mktemp("demo") / "demo.gpkg").path


def test_counts_and_nesting(demo_ws: Path, run: Callable[..., CliResult]) -> None:
    result = run("validate", demo_ws, "--format", "json")
    report = json.loads(result.out)
    assert result.code == 0 and report["ok"], report["errors"][:3]
    counts = {k: v["count"] for k, v in report["layers"].items()}
    assert counts["shi"] == 1 and counts["kyushicho"] == 6 and counts["chiku"] == 29
    assert counts["gyoseiku"] == 359
    assert 2000 <= counts["tonarikinjo"] <= 5000
    assert report["warnings"] == []  # exact tiling: no slivers, no holes


def test_real_plane_rectangular_crs_and_plausible_geography(demo_ws: Path) -> None:
    gyo = pyogrio.read_dataframe(demo_ws, layer="gyoseiku")
    assert gyo.crs.to_epsg() == 6673
    shi = pyogrio.read_dataframe(demo_ws, layer="shi")
    area_km2 = shi.geometry.area.iloc[0] / 1e6
    assert 400 < area_km2 < 900  # 豊岡市 is 698 km²
    lonlat = shi.to_crs(6668).geometry.iloc[0].centroid
    assert 134.5 < lonlat.x < 135.1 and 35.3 < lonlat.y < 35.8  # northern 兵庫
    # A dense centre and rural valleys: central 行政区 are far smaller than rural ones.
    sizes = gyo.geometry.area
    assert sizes.quantile(0.9) / sizes.quantile(0.1) > 10
    centre = shi.geometry.iloc[0].centroid
    nearest = gyo.geometry.centroid.distance(centre).sort_values().index[:30]
    assert sizes[nearest].median() * 5 < sizes.median()
    assert not shapely.get_num_interior_rings(
        shapely.get_geometry(shi.geometry.to_numpy(), 0)).any()


def test_demo_command(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    result = run("demo", "--out", tmp_path / "d", "--no-serve")
    assert result.code == 0, result.err
    assert "SYNTHETIC" in result.out and "行政区 (gyoseiku): 359 areas" in result.out
    assert (tmp_path / "d" / "demo.gpkg").exists()
