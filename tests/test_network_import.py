"""``kenmap import network`` and ``kenmap import terrain`` as a GIS officer runs them: the real
OSMnx network of 宇部市, real GSI DEM meshes, OSM XML and GraphML, and the bad files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import CliResult
from pyproj import Transformer

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
UBE = REAL / "osm_walk_ube" / "ube_roads.zip"
DEM = REAL / "gsi_dem10b" / "sample-dem10b.zip"
ESTAT = REAL / "estat_h27_tottori" / "31-tottori-all.shp"

SCHEME = """name = "試験"
[[layers]]
key = "shi"
label = "市"
[[layers]]
key = "ku"
label = "区"
"""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _grid_city(tmp_path: Path, run: Callable[..., CliResult], lon0: float, lat0: float,
               lon1: float, lat1: float, size: float = 500.0) -> Path:
    """A workspace of square 区 (``size`` m) over a box of longitudes and latitudes."""
    scheme = tmp_path / "scheme.toml"
    scheme.write_text(SCHEME, encoding="utf-8")
    to_plane = Transformer.from_crs(6668, 6670, always_xy=True)
    x0, y0 = to_plane.transform(lon0, lat0)
    x1, y1 = to_plane.transform(lon1, lat1)
    boxes, codes = [], []
    for i, x in enumerate(np.arange(x0, x1, size)):
        for j, y in enumerate(np.arange(y0, y1, size)):
            boxes.append(shapely.box(x, y, x + size, y + size))
            codes.append(f"K{i:02d}{j:02d}")
    grid = tmp_path / "grid.geojson"
    gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=boxes, crs=6670).to_crs(
        6668).to_file(grid, driver="GeoJSON")
    ws = tmp_path / "ws.gpkg"
    assert run("init", ws, "--scheme", scheme).code == 0
    assert run("import", "areas", ws, grid, "--layer", "ku", "--code-field", "code",
               "--name-field", "name").code == 0
    assert run("derive", ws, "--layer", "shi", "--from", "ku", "--single", "市").code == 0
    return ws


@pytest.mark.real
def test_the_real_network_of_ube(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = _grid_city(tmp_path, run, 131.23, 33.93, 131.31, 33.99)
    result = run("import", "network", ws, UBE, "--source", "© OpenStreetMap contributors",
                 "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    # 10,403 OSM nodes; the largest connected part holds 99.85 % of them (README).
    assert 10_350 <= report["nodes"] <= 10_403
    assert 15_000 <= report["edges"] <= 15_400
    assert 950 <= report["km"] <= 1_050  # about 1,011 km of ways, walked once each
    assert any("つながっていない部分" in w for w in report["warnings"])
    stored = gpd.read_file(ws, layer="network")
    assert stored.crs.to_epsg() == 6670 and len(stored) == report["edges"]
    # Along the streets is longer than straight, and a hub's minutes grow with distance.
    hubs = tmp_path / "hubs.csv"
    hubs.write_text("type,name,lon,lat\nsalon,中央,131.2475,33.9517\nsalon,東,131.2800,"
                    "33.9600\n", encoding="utf-8")
    assert run("import", "hubs", ws, hubs, "--type-field", "type", "--name-field", "name",
               "--lon-field", "lon", "--lat-field", "lat").code == 0
    pop = tmp_path / "pop.csv"
    codes = gpd.read_file(ws, layer="ku")["code"]
    pop.write_text("code,総数,65歳以上\n" + "".join(f"{c},100,30\n" for c in codes),
                   encoding="utf-8")
    assert run("import", "population", ws, pop, "--layer", "ku", "--code-field", "code"
               ).code == 0
    straight = json.loads(run("gaps", ws, "--layer", "ku", "--hub-type", "salon", "--radius",
                              "1000", "--detour", "1", "--format", "json").out)
    along = json.loads(run("gaps", ws, "--layer", "ku", "--hub-type", "salon", "--radius",
                           "1000", "--network", "--format", "json").out)
    reached = {a["code"]: a["pop65_reached"] for a in straight["areas"]}
    walked = {a["code"]: a["pop65_reached"] for a in along["areas"]}
    assert sum(walked.values()) < sum(reached.values())  # streets are never straighter
    assert along["measure"] == "network"
    timed = run("gaps", ws, "--layer", "ku", "--hub-type", "salon", "--network", "--minutes",
                "10")
    assert timed.code == 0 and "10分圏" in timed.out


@pytest.mark.real
def test_a_network_elsewhere_is_refused(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    """宇部's streets into a workspace of 米子 (another prefecture): one line, nothing
    written."""
    ws = tmp_path / "yonago.gpkg"
    assert run("init", ws, "--scheme", "yonago").code == 0
    assert run("import", "areas", ws, ESTAT, "--layer", "jichikai", "--code-field", "KEY_CODE",
               "--name-field", "MOJI", "--where", "CITY == '202'").code == 0
    before = _digest(ws)
    result = run("import", "network", ws, UBE)
    assert result.code == 2 and "道路網が区域から 500 m 以内にありません" in result.err
    assert len(result.err.strip().splitlines()) == 1 and _digest(ws) == before


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="33.9500" lon="131.2500"/>
  <node id="2" lat="33.9500" lon="131.2550"/>
  <node id="3" lat="33.9500" lon="131.2600"/>
  <node id="4" lat="33.9540" lon="131.2550"/>
  <node id="5" lat="33.9460" lon="131.2550"/>
  <node id="6" lat="33.9700" lon="131.2900"/>
  <node id="7" lat="33.9710" lon="131.2900"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="4"/><nd ref="2"/><nd ref="5"/><tag k="highway" v="footway"/></way>
  <way id="12"><nd ref="6"/><nd ref="7"/><tag k="highway" v="path"/></way>
  <way id="13"><nd ref="1"/><nd ref="4"/><tag k="highway" v="motorway"/></way>
  <way id="14"><nd ref="3"/><nd ref="5"/><tag k="highway" v="service"/>
    <tag k="access" v="private"/></way>
</osm>
"""


def test_an_osm_extract(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    pytest.importorskip("osmium")
    ws = _grid_city(tmp_path, run, 131.245, 33.940, 131.265, 33.960)
    osm = tmp_path / "town.osm"
    osm.write_text(OSM_XML, encoding="utf-8")
    result = run("import", "network", ws, osm, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    # The two streets cross at node 2: four edges meet there. The motorway and the private
    # service road are not walked; the far path is cut off and dropped.
    assert (report["nodes"], report["edges"]) == (5, 4)
    assert any("歩けない道 2 本" in n for n in report["notes"])
    only_motorway = tmp_path / "motorway.osm"
    only_motorway.write_text(OSM_XML.split("<way id=\"10\">")[0]
                             + '<way id="13"><nd ref="1"/><nd ref="4"/>'
                             '<tag k="highway" v="motorway"/></way></osm>', encoding="utf-8")
    before = _digest(ws)
    refused = run("import", "network", ws, only_motorway)
    assert refused.code == 2 and "歩ける道がありません" in refused.err
    assert _digest(ws) == before


def test_an_osmnx_graphml_with_elevations(tmp_path: Path,
                                          run: Callable[..., CliResult]) -> None:
    nx = pytest.importorskip("networkx")
    ws = _grid_city(tmp_path, run, 131.245, 33.940, 131.265, 33.960)
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node, (lon, lat, z) in {1: (131.250, 33.950, 5.0), 2: (131.255, 33.950, 45.0),
                                3: (131.255, 33.954, 45.0)}.items():
        graph.add_node(node, x=lon, y=lat, elevation=z)
    for u, v in ((1, 2), (2, 1), (2, 3), (3, 2)):
        graph.add_edge(u, v, highway="residential", length=1.0)
    path = tmp_path / "walk.graphml"
    nx.write_graphml(graph, path)
    result = run("import", "network", ws, path, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert (report["edges"], report["terrain"]) == (2, True)
    assert any("道路網から 500 m 以上離れています" in w for w in report["warnings"])
    stored = gpd.read_file(ws, layer="network")
    slope = stored[(stored["z_u"] - stored["z_v"]).abs() > 1].iloc[0]
    # 40 m up over ~460 m: walking up costs more than the length, down less.
    up, down = (slope["cost_uv"], slope["cost_vu"]) if slope["z_v"] > slope["z_u"] else \
        (slope["cost_vu"], slope["cost_uv"])
    assert up > slope["length"] > down


@pytest.mark.real
def test_real_gsi_dem_meshes(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    """Streets laid over the 登別/白老 coast, with the real 10 m meshes 6341-51 and 6341-61."""
    from kenmap.geo.dem import read_grids

    ws = _grid_city(tmp_path, run, 141.15, 42.47, 141.20, 42.53)
    to_plane = Transformer.from_crs(6668, 6670, always_xy=True)
    lines = []
    for lon in np.arange(141.155, 141.2, 0.01):
        a, b = to_plane.transform([lon, lon], [42.475, 42.525])
        lines.append(shapely.LineString(list(zip(a, b))))
    for lat in np.arange(42.48, 42.53, 0.01):
        a, b = to_plane.transform([141.155, 141.195], [lat, lat])
        lines.append(shapely.LineString(list(zip(a, b))))
    streets = tmp_path / "streets.geojson"
    noded = list(shapely.get_parts(shapely.node(shapely.MultiLineString(lines))))
    gpd.GeoDataFrame({"highway": ["residential"] * len(noded)}, geometry=noded,
                     crs=6670).to_file(streets, driver="GeoJSON")
    assert run("import", "network", ws, streets).code == 0, "network"
    result = run("import", "terrain", ws, DEM, "--format", "json")
    assert result.code == 0, result.err
    stored = gpd.read_file(ws, layer="network")
    # A node's elevation is the mesh cell's value under it (JGD2000 lon/lat of the mesh).
    grids = read_grids(DEM)
    end = shapely.get_point(stored.geometry.to_numpy(), 0)
    lon, lat = Transformer.from_crs(stored.crs.to_epsg(), 4612, always_xy=True).transform(
        shapely.get_x(end), shapely.get_y(end))
    expected = np.full(len(lon), np.nan)
    for grid in grids:
        todo = np.isnan(expected)
        expected[todo] = grid.sample(np.asarray(lon)[todo], np.asarray(lat)[todo])
    known = np.isfinite(expected)
    assert known.mean() > 0.5
    assert np.allclose(stored["z_u"].to_numpy()[known], expected[known], atol=0.01)
    hilly = stored[(stored["z_u"] - stored["z_v"]).abs() > 20]
    assert len(hilly) > 0
    assert ((hilly["cost_uv"] > hilly["length"]) | (hilly["cost_vu"] > hilly["length"])).all()


@pytest.mark.real
def test_a_dem_of_another_place_is_refused(tmp_path: Path,
                                           run: Callable[..., CliResult]) -> None:
    ws = _grid_city(tmp_path, run, 131.245, 33.940, 131.265, 33.960)
    streets = tmp_path / "streets.geojson"
    to_plane = Transformer.from_crs(6668, 6670, always_xy=True)
    a, b = to_plane.transform([131.25, 131.26], [33.95, 33.95])
    gpd.GeoDataFrame({"highway": ["residential"]},
                     geometry=[shapely.LineString(list(zip(a, b)))], crs=6670).to_file(
        streets, driver="GeoJSON")
    assert run("import", "network", ws, streets).code == 0
    before = _digest(ws)
    result = run("import", "terrain", ws, DEM)
    assert result.code == 2 and "標高データが道路網にかかっていません" in result.err
    assert _digest(ws) == before


def test_empty_and_missing_networks(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = _grid_city(tmp_path, run, 131.245, 33.940, 131.265, 33.960)
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type":"FeatureCollection","features":[]}', encoding="utf-8")
    before = _digest(ws)
    result = run("import", "network", ws, empty)
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert _digest(ws) == before
    gaps = run("gaps", ws, "--layer", "ku", "--hub-type", "salon", "--network")
    assert gaps.code == 2 and "kenmap import network" in gaps.err
    alone = run("gaps", ws, "--layer", "ku", "--hub-type", "salon", "--minutes", "10")
    assert alone.code == 2 and "--network" in alone.err
