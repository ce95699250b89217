"""The embedded demo city: deterministic, nested exactly, the shape of 豊岡市's plan."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from conftest import ROOT, CliResult, copy_of

SHAPES = ROOT / "data" / "shapes"
SHIPPED = ROOT / "kenmap" / "demo_data"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("generate_demo", SHAPES / "generate_demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_shipped_files(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(SHAPES))
    from demo_people import write_people
    from demo_roads import build_roads, write_roads

    gen = _generator()
    frame = gen.build()
    gen.write(frame, tmp_path / "demo_city.geojson")
    write_people(frame, tmp_path, gen.SEED)
    towns = np.array([np.array(c) * gen.SCALE + gen.ORIGIN for _, c, _, _ in gen.KYUSHICHO])
    roads = build_roads(frame, gen.ORIGIN, gen.SCALE, towns,
                        gen.ESTATE_AT * gen.SCALE + gen.ORIGIN)
    write_roads(roads, tmp_path / "demo_roads.geojson")
    for name in ("demo_city.geojson", "demo_population.csv", "demo_hubs.csv",
                 "demo_population_2020.csv", "demo_indicators.csv", "demo_activities.csv",
                 "demo_roads.geojson"):
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name


@pytest.fixture(scope="module")
def demo_ws(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_of(demo_master, tmp_path_factory.mktemp("demo"))


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
    assert "SYNTHETIC" in result.out and "行政区 (gyoseiku): 359 区域" in result.out
    assert (tmp_path / "d" / "demo.gpkg").exists()


def test_people_and_hubs(demo_ws: Path, run: Callable[..., CliResult]) -> None:
    city = json.loads(run("stats", demo_ws, "--layer", "shi", "--format", "json").out)
    shi = city["areas"][0]
    assert 75_000 <= shi["population"] <= 85_000
    assert 30 < shi["aging_rate"] < 45
    assert "架空" in json.dumps(city["population_source"], ensure_ascii=False)
    kyu = {a["name"]: a for a in json.loads(
        run("stats", demo_ws, "--layer", "kyushicho", "--format", "json").out)["areas"]}
    assert 27 <= kyu["中央町"]["aging_rate"] <= 35  # the town centre
    assert sum(a["aging_rate"] > 40 for a in kyu.values()) >= 3  # mountain 旧市町
    assert all(a["hubs"].get("hokatsu", 0) <= 2 for a in kyu.values())
    # One 旧市町 has its 包括 office in the neighbouring one.
    assert sorted(a["hubs"].get("hokatsu", 0) for a in kyu.values()) == [0, 1, 1, 1, 1, 2]
    gyo = json.loads(run("stats", demo_ws, "--layer", "gyoseiku", "--format", "json").out)
    areas = gyo["areas"]
    estate = next(a for a in areas if a["name"] == "若葉台団地")
    assert 45 <= estate["aging_rate"] <= 56 and estate["hubs"].get("fukushi_plaza") == 1
    salons = sum(a["hubs"].get("salon", 0) for a in areas)
    assert 250 <= salons <= 310
    without = sum(1 for a in areas if not a["hubs"].get("salon"))
    assert 80 <= without <= 180  # many 行政区 have none
    chiku = json.loads(run("stats", demo_ws, "--layer", "chiku", "--format", "json").out)
    with_kyoten = sum(1 for a in chiku["areas"] if a["hubs"].get("chiku_kyoten"))
    assert 20 <= with_kyoten < 29
    hubs = pyogrio.read_dataframe(demo_ws, layer="hubs")
    assert (hubs["status"] == "candidate").sum() >= 100
    assert set(hubs.loc[hubs["status"] == "candidate", "type"]) == {"shukaijo"}


def test_distance_reach_agrees_with_an_overlay(demo_ws: Path,
                                               run: Callable[..., CliResult]) -> None:
    """Independent check: buffer every サロン, union, intersect with the finest areas and
    count 65+ in proportion to area — the way a user would compute it by hand."""
    import geopandas as gpd

    radius, detour = 500.0, 1.3
    gaps = json.loads(run("gaps", demo_ws, "--layer", "kyushicho", "--hub-type", "salon",
                          "--radius", str(radius), "--format", "json").out)["areas"]
    hubs = gpd.read_file(demo_ws, layer="hubs")
    salons = hubs[(hubs["type"] == "salon") & (hubs["status"] == "existing")]
    reach = salons.geometry.buffer(radius / detour, quad_segs=32).union_all()
    areas = gpd.read_file(demo_ws, layer="tonarikinjo")
    pop = pyogrio.read_dataframe(demo_ws, layer="population_tonarikinjo")
    areas = areas.merge(pop[["code", "pop65"]], on="code")
    share = areas.geometry.intersection(reach).area / areas.geometry.area
    areas["reached"] = areas["pop65"] * share
    kyu = areas.assign(k=areas["code"].str[:7]).groupby("k")[["reached", "pop65"]].sum()
    for area in gaps:
        expected = kyu.loc[area["code"], "reached"]
        assert abs(area["pop65_reached"] - expected) <= 0.01 * kyu.loc[area["code"], "pop65"], \
            (area["name"], area["pop65_reached"], expected)
    total = sum(a["pop65_reached"] for a in gaps)
    assert abs(total - kyu["reached"].sum()) <= 0.01 * kyu["pop65"].sum()


def test_overlay_service_areas_cut_across_the_towns(demo_ws: Path,
                                                    run: Callable[..., CliResult],
                                                    tmp_path: Path) -> None:
    """The demo's 包括圏域 do not follow the 旧市町 (validate accepts them), each has the
    地域包括支援センター responsible for it, and a sheet per 包括圏域 is written."""
    import shapely

    report = json.loads(run("validate", demo_ws, "--format", "json").out)
    assert report["ok"] and report["layers"]["hokatsu"]["nested"] is False
    assert (report["layers"]["hokatsu"]["count"], report["layers"]["shogakku"]["count"]) == \
        (5, 14)
    hokatsu = pyogrio.read_dataframe(demo_ws, layer="hokatsu")
    towns = pyogrio.read_dataframe(demo_ws, layer="kyushicho")
    crossing = 0
    for geom in hokatsu.geometry:
        shares = shapely.area(shapely.intersection(towns.geometry.to_numpy(), geom)) / geom.area
        crossing += int((shares > 0.05).sum() >= 2)
    assert crossing >= 2  # at least two service areas take in parts of two or more towns
    gaps = json.loads(run("gaps", demo_ws, "--layer", "hokatsu", "--hub-type", "hokatsu",
                          "--format", "json").out)
    assert [a["lacking"] for a in gaps["areas"]] == [False] * 5
    # Figures through the crosswalk add up to the city's.
    stats = json.loads(run("stats", demo_ws, "--layer", "hokatsu", "--format", "json").out)
    city = json.loads(run("stats", demo_ws, "--layer", "shi", "--format", "json").out)
    assert sum(a["population"] for a in stats["areas"]) == \
        pytest.approx(city["areas"][0]["population"])
    html = tmp_path / "hokatsu.html"
    assert run("profile", demo_ws, "--layer", "hokatsu", "--all", "--html", html).code == 0
    page = html.read_text(encoding="utf-8")
    assert page.count('<section class="sheet">') == 5
    first = stats["areas"][0]
    assert first["name"] in page and f"{first['population']:,.0f}" in page


def test_the_demo_streets_make_the_point(demo_ws: Path) -> None:
    """Across the river the walk goes round by a bridge; up the estate's hill it is slower
    than down."""
    from kenmap.geo.network import Costs, snap, to_nearest
    from kenmap.network.store import read_network
    from kenmap.workspace import Workspace

    net = read_network(Workspace.open(demo_ws))
    assert net.has_terrain and 5_000 < net.n_edges < 40_000
    # The river flows at x ≈ 44,090 where y = −51,000 (the town centre); bridges 1.8 km south
    # and 2.1 km north.
    west = snap(net, np.array([43_850.0]), np.array([-51_000.0]))
    east = snap(net, np.array([44_330.0]), np.array([-51_000.0]))
    across = to_nearest(net, west, east, Costs())[0]
    assert across > 3_000  # 480 m apart in a straight line
    # 若葉台団地 stands on a hill 60 m up (its top near (48,220, −48,480)).
    top = snap(net, np.array([48_220.0]), np.array([-48_480.0]))
    foot = snap(net, np.array([48_220.0]), np.array([-49_300.0]))
    minutes = Costs(hilly=True, per_metre=1 / 60)
    up = to_nearest(net, top, foot, minutes)[0]     # living at the foot, the hub on top
    down = to_nearest(net, foot, top, minutes)[0]   # living on top, the hub at the foot
    assert up > down * 1.1
