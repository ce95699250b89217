"""Boundary files as they come from outside: odd encodings, clashing fields, broken coordinates.

Each was an internal error or a misleading message before; now it imports or is refused with
one line naming the file and what to do, and the workspace is unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CliResult, digest

import kenmap

SQUARE = [[133.33, 35.43], [133.34, 35.43], [133.34, 35.44], [133.33, 35.44], [133.33, 35.43]]
NEXT = [[133.34, 35.43], [133.35, 35.43], [133.35, 35.44], [133.34, 35.44], [133.34, 35.43]]


def _geojson(path: Path, props: list[dict[str, Any]], rings: list[list[list[float]]],
             encoding: str = "utf-8") -> Path:
    data = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": {"type": "Polygon", "coordinates": [r]}}
        for p, r in zip(props, rings)]}
    path.write_bytes(json.dumps(data, ensure_ascii=False).encode(encoding))
    return path


@pytest.fixture
def empty(tmp_path: Path, run: Callable[..., CliResult]) -> Path:
    ws = tmp_path / "ws.gpkg"
    assert run("init", ws, "--scheme", "yonago").code == 0
    return ws


def _import(run: Callable[..., CliResult], ws: Path, file: Path) -> CliResult:
    return run("import", "areas", ws, file, "--layer", "jichikai", "--code-field", "code",
               "--name-field", "name")


def test_shift_jis_geojson_is_read_and_said(empty: Path, tmp_path: Path,
                                           run: Callable[..., CliResult]) -> None:
    file = _geojson(tmp_path / "sjis.geojson", [{"code": "1", "name": "米子一丁目"},
                                               {"code": "2", "name": "米子二丁目"}],
                    [SQUARE, NEXT], encoding="cp932")
    result = _import(run, empty, file)
    assert result.code == 0, result.err
    assert "cp932" in result.out
    names = kenmap.open_workspace(empty).read_layer("jichikai")["name"].tolist()
    assert names == ["米子一丁目", "米子二丁目"]


@pytest.mark.parametrize(("props", "kept"), [
    ([{"code": "1", "CODE": "x", "name": "a"}, {"code": "2", "CODE": "y", "name": "b"}],
     "CODE_2"),
    ([{"fid": "abc", "code": "1", "name": "a"}, {"fid": "def", "code": "2", "name": "b"}],
     "fid_2"),
])
def test_fields_a_geopackage_cannot_hold_are_renamed(empty: Path, tmp_path: Path,
                                                      run: Callable[..., CliResult],
                                                      props: list[dict[str, Any]], kept: str
                                                      ) -> None:
    result = _import(run, empty, _geojson(tmp_path / "f.geojson", props, [SQUARE, NEXT]))
    assert result.code == 0, result.err
    frame = kenmap.open_workspace(empty).read_layer("jichikai")
    original = "CODE" if kept == "CODE_2" else "fid"
    assert frame[kept].tolist() == [p[original] for p in props]


def _mercator(lon: float, lat: float) -> list[float]:
    return [lon * 20037508.34 / 180,
            math.log(math.tan((90 + lat) * math.pi / 360)) * 20037508.34 / math.pi]


@pytest.mark.parametrize(("rings", "needle"), [
    ([[[y, x] for x, y in SQUARE], [[y, x] for x, y in NEXT]], "入れ替わっている"),
    ([[_mercator(*p) for p in SQUARE], [_mercator(*p) for p in NEXT]], "--crs"),
    ([[SQUARE[0], [float("nan"), 35.43], *SQUARE[2:]], NEXT], "数値ではありません"),
])
def test_coordinates_that_cannot_be_are_refused_with_a_hint(
        empty: Path, tmp_path: Path, run: Callable[..., CliResult],
        rings: list[list[list[float]]], needle: str) -> None:
    before = digest(empty)
    file = tmp_path / "bad.geojson"
    data = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": str(i), "name": "x"},
         "geometry": {"type": "Polygon", "coordinates": [r]}} for i, r in enumerate(rings)]}
    file.write_text(json.dumps(data), encoding="utf-8")
    result = _import(run, empty, file)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kenmap: エラー: ") and needle in lines[0]
    assert "bad.geojson" in lines[0]
    assert digest(empty) == before


def test_derive_survives_areas_not_noded_exactly(tmp_path: Path,
                                                 run: Callable[..., CliResult]) -> None:
    """A hair's overlap between neighbours (real e-Stat files have them) made GEOS's coverage
    union fail with an internal error; now the layer is derived and the repair is said."""
    import geopandas as gpd
    from shapely.geometry import Polygon

    x0, y0 = -60_000.0, -80_000.0
    west = Polygon([(x0, y0), (x0 + 100, y0), (x0 + 100, y0 + 100), (x0, y0 + 100)])
    east = Polygon([(x0 + 100, y0), (x0 + 200, y0), (x0 + 200, y0 + 100),
                    (x0 + 100, y0 + 100), (x0 + 99.9999, y0 + 50)])
    north = Polygon([(x0, y0 + 100), (x0 + 100, y0 + 100), (x0 + 100, y0 + 200),
                     (x0, y0 + 200)])
    file = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame({"code": ["1", "2", "3"], "name": ["西", "東", "北"]},
                     geometry=[west, east, north], crs=6673).to_file(file)
    ws = tmp_path / "ws.gpkg"
    assert run("init", ws, "--scheme", "yonago").code == 0
    assert run("import", "areas", ws, file, "--layer", "jichikai", "--code-field", "code",
               "--name-field", "name").code == 0
    result = run("derive", ws, "--layer", "shi", "--from", "jichikai", "--single", "テスト市",
                 "--format", "json")
    assert result.code == 0, result.err
    assert "境界が正確に接していません" in " ".join(json.loads(result.out)["notes"])
    city = kenmap.open_workspace(ws).read_layer("shi")
    assert len(city) == 1
    assert city.geometry.iloc[0].area == pytest.approx(30_000, rel=1e-4)


def test_topojson_without_a_crs(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    """TopoJSON as open-data portals publish it: no CRS, several objects; the polygon object
    is read as longitude/latitude, and a wrong --layer-name names the ones there are."""
    import geopandas as gpd
    import topojson
    from shapely.geometry import Point, Polygon

    polys = gpd.GeoDataFrame({"code": ["1", "2"], "name": ["一丁目", "二丁目"]},
                             geometry=[Polygon(SQUARE), Polygon(NEXT)], crs=4326)
    data = topojson.Topology([polys], object_name=["chome"]).to_dict()
    points = gpd.GeoDataFrame({"n": ["a"]}, geometry=[Point(133.335, 35.435)], crs=4326)
    data["objects"]["places"] = topojson.Topology(points).to_dict()["objects"]["data"]
    file = tmp_path / "city.topojson"
    file.write_text(json.dumps(data), encoding="utf-8")
    ws = tmp_path / "ws.gpkg"
    assert run("init", ws, "--scheme", "yonago").code == 0
    result = _import(run, ws, file)
    assert result.code == 0, result.err
    assert "EPSG:6668" in result.out
    names = kenmap.open_workspace(ws).read_layer("jichikai")["name"].tolist()
    assert sorted(names) == ["一丁目", "二丁目"]
    wrong = run("import", "areas", ws, file, "--layer", "jichikai", "--code-field", "code",
                "--name-field", "name", "--layer-name", "nope")
    assert wrong.code == 2 and "chome" in wrong.err and "--layer-name" in wrong.err


def test_japanese_labels_are_accepted_as_keys(demo_copy_ws: Path,
                                              run: Callable[..., CliResult]) -> None:
    by_key = run("gaps", demo_copy_ws, "--layer", "gyoseiku", "--hub-type", "salon",
                 "--format", "json")
    by_label = run("gaps", demo_copy_ws, "--layer", "行政区", "--hub-type", "サロン",
                   "--format", "json")
    assert by_label.code == 0, by_label.err
    assert json.loads(by_label.out) == json.loads(by_key.out)
    wrong = run("gaps", demo_copy_ws, "--layer", "行政区", "--hub-type", "カラオケ")
    assert wrong.code == 2 and "--hub-type" in wrong.err and "salon (サロン)" in wrong.err
    assert "--type" not in wrong.err.replace("--hub-type", "")
