"""Integration: 米子市 from the real e-Stat small areas, as a new user would import it."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from conftest import ESTAT, N03, CliResult

YONAGO = ["--where", "CITY == '202'"]


@pytest.fixture(scope="module")
def yonago_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """米子市 in the yonago scheme: 自治会 layer imported, 日常生活圏域 and 市 derived."""
    from kenmap.layers.areas import import_areas
    from kenmap.layers.derive import derive_layer
    from kenmap.model.scheme import PRESETS
    from kenmap.workspace import Workspace

    tmp = tmp_path_factory.mktemp("yonago")
    ws = Workspace.create(tmp / "yonago.gpkg", PRESETS["yonago"])
    import_areas(ws, [ESTAT], layer="jichikai", code_field="KEY_CODE", name_field="MOJI",
                 where="CITY == '202'")
    areas = ws.read_layer("jichikai")
    yodoe = areas["name"].str.startswith("淀江町")
    mapping = pd.DataFrame({"child_code": areas["code"],
                            "parent_code": ["2" if y else "1" for y in yodoe],
                            "parent_name": ["淀江" if y else "米子" for y in yodoe]})
    mapping.to_csv(tmp / "kyushicho.csv", index=False, encoding="cp932")  # as Excel saves it
    derive_layer(ws, layer="nichijo", from_layer="jichikai", mapping=tmp / "kyushicho.csv")
    derive_layer(ws, layer="shi", from_layer="nichijo", single="米子市", code="31202")
    return ws.path


def test_names_codes_and_counts(yonago_ws: Path) -> None:
    areas = pyogrio.read_dataframe(yonago_ws, layer="jichikai")
    # 259 polygons; 旗ヶ崎 (312020482) comes in two enclave parts that become one area.
    assert len(areas) == 258
    assert areas["code"].is_unique
    assert "旗ヶ崎" in set(areas["name"])
    assert areas["name"].str.startswith("淀江町").sum() == 35
    assert areas["JINKO"].sum() == 149_313
    assert areas["SETAI"].sum() == 60_037
    assert areas.loc[areas["code"] == "312020482", "JINKO"].item() == 16
    # The file's other attributes are kept, decoded from cp932.
    assert set(areas["GST_NAME"]) == {"米子市"}
    assert areas.crs.to_epsg() == 6673  # zone V, where 鳥取 is measured


def test_derived_layers_nest(yonago_ws: Path, run: Callable[..., CliResult]) -> None:
    kyu = pyogrio.read_dataframe(yonago_ws, layer="nichijo")
    assert set(kyu["name"]) == {"米子", "淀江"}
    areas = pyogrio.read_dataframe(yonago_ws, layer="jichikai")
    yodoe = areas[areas["parent_code"] == kyu.loc[kyu["name"] == "淀江", "code"].item()]
    assert yodoe["JINKO"].sum() == 9_533
    result = run("validate", yonago_ws, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["ok"] is True and report["errors"] == []
    assert report["layers"]["jichikai"]["count"] == 258
    assert report["layers"]["nichijo"]["count"] == 2
    assert report["layers"]["shi"]["count"] == 1


def test_city_outline_matches_n03(yonago_ws: Path) -> None:
    shi = gpd.read_file(yonago_ws, layer="shi")
    n03 = gpd.read_file(N03)
    yonago = n03[n03["N03_007"] == "31202"].to_crs(shi.crs)
    assert len(yonago) >= 1
    ours = shi.geometry.iloc[0]
    theirs = yonago.geometry.union_all()
    # N03 here is simplified to 1 % of its vertices: the outlines agree only roughly.
    iou = ours.intersection(theirs).area / ours.union(theirs).area
    assert iou > 0.9, iou
    assert abs(ours.area - theirs.area) / theirs.area < 0.05


def test_whole_prefecture_water_and_enclaves(tmp_path: Path, run: Callable[..., CliResult]
                                             ) -> None:
    ws = tmp_path / "tottori.gpkg"
    assert run("init", ws, "--scheme", "yonago").code == 0
    result = run("import", "areas", ws, ESTAT, "--layer", "jichikai", "--code-field",
                 "KEY_CODE", "--name-field", "MOJI", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    notes = " ".join(report["notes"])
    # 境水道 is all water; 港町 has a water part (E2) beside its land part.
    assert "水面の2行" in notes and "境水道" in notes
    areas = pyogrio.read_dataframe(ws, layer="jichikai")
    assert "境水道" not in set(areas["name"]) and "港町" in set(areas["name"])
    assert areas["code"].is_unique
    assert areas["JINKO"].sum() == 573_441  # the published 2015 population of 鳥取県


def test_zipped_shapefile(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    archive = tmp_path / "tottori.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for ext in ("shp", "shx", "dbf", "prj"):
            zf.write(ESTAT.with_suffix(f".{ext}"), f"h27ka31/31-tottori-all.{ext}")
    ws = tmp_path / "z.gpkg"
    run("init", ws, "--scheme", "yonago")
    result = run("import", "areas", ws, archive, "--layer", "jichikai", "--code-field",
                 "KEY_CODE", "--name-field", "MOJI", *YONAGO)
    assert result.code == 0, result.err
    assert "cp932（自動判定）" in result.out
    areas = pyogrio.read_dataframe(ws, layer="jichikai")
    assert len(areas) == 258 and "淀江町西原９区" in set(areas["name"])


def test_files_appended_into_one_layer(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    # A city delivered one file per ward: split 米子 in two GeoPackages and import both.
    frame = gpd.read_file(ESTAT, encoding="cp932")
    frame = frame[frame["CITY"] == "202"]
    yodoe = frame["MOJI"].str.startswith("淀江町")
    frame[yodoe].to_file(tmp_path / "yodoe.gpkg")
    frame[~yodoe].to_file(tmp_path / "yonago.gpkg")
    ws = tmp_path / "w.gpkg"
    run("init", ws, "--scheme", "yonago")
    result = run("import", "areas", ws, tmp_path / "yonago.gpkg", tmp_path / "yodoe.gpkg",
                 "--layer", "jichikai", "--code-field", "KEY_CODE", "--name-field", "MOJI")
    assert result.code == 0, result.err
    assert len(pyogrio.read_dataframe(ws, layer="jichikai")) == 258


def test_parent_by_location_after_parent_import(tmp_path: Path, run: Callable[..., CliResult]
                                                ) -> None:
    """Import the N03 city first, then small areas: each is linked by location."""
    n03 = gpd.read_file(N03)
    n03[n03["N03_007"].isin(["31202", "31203"])].to_file(tmp_path / "cities.geojson")
    ws = tmp_path / "w.gpkg"
    run("init", ws, "--scheme", "yonago")
    assert run("import", "areas", ws, tmp_path / "cities.geojson", "--layer", "shi",
               "--code-field", "N03_007", "--name-field", "N03_004").code == 0
    result = run("import", "areas", ws, ESTAT, "--layer", "jichikai", "--code-field",
                 "KEY_CODE", "--name-field", "MOJI", "--where", "CITY in ('202', '203')")
    assert result.code == 0, result.err
    areas = pyogrio.read_dataframe(ws, layer="jichikai")
    # Each small area's parent is the municipality its own code names.
    city = areas["code"].str[:5]
    assert (areas["parent_code"] == city).mean() > 0.97
    # N03 here is coarse: areas reaching beyond it are accepted but reported, with shares.
    assert "どの市全域からもはみ出しています" in result.out
    assert "%)" in result.out


def test_copy_keeps_encoding_detection_honest(tmp_path: Path, run: Callable[..., CliResult]
                                              ) -> None:
    """A .cpg that says UTF-8 is trusted; forcing UTF-8 on the cp932 DBF is a clear error."""
    for ext in ("shp", "shx", "dbf", "prj"):
        shutil.copy(ESTAT.with_suffix(f".{ext}"), tmp_path / f"t.{ext}")
    ws = tmp_path / "w.gpkg"
    run("init", ws)
    result = run("import", "areas", ws, tmp_path / "t.shp", "--layer", "tonarikinjo",
                 "--code-field", "KEY_CODE", "--name-field", "MOJI", "--encoding", "utf-8")
    assert result.code != 0
    assert "utf-8 として正しくありません" in result.err and "行目" in result.err
    assert not pyogrio.list_layers(ws)[:, 0].tolist().count("tonarikinjo")


def test_population_from_estat_totals(yonago_ws: Path, tmp_path: Path,
                                      run: Callable[..., CliResult]) -> None:
    ws = tmp_path / "pop.gpkg"
    shutil.copy(yonago_ws, ws)
    result = run("import", "population", ws, ESTAT, "--layer", "jichikai", "--code-field",
                 "KEY_CODE", "--total-field", "JINKO", "--households-field", "SETAI",
                 "--where", "CITY == '202'", "--as-of", "2015-10-01", "--source",
                 "平成27年国勢調査", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["matched_share"] == 1.0
    shi = json.loads(run("stats", ws, "--layer", "shi", "--format", "json").out)
    city = shi["areas"][0]
    assert city["population"] == 149_313 and city["households"] == 60_037
    assert city["aging_rate"] is None  # no age breakdown in the file: unknown, not 0
    kyu = {a["name"]: a for a in json.loads(
        run("stats", ws, "--layer", "nichijo", "--format", "json").out)["areas"]}
    assert kyu["淀江"]["population"] == 9_533
    assert "平成27年国勢調査（基準日 2015-10-01）" in run("stats", ws, "--layer", "shi").out


def test_shelters_as_hubs(yonago_ws: Path, tmp_path: Path,
                          run: Callable[..., CliResult]) -> None:
    from conftest import SHELTERS

    ws = tmp_path / "hubs.gpkg"
    shutil.copy(yonago_ws, ws)
    assert run("types", "add", ws, "shelter", "--label", "避難所").code == 0
    type_map = tmp_path / "types.csv"
    type_map.write_text("value,type,match\n公民館,kominkan,suffix\n"
                        "公民館（旧淀江中央公民館）,kominkan,suffix\n集会所,shukaijo,contains\n"
                        "*,shelter\n", encoding="utf-8")
    points = SHELTERS / "evacuation_312029.geojson"
    result = run("import", "hubs", ws, points, "--type-field", "施設・場所名", "--type-map",
                 type_map, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["count"] == 146 and report["outside"] == 0
    assert report["by_type"]["kominkan"] == 29  # one 地区公民館 per 公民館区域
    assert report["by_type"]["shukaijo"] == 18
    hubs = gpd.read_file(ws, layer="hubs")
    assert hubs["area_shi"].eq("31202").all()
    # Each hub's small area, checked against an independent spatial join in JGD2000.
    areas = gpd.read_file(ESTAT, encoding="cp932")
    areas = areas[areas["CITY"] == "202"].dissolve("KEY_CODE").reset_index()
    shelters = gpd.read_file(points).to_crs(areas.crs)
    joined = gpd.sjoin(shelters, areas[["KEY_CODE", "geometry"]], predicate="within")
    expected = dict(zip(joined["施設・場所名"], joined["KEY_CODE"]))
    ours = dict(zip(hubs["name"], hubs["area_jichikai"]))
    assert len(expected) >= 140
    assert all(ours[name] == code for name, code in expected.items())
    kominkan = hubs[hubs["type"] == "kominkan"]
    assert set(kominkan["name"]) >= {"永江公民館", "淀江公民館（旧淀江中央公民館）", "県公民館"}
