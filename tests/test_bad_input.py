"""Bad input: one clear line naming file, row or field; non-zero exit; workspace untouched."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import ESTAT, N03, CliResult, digest

AREAS = ["--code-field", "KEY_CODE", "--name-field", "MOJI"]


@pytest.fixture
def ws(tmp_path: Path, run: Callable[..., CliResult]) -> Path:
    """A yonago workspace that already holds 米子市 as its 市 layer (from N03)."""
    n03 = gpd.read_file(N03)
    n03[n03["N03_007"] == "31202"].to_file(tmp_path / "yonago_city.geojson")
    path = tmp_path / "ws.gpkg"
    assert run("init", path, "--scheme", "yonago").code == 0
    assert run("import", "areas", path, tmp_path / "yonago_city.geojson", "--layer", "shi",
               "--code-field", "N03_007", "--name-field", "N03_004").code == 0
    return path


def _copy_estat(folder: Path, exts: tuple[str, ...] = ("shp", "shx", "dbf", "prj")) -> Path:
    folder.mkdir(exist_ok=True)
    for ext in exts:
        shutil.copy(ESTAT.with_suffix(f".{ext}"), folder / f"tottori.{ext}")
    return folder / "tottori.shp"


def _fails(result: CliResult, *needles: str) -> None:
    assert result.code != 0
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err  # one line, never a traceback
    assert lines[0].startswith("kenmap: エラー: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


def _import(run: Callable[..., CliResult], ws: Path, *args: object) -> CliResult:
    before = digest(ws)
    result = run("import", "areas", ws, *args)
    assert digest(ws) == before, "a failed import changed the workspace"
    return result


def test_missing_file(ws: Path, tmp_path: Path, run: Callable[..., CliResult]) -> None:
    missing = tmp_path / "nowhere.shp"
    _fails(_import(run, ws, missing, "--layer", "jichikai", *AREAS), str(missing), "見つかりません")


def test_text_file_named_shp(ws: Path, tmp_path: Path, run: Callable[..., CliResult]) -> None:
    fake = tmp_path / "fake"
    fake.mkdir()
    for ext in ("shp", "shx", "dbf"):
        (fake / f"areas.{ext}").write_text("code,name\n1,a\n", encoding="utf-8")
    _fails(_import(run, ws, fake / "areas.shp", "--layer", "jichikai", *AREAS),
           "areas.shp", "読み込めるベクタファイルではありません")


def test_shapefile_without_dbf(ws: Path, tmp_path: Path, run: Callable[..., CliResult]) -> None:
    shp = _copy_estat(tmp_path / "nodbf", ("shp", "shx", "prj"))
    _fails(_import(run, ws, shp, "--layer", "jichikai", *AREAS), str(shp), ".dbf")


def test_file_without_crs(ws: Path, tmp_path: Path, run: Callable[..., CliResult]) -> None:
    shp = _copy_estat(tmp_path / "noprj", ("shp", "shx", "dbf"))
    _fails(_import(run, ws, shp, "--layer", "jichikai", *AREAS, "--where", "CITY == '202'"),
           str(shp), "座標系がありません", "--crs")
    # ... and --crs makes the same file importable.
    result = run("import", "areas", ws, shp, "--layer", "jichikai", *AREAS,
                 "--where", "CITY == '202'", "--crs", "4612")
    assert result.code == 0, result.err


@pytest.mark.parametrize("entry", ["../evil.shp", "/etc/evil.shp", "a/../../evil.shp"])
def test_zip_with_unsafe_paths(ws: Path, tmp_path: Path, run: Callable[..., CliResult],
                               entry: str) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(entry, b"x")
        zf.write(ESTAT.with_suffix(".dbf"), "tottori.dbf")
    _fails(_import(run, ws, archive, "--layer", "jichikai", *AREAS), "evil.zip",
           "パスが安全ではない")
    assert not (tmp_path.parent / "evil.shp").exists()


def test_zip_bomb_refused(ws: Path, tmp_path: Path, run: Callable[..., CliResult]) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("areas.shp", b"\0" * 50_000_000)
    _fails(_import(run, ws, archive, "--layer", "jichikai", *AREAS), "bomb.zip", "zip 爆弾")


def test_unknown_layer_key(ws: Path, run: Callable[..., CliResult]) -> None:
    _fails(_import(run, ws, ESTAT, "--layer", "gyoseiku", *AREAS), "レイヤ「gyoseiku」はありません",
           "jichikai")


def test_code_field_missing(ws: Path, run: Callable[..., CliResult]) -> None:
    _fails(_import(run, ws, ESTAT, "--layer", "jichikai", "--code-field", "CHOCHO_CD",
                   "--name-field", "MOJI"), str(ESTAT), "項目「CHOCHO_CD」", "KEY_CODE")


def test_duplicate_codes(ws: Path, run: Callable[..., CliResult]) -> None:
    # CSS_NAME is not unique: many small areas share one name.
    _fails(_import(run, ws, ESTAT, "--layer", "jichikai", "--code-field", "KIHON1",
                   "--name-field", "MOJI", "--where", "CITY == '202'"),
           "が重複しています", "行目", "項目「KIHON1」")


def test_child_layer_that_does_not_nest(ws: Path, run: Callable[..., CliResult]) -> None:
    # 境港市's small areas lie outside the 米子市 polygon held as the 市 layer.
    _fails(_import(run, ws, ESTAT, "--layer", "jichikai", *AREAS, "--where", "CITY == '204'"),
           "どの市全域にも入っていません")


def test_child_straddling_parents(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    """Small areas of 米子 and 日吉津 against a 市 layer cut across them: named with shares."""
    ws = tmp_path / "w.gpkg"
    run("init", ws, "--scheme", "yonago")
    frame = gpd.read_file(ESTAT, encoding="cp932")
    frame = frame[frame["CITY"] == "202"].to_crs(6673)
    minx, miny, maxx, maxy = frame.total_bounds
    midx = (minx + maxx) / 2
    from shapely.geometry import box
    halves = gpd.GeoDataFrame({"code": ["W", "E"], "name": ["西半分", "東半分"]},
                              geometry=[box(minx - 1, miny - 1, midx, maxy + 1),
                                        box(midx, miny - 1, maxx + 1, maxy + 1)], crs=6673)
    halves.to_file(tmp_path / "halves.gpkg")
    assert run("import", "areas", ws, tmp_path / "halves.gpkg", "--layer", "shi",
               "--code-field", "code", "--name-field", "name").code == 0
    result = _import(run, ws, ESTAT, "--layer", "jichikai", *AREAS, "--where", "CITY == '202'")
    _fails(result, "に収まっていません", "西半分", "東半分", "%")


def test_parent_field_with_unknown_code(ws: Path, run: Callable[..., CliResult]) -> None:
    _fails(_import(run, ws, ESTAT, "--layer", "jichikai", *AREAS, "--where", "CITY == '202'",
                   "--parent-field", "KEN"), "上位コード「31」", "行目", "項目「KEN」")


def test_empty_selection(ws: Path, run: Callable[..., CliResult]) -> None:
    _fails(_import(run, ws, ESTAT, "--layer", "jichikai", *AREAS, "--where", "CITY == '999'"),
           "地物がありません")


def test_points_are_not_areas(ws: Path, run: Callable[..., CliResult]) -> None:
    from conftest import SHELTERS

    shelters = SHELTERS / "evacuation_312029.geojson"
    _fails(_import(run, ws, shelters, "--layer", "jichikai", "--code-field", "NO",
                   "--name-field", "施設・場所名"), "1行目", "Point", "ポリゴン")


def test_workspace_that_does_not_exist(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    _fails(run("validate", tmp_path / "none.gpkg"), "ワークスペースが見つかりません")


def test_init_refuses_to_overwrite(ws: Path, run: Callable[..., CliResult]) -> None:
    before = digest(ws)
    _fails(run("init", ws), "すでにあります")
    assert digest(ws) == before


def test_derive_mapping_missing_children(ws: Path, tmp_path: Path,
                                         run: Callable[..., CliResult]) -> None:
    assert run("import", "areas", ws, ESTAT, "--layer", "jichikai", *AREAS,
               "--where", "CITY == '202'").code == 0
    table = tmp_path / "map.csv"
    table.write_text("child_code,parent_code,parent_name\n312020482,1,米子\n", encoding="utf-8")
    before = digest(ws)
    _fails(run("derive", ws, "--layer", "nichijo", "--from", "jichikai", "--mapping", table),
           "下位の257区域が対応表にありません", str(table))
    assert digest(ws) == before
