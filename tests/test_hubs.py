"""Hub import: types, locations, duplicates and coordinates that are wrong."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from conftest import CliResult, digest
from helpers import ward_city
from shapely.geometry import Point


def _lonlat(x: float, y: float) -> tuple[float, float]:
    p = gpd.GeoSeries([Point(x, y)], crs=6673).to_crs(6668).iloc[0]
    return round(p.x, 7), round(p.y, 7)


X0, Y0 = -60_000.0, -80_000.0


def _csv(tmp_path: Path, rows: list[str], header: str = "type,name,lon,lat,status,担当区域"
         ) -> Path:
    path = tmp_path / "hubs.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8-sig")
    return path


def _row(kind: str, name: str, x: float, y: float, status: str = "", resp: str = "") -> str:
    lon, lat = _lonlat(X0 + x, Y0 + y)
    return f"{kind},{name},{lon},{lat},{status},{resp}"


def test_hubs_located_on_every_layer(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = ward_city(tmp_path).path
    path = _csv(tmp_path, [
        _row("salon", "本町サロン", 500, 500),
        _row("salon", "新田サロン", 3500, 500, "計画"),
        _row("hokatsu", "東包括", 2500, 200, "", "1;2"),
        _row("salon", "本町サロン（重複）", 501, 501),
        _row("karaoke", "カラオケ", 1500, 500),
        _row("ibasho", "市外の居場所", 5500, 500),
    ])
    result = run("import", "hubs", ws, path, "--type-field", "type", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["count"] == 4
    warnings = " ".join(report["warnings"])
    assert "6行目 カラオケ（karaoke）" in warnings  # unknown type, named with its row
    assert "重複" in warnings and "本町サロン（重複）" in warnings
    assert "市域の外" in warnings and "市外の居場所" in warnings
    hubs = pyogrio.read_dataframe(ws, layer="hubs")
    by = hubs.set_index("name")
    assert by.loc["本町サロン", "area_cho"] == "101" and by.loc["本町サロン", "area_ku"] == "1"
    assert by.loc["新田サロン", "status"] == "planned"
    assert by.loc["東包括", "responsible"] == "1;2" and by.loc["東包括", "area_ku"] == "2"
    assert pd.isna(by.loc["市外の居場所", "area_shi"])
    assert hubs.crs.to_epsg() == 6673
    assert list(hubs["version"]) == [1, 1, 1, 1]
    stats = {a["code"]: a for a in json.loads(
        run("stats", ws, "--layer", "cho", "--format", "json").out)["areas"]}
    assert stats["101"]["hubs"] == {"salon": 1}
    assert stats["202"]["hubs"] == {}  # planned hubs are not counted as existing


def test_swapped_coordinates(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = ward_city(tmp_path).path
    rows = []
    for i in range(3):
        lon, lat = _lonlat(X0 + 300 + i * 1000, Y0 + 500)
        rows.append(f"salon,s{i},{lat},{lon}")
    before = digest(ws)
    result = run("import", "hubs", ws, _csv(tmp_path, rows, "type,name,lon,lat"),
                 "--type-field", "type")
    assert result.code != 0 and digest(ws) == before
    assert "2行目" in result.err and "経度と緯度が入れ替わっているようです" in result.err


def test_wrong_crs(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = ward_city(tmp_path).path
    rows = [f"salon,s{i},{X0 + 300 + i * 1000},{Y0 + 500}" for i in range(3)]
    path = _csv(tmp_path, rows, "type,name,x,y")
    before = digest(ws)
    wrong = run("import", "hubs", ws, path, "--type-field", "type", "--x-field", "x",
                "--y-field", "y", "--crs", "6674")  # zone VI instead of V
    assert wrong.code != 0 and "件が市域の外です" in wrong.err
    assert "座標の列と --crs を確認してください" in wrong.err
    assert digest(ws) == before
    right = run("import", "hubs", ws, path, "--type-field", "type", "--x-field", "x",
                "--y-field", "y", "--crs", "6673")
    assert right.code == 0, right.err


@pytest.mark.parametrize(("args", "needle"), [
    (["--type", "karaoke"], "拠点の種類「karaoke」は登録されていません"),
    (["--type-field", "種別"], "項目「種別」"),
    (["--type", "salon", "--status", "maybe"],
     "--status は existing, planned, candidate のいずれか"),
])
def test_bad_options(tmp_path: Path, run: Callable[..., CliResult], args: list[str],
                     needle: str) -> None:
    ws = ward_city(tmp_path).path
    before = digest(ws)
    result = run("import", "hubs", ws, _csv(tmp_path, [_row("salon", "a", 500, 500)]), *args)
    assert result.code != 0 and needle in result.err and digest(ws) == before


def test_type_catalogue_is_editable(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = ward_city(tmp_path).path
    assert run("types", "add", ws, "shelter", "--label", "避難所", "--colour", "#123456",
               "--radius", "800").code == 0
    assert run("types", "set", ws, "salon", "--radius", "300").code == 0
    listed = json.loads(run("types", "list", ws, "--format", "json").out)["types"]
    by = {t["key"]: t for t in listed}
    assert by["shelter"]["label"] == "避難所" and by["shelter"]["radius_m"] == 800
    assert by["salon"]["radius_m"] == 300 and by["salon"]["label"] == "サロン"
    assert {"salon", "ibasho", "fukushi_plaza", "hokatsu", "chiku_kyoten", "kominkan",
            "shukaijo"} <= set(by)
    bad = run("types", "add", ws, "shelter", "--label", "x")
    assert bad.code != 0 and "すでにあります" in bad.err
    toml = tmp_path / "types.toml"
    toml.write_text('[[types]]\nkey = "cafe"\nlabel = "認知症カフェ"\ncolour = "#aa00aa"\n'
                    'expected = "ku"\n', encoding="utf-8")
    assert run("types", "load", ws, toml).code == 0
    text = run("types", "list", ws).out
    assert "認知症カフェ" in text and "各区域に必要な階層: 区" in text


def test_excel_hub_list(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    """Offices keep hub lists in Excel: Japanese headers, status words, schedule."""
    from openpyxl import Workbook

    ws = ward_city(tmp_path).path
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["種別", "名称", "経度", "緯度", "状態", "開催", "住所"])
    for i, (kind, status) in enumerate((("salon", "既存"), ("ibasho", "計画"),
                                        ("shukaijo", "候補"))):
        lon, lat = _lonlat(X0 + 300 + i * 1000, Y0 + 500)
        sheet.append([kind, f"拠点{i}", lon, lat, status, "常設" if i == 0 else "月2回",
                      f"テスト市本町{i}"])
    path = tmp_path / "hubs.xlsx"
    book.save(path)
    result = run("import", "hubs", ws, path, "--type-field", "種別", "--name-field", "名称",
                 "--format", "json")
    assert result.code == 0, result.err
    hubs = pyogrio.read_dataframe(ws, layer="hubs").set_index("name")
    assert list(hubs["status"]) == ["existing", "planned", "candidate"]
    assert hubs.loc["拠点0", "schedule"] == "常設"
    assert hubs.loc["拠点2", "address"] == "テスト市本町2"
    assert list(hubs["area_cho"]) == ["101", "102", "201"]


def test_tokyo_datum_points(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    """Old lists in the Tokyo datum (EPSG:4301) land within metres of their JGD2011 place."""
    ws = ward_city(tmp_path).path
    p = gpd.GeoSeries([Point(X0 + 500, Y0 + 500)], crs=6673).to_crs(4301).iloc[0]
    path = tmp_path / "old.csv"
    path.write_text(f"type,name,lon,lat\nsalon,旧測地系,{p.x},{p.y}\n", encoding="utf-8")
    result = run("import", "hubs", ws, path, "--type-field", "type", "--crs", "4301")
    assert result.code == 0, result.err
    hub = pyogrio.read_dataframe(ws, layer="hubs")
    assert hub.geometry.iloc[0].distance(Point(X0 + 500, Y0 + 500)) < 1.0
