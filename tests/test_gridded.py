"""Population rasters, JIS mesh tables and generated 隣近所 cells: totals are preserved."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from conftest import CliResult
from helpers import ward_city

from kenmap.geo.mesh import mesh_box

X0, Y0 = -60_000.0, -80_000.0
POP = "101,1000,400\n102,1000,200\n201,500,100\n202,300,X\n"


def _ws(tmp_path: Path, run: Callable[..., CliResult]) -> Path:
    ws = ward_city(tmp_path).path
    table = tmp_path / "pop.csv"
    table.write_text("code,総数,65歳以上\n" + POP, encoding="utf-8")
    assert run("import", "population", ws, table, "--layer", "cho", "--code-field", "code",
               "--pop65-field", "65歳以上").code == 0
    return ws


def test_mesh_codes() -> None:
    west, south, east, north = mesh_box("53394611")  # the 1 km mesh of 東京駅
    assert west <= 139.7671 < east and south <= 35.6812 < north
    assert east - west == pytest.approx(45 / 3600) and north - south == pytest.approx(30 / 3600)
    half = mesh_box("533946114")  # 1/2 mesh 4 = north-east quarter
    assert half[0] == pytest.approx(west + 22.5 / 3600) and half[1] == pytest.approx(
        south + 15 / 3600)
    quarter = mesh_box("5339461141")
    assert quarter[2] - quarter[0] == pytest.approx(11.25 / 3600)
    with pytest.raises(ValueError):
        mesh_box("533946115")


def test_raster_spreads_residents_inside_areas(tmp_path: Path,
                                              run: Callable[..., CliResult]) -> None:
    import rasterio
    from rasterio.transform import from_origin

    ws = _ws(tmp_path, run)
    # 250 m pixels over the city; everyone of 101 lives in its westernmost 250 m strip.
    data = np.zeros((4, 16), dtype="float32")
    data[:, 0] = 250
    data[:, 4:] = 10
    tif = tmp_path / "pop.tif"
    with rasterio.open(tif, "w", driver="GTiff", height=4, width=16, count=1, dtype="float32",
                       crs="EPSG:6673", transform=from_origin(X0, Y0 + 1000, 250, 250)) as dst:
        dst.write(data, 1)
    hub = tmp_path / "hubs.csv"
    hub.write_text(f"type,name,x,y\nsalon,west,{X0 + 10},{Y0 + 500}\n", encoding="utf-8")
    run("import", "hubs", ws, hub, "--type-field", "type", "--x-field", "x", "--y-field", "y",
        "--crs", "6673")
    gaps = ("gaps", ws, "--layer", "cho", "--hub-type", "salon", "--radius", "650",
            "--format", "json")
    before = {a["code"]: a for a in json.loads(run(*gaps).out)["areas"]}
    result = run("import", "raster", ws, tif, "--value", "total")
    assert result.code == 0, result.err
    assert "1,480 in all" in result.out  # 4×250 + 48×10
    from kenmap.access.demand import demand_cells
    from kenmap.workspace import Workspace

    demand = demand_cells(Workspace.open(ws))
    assert demand.weighting == "raster"
    # Area totals are kept; only their spread changes.
    assert np.nansum(demand.total) == pytest.approx(2800)
    assert np.nansum(demand.pop65) == pytest.approx(700)
    in_101 = demand.codes["cho"] == "101"
    # The 250 m strip covers the first two 100 m cells and half of the third.
    assert demand.total[in_101 & (demand.x < X0 + 200)].sum() == pytest.approx(800)
    assert demand.total[in_101 & (demand.x < X0 + 300)].sum() == pytest.approx(1000)
    after = {a["code"]: a for a in json.loads(run(*gaps).out)["areas"]}
    # Without a pop65 grid the total grid spreads 65+ too: residents near the hub count more.
    assert after["101"]["pop65"] == before["101"]["pop65"] == 400
    assert after["101"]["reach_rate"] > before["101"]["reach_rate"] + 20


def test_mesh_table(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = _ws(tmp_path, run)
    city = gpd.GeoSeries([shapely.box(X0, Y0, X0 + 4000, Y0 + 1000)], crs=6673).to_crs(6668)
    minx, miny, maxx, maxy = city.total_bounds
    codes = []
    for lat in np.arange(miny - 0.01, maxy + 0.01, 30 / 3600 / 2):
        for lon in np.arange(minx - 0.01, maxx + 0.01, 45 / 3600 / 2):
            p, a = divmod(lat * 1.5, 1)
            u = int(p)
            q, b = divmod(a * 8, 1)
            r, _ = divmod(b * 10, 1)
            v = int(lon - 100)
            s_, c = divmod((lon - 100 - v) * 8, 1)
            t, _ = divmod(c * 10, 1)
            codes.append(f"{u:02d}{v:02d}{int(q)}{int(s_)}{int(r)}{int(t)}")
    codes = sorted(set(codes))
    table = tmp_path / "mesh.csv"
    table.write_text("mesh,pop\n" + "\n".join(f"{c},{100 + i}" for i, c in enumerate(codes)),
                     encoding="utf-8")
    result = run("import", "mesh", ws, table, "--value", "total", "--mesh-field", "mesh",
                 "--value-field", "pop")
    assert result.code == 0, result.err
    stored = pyogrio.read_dataframe(ws, layer="grid_total")
    assert stored["value"].sum() == pytest.approx(sum(100 + i for i in range(len(codes))))
    # Inside the city: an independent area-weighted sum over the mesh boxes.
    boxes = gpd.GeoSeries([shapely.box(*mesh_box(c)) for c in codes], crs=6668).to_crs(6673)
    values = np.array([100 + i for i in range(len(codes))], dtype=float)
    box = shapely.box(X0, Y0, X0 + 4000, Y0 + 1000)
    inside = (boxes.intersection(box).area / boxes.area * values).sum()
    assert f"{inside:,.0f} inside the city" in result.out
    bad = tmp_path / "bad.csv"
    bad.write_text("mesh,pop\n53394611,5\n5339461x,3\n", encoding="utf-8")
    fail = run("import", "mesh", ws, bad, "--value", "total", "--mesh-field", "mesh",
               "--value-field", "pop")
    assert fail.code != 0 and "3行目" in fail.err and "メッシュ" in fail.err


def test_derive_neighbourhood_cells(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    from helpers import SCHEME  # noqa: F401  (市 ⊃ 区 ⊃ 町丁: cells fill 町丁 below 区)

    ws = ward_city(tmp_path).path
    table = tmp_path / "ku.csv"
    table.write_text("code,総数,65歳以上,75歳以上\n1,1001,333,100\n2,47,X,X\n", encoding="utf-8")
    assert run("import", "population", ws, table, "--layer", "ku", "--code-field", "code",
               "--pop65-field", "65歳以上", "--pop75-field", "75歳以上").code == 0
    result = run("derive-neighbourhoods", ws, "--from", "ku", "--size", "300")
    assert result.code == 0, result.err
    cells = pyogrio.read_dataframe(ws, layer="cho")
    assert cells.geometry.area.sum() == pytest.approx(4_000_000)
    assert cells.geometry.area.max() <= 300 * 300 + 1e-6
    assert run("validate", ws).code == 0
    pop = pyogrio.read_dataframe(ws, layer="population_cho").merge(
        cells[["code", "parent_code"]], on="code")
    sums = pop.groupby("parent_code")[["total", "pop65"]].sum(min_count=1)
    assert sums.loc["1", "total"] == 1001 and sums.loc["1", "pop65"] == 333
    assert (pop["total"] == pop["total"].round()).all()  # whole persons
    assert np.isnan(sums.loc["2", "pop65"])  # suppressed stays unknown
    shi = json.loads(run("stats", ws, "--layer", "shi", "--format", "json").out)["areas"][0]
    assert shi["population"] == 1048 and shi["pop65"] == 333
