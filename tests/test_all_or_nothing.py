"""All-or-nothing: every command that writes the workspace leaves it byte-identical on failure.

For each writing command the failures chosen are mostly reached late: after the input file was
read and checked, after the areas were reprojected and located, or inside the write
transaction itself, after a layer was already written to the working copy. Each failure must
leave the workspace's sha256 unchanged, exit with code 2, say one ``kenmap: error:`` line (no
traceback) and leave nothing beside the workspace but its ``.NAME.lock`` file.

The starting workspaces are built once per module and copied per test. ``site`` runs on the
workspace as built, without demand cells cached in it: a failed ``site`` must not leave them
behind either.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import cast

import numpy as np
import pyogrio
import pytest
import shapely
from conftest import ESTAT, SHELTERS, CliResult, digest
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from kenmap.demo import DEMO_CITY, DEMO_HUBS, DEMO_POPULATION

Argv = Callable[[Path, Path], list[object]]  # (workspace, inputs folder) -> kenmap arguments
CENTRE = (134.8252143, 35.5391634)  # a 集会所 in the dense centre of the demo city


class NotOneLine(AssertionError):
    """stderr is not exactly one ``kenmap: error:`` line."""


# -- starting workspaces and inputs ---------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo city's workspace as built: every layer, population and hubs, no cached
    demand cells."""
    from kenmap.access.demand import clear_cache
    from kenmap.demo import build_demo_workspace

    path = build_demo_workspace(tmp_path_factory.mktemp("demo") / "demo.gpkg").path
    clear_cache()
    return path


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new toyooka workspace with no areas yet."""
    from kenmap.model.scheme import PRESETS
    from kenmap.workspace import Workspace

    path = tmp_path_factory.mktemp("empty") / "new.gpkg"
    return Workspace.create(path, PRESETS["toyooka"], "toyooka").path


def _mesh_1km(lon: float, lat: float) -> str:
    """The JIS X 0410 1 km (3rd) mesh code holding a point."""
    p, a = divmod(lat * 1.5, 1)
    q, b = divmod(a * 8, 1)
    r = int(b * 10)
    u, c = divmod(lon - 100, 1)
    v, d = divmod(c * 8, 1)
    w = int(d * 10)
    return f"{int(p):02d}{int(u):02d}{int(q)}{int(v)}{r}{w}"


def _write_tif(path: Path, data: np.ndarray, x0: float, y0: float) -> None:
    import rasterio
    from rasterio.transform import Affine

    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1],
                       count=1, dtype="float32", crs="EPSG:6673",
                       transform=Affine(250, 0, x0, 0, -250, y0)) as dst:
        dst.write(data.astype("float32"), 1)


def _write_csv(path: Path, rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding=encoding)


@pytest.fixture(scope="module")
def inputs(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Input files, each valid but for one fault that only shows once work has been done."""
    import geopandas as gpd

    d = tmp_path_factory.mktemp("inputs")
    kyushicho = pyogrio.read_dataframe(demo, layer="kyushicho")
    gyoseiku = pyogrio.read_dataframe(demo, layer="gyoseiku", read_geometry=False)
    tonarikinjo = pyogrio.read_dataframe(demo, layer="tonarikinjo", read_geometry=False)
    shi = pyogrio.read_dataframe(demo, layer="shi")
    city = shi.geometry.iloc[0]

    # 地区 that nest exactly in the 旧市町 (each cut in two at its centroid) but cut across
    # 行政区: the layer is written, then relinking the 行政区 below it fails.
    halves = []
    for code, name, geom in zip(kyushicho["code"], kyushicho["name"], kyushicho.geometry):
        minx, miny, maxx, maxy = geom.bounds
        mid = geom.centroid.x
        for side, part in (("W", shapely.box(minx - 1, miny - 1, mid, maxy + 1)),
                           ("E", shapely.box(mid, miny - 1, maxx + 1, maxy + 1))):
            halves.append({"code": f"{code}{side}", "name": f"{name}{side}",
                           "geometry": geom.intersection(part)})
    gpd.GeoDataFrame(halves, crs=kyushicho.crs).to_file(d / "chiku_halves.gpkg")

    # derive: 行政区 → 地区 with one 行政区 misspelt (an unknown code, a real one unmapped).
    chiku_rows = [[c, p, f"地区{p}"] for c, p in zip(gyoseiku["code"], gyoseiku["parent_code"])]
    chiku_rows[-1][0] = "289999999999"
    _write_csv(d / "map_unknown.csv", [["child_code", "parent_code", "parent_name"], *chiku_rows])
    # derive: 行政区 → 旧市町 alternately: the new 旧市町 nest in the 市, the 地区 do not nest
    # in them.
    ordered = sorted(gyoseiku["code"])
    _write_csv(d / "map_alternate.csv", [
        ["child_code", "parent_code", "parent_name"],
        *[[c, f"K{i % 2}", "偶数" if i % 2 == 0 else "奇数"] for i, c in enumerate(ordered)]])

    # hubs: a status no one knows in the last row; a type map naming an unknown type.
    text = DEMO_HUBS.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    rows[-1][rows[0].index("status")] = "closed"
    _write_csv(d / "hubs_bad_status.csv", rows)
    _write_csv(d / "type_map.csv", [["value", "type"], ["salon", "salon"], ["ibasho", "ibasho"],
                                    ["shukaijo", "nope"]])

    # population: the last row repeated; 65+ above the total in the last row.
    data = DEMO_POPULATION.read_bytes()
    if not data.endswith(b"\n"):
        data += b"\r\n"
    (d / "pop_duplicate.csv").write_bytes(data + data.splitlines(keepends=True)[-1])
    codes = list(tonarikinjo["code"][:40])
    _write_csv(d / "pop_65_over_total.csv", [
        ["code", "総数", "65歳以上"], *[[c, 100, 30] for c in codes[:-1]], [codes[-1], 100, 150]])

    # rasters: far from the city; over the city but with a negative count.
    _write_tif(d / "far.tif", np.full((4, 4), 10.0), 200_000, 200_000)
    cx, cy = city.centroid.x, city.centroid.y
    negative = np.full((4, 4), 10.0)
    negative[3, 3] = -1
    _write_tif(d / "negative.tif", negative, cx, cy + 1000)
    _write_tif(d / "city.tif", np.full((4, 4), 10.0), cx, cy + 1000)

    # mesh tables: 1 km meshes over the centre with a bad code in the last row; meshes of
    # 東京駅 (far from the city); a count that is not a number in the last row.
    near = sorted({_mesh_1km(CENTRE[0] + dx * 0.0125, CENTRE[1] + dy * 0.00833)
                   for dx in range(-2, 3) for dy in range(-2, 3)})
    _write_csv(d / "mesh_bad_code.csv", [["mesh", "pop"], *[[c, 100] for c in near],
                                         ["5339461x", 5]])
    _write_csv(d / "mesh_far.csv", [["mesh", "pop"], ["53394611", 500], ["53394621", 300]])
    _write_csv(d / "mesh_bad_count.csv", [["mesh", "pop"], *[[c, 100] for c in near],
                                          [near[0][:-1] + "9", "many"]])

    # types: the third of three types has a bad colour; broken TOML; no [[types]].
    (d / "types_bad.toml").write_text(
        '[[types]]\nkey = "shelter"\nlabel = "避難所"\n\n'
        '[[types]]\nkey = "cafe"\nlabel = "カフェ"\ncolour = "#00aa00"\n\n'
        '[[types]]\nkey = "club"\nlabel = "老人クラブ"\ncolour = "purple"\n', encoding="utf-8")
    (d / "types_syntax.toml").write_text('[[types]\nkey = "x', encoding="utf-8")
    (d / "types_none.toml").write_text('[type]\nkey = "x"\n', encoding="utf-8")

    # site candidates: a bad coordinate in row 4; a point just outside the city beside
    # residents (it reaches some of them, but a hub cannot be placed outside the city).
    _write_csv(d / "cands_bad.csv", [["name", "lon", "lat"], ["A", 134.80, 35.50],
                                     ["B", 134.81, 35.51], ["C", "abc", 35.52]])
    edge = _just_outside(demo, city)
    _write_csv(d / "cands_outside.csv", [["name", "lon", "lat"], ["境界外", *edge]])
    _write_csv(d / "cands_centre_outside.csv", [["name", "lon", "lat"], ["中心", *CENTRE],
                                                ["境界外", *edge]])
    return d


def _just_outside(ws: Path, city: BaseGeometry) -> tuple[float, float]:
    """Lon/lat 30 m outside the city boundary next to the populated 隣近所 nearest to it."""
    import geopandas as gpd

    areas = pyogrio.read_dataframe(ws, layer="tonarikinjo")
    pop = pyogrio.read_dataframe(ws, layer="population_tonarikinjo", read_geometry=False)
    areas = areas.merge(pop[["code", "pop65"]], on="code")
    areas = areas[areas["pop65"] > 20]
    ring = city.boundary
    nearest = areas.loc[areas.geometry.distance(ring).idxmin()]
    inside = nearest.geometry.representative_point()
    on_ring = nearest_points(ring, inside)[0]
    dx, dy = on_ring.x - inside.x, on_ring.y - inside.y
    norm = math.hypot(dx, dy)
    point = shapely.Point(on_ring.x + 30 * dx / norm, on_ring.y + 30 * dy / norm)
    assert not city.contains(point)
    lonlat = gpd.GeoSeries([point], crs=areas.crs).to_crs(6668).iloc[0]
    return round(lonlat.x, 7), round(lonlat.y, 7)


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    """Each command as in a new process: no demand cells remembered from another test."""
    from kenmap.access.demand import clear_cache

    clear_cache()
    yield
    clear_cache()


# -- the cases ------------------------------------------------------------------------------
AREAS = ["--code-field", "tonarikinjo_code", "--name-field", "tonarikinjo_name"]
HUBS = ["--lon-field", "lon", "--lat-field", "lat"]
SHELTER_FILE = next(SHELTERS.glob("*_312029.geojson"), SHELTERS / "emergency_312029.geojson")

CASES = [
    # import areas ------------------------------------------------------------------------
    pytest.param("demo", lambda ws, d: [
        "import", "areas", ws, DEMO_CITY, "--layer", "tonarikinjo", "--code-field", "NOPE",
        "--name-field", "tonarikinjo_name"], ["項目「NOPE」"],
        id="import-areas-code-field-missing"),
    pytest.param("demo", lambda ws, d: [
        "import", "areas", ws, DEMO_CITY, "--layer", "tonarikinjo", *AREAS, "--zone", "6674"],
        ["--zone では変更できません"], id="import-areas-other-zone"),
    pytest.param("demo", lambda ws, d: [
        "import", "areas", ws, ESTAT, "--layer", "gyoseiku", "--code-field", "KEY_CODE",
        "--name-field", "MOJI", "--where", "CITY == '202'"],
        ["どの地区にも入っていません"], id="import-areas-estat-outside-the-city"),
    pytest.param("demo", lambda ws, d: [
        "import", "areas", ws, DEMO_CITY, "--layer", "tonarikinjo", *AREAS,
        "--parent-field", "chiku_code"],
        ["上位コード「289990101」", "は行政区", "のコードではありません", "1行目",
         "項目「chiku_code」"],
        id="import-areas-parent-code-unknown-in-transaction"),
    pytest.param("demo", lambda ws, d: [
        "import", "areas", ws, d / "chiku_halves.gpkg", "--layer", "chiku", "--code-field",
        "code", "--name-field", "name"],
        ["行政区の", "区域が1つの地区に収まっていません", "W "],
        id="import-areas-children-do-not-nest-after-layer-written"),
    # import hubs -------------------------------------------------------------------------
    pytest.param("demo", lambda ws, d: [
        "import", "hubs", ws, DEMO_HUBS, "--type", "nope", *HUBS],
        ["拠点の種類「nope」は登録されていません", "項目「--type」"],
        id="import-hubs-unknown-type"),
    pytest.param("demo", lambda ws, d: [
        "import", "hubs", ws, d / "hubs_bad_status.csv", "--type-field", "type", *HUBS],
        ["status「closed」", "項目「status」"], id="import-hubs-bad-status-in-last-row"),
    pytest.param("demo", lambda ws, d: [
        "import", "hubs", ws, DEMO_HUBS, "--type-field", "type", "--type-map",
        d / "type_map.csv", *HUBS],
        ["type_map.csv: 4行目", "拠点の種類「nope」は登録されていません"],
        id="import-hubs-type-map-unknown-type"),
    pytest.param("demo", lambda ws, d: [
        "import", "hubs", ws, SHELTER_FILE, "--type", "shukaijo"],
        ["件が市域の外です"], id="import-hubs-gsi-shelters-outside-the-city"),
    # import population -------------------------------------------------------------------
    pytest.param("demo", lambda ws, d: [
        "import", "population", ws, DEMO_POPULATION, "--layer", "tonarikinjo",
        "--code-field", "町丁コード"], ["列がありません", "--code-field"],
        id="import-population-code-field-missing"),
    pytest.param("demo", lambda ws, d: [
        "import", "population", ws, d / "pop_65_over_total.csv", "--layer", "tonarikinjo",
        "--code-field", "code", "--pop65-field", "65歳以上"],
        ["41行目", "65歳以上（150）が総数（100）より大きくなっています"],
        id="import-population-65-over-total-in-last-row"),
    pytest.param("demo", lambda ws, d: [
        "import", "population", ws, d / "pop_duplicate.csv", "--layer", "tonarikinjo",
        "--code-field", "隣近所コード"], ["行目がすべて区域"],
        id="import-population-duplicate-row"),
    pytest.param("demo", lambda ws, d: [
        "import", "population", ws, DEMO_POPULATION, "--layer", "gyoseiku",
        "--code-field", "隣近所コード"], ["行政区（", "の区域に一致する行がありません"],
        id="import-population-codes-of-another-layer"),
    pytest.param("demo", lambda ws, d: [
        "import", "population", ws, DEMO_POPULATION, "--layer", "tonarikinjo",
        "--code-field", "隣近所コード", "--as-of", "2025-02-30"],
        ["は日付（YYYY-MM-DD）ではありません"],
        id="import-population-bad-date"),
    # import raster -----------------------------------------------------------------------
    pytest.param("demo", lambda ws, d: [
        "import", "raster", ws, d / "far.tif", "--value", "total"],
        ["far.tif", "格子が市域とまったく重なりません"], id="import-raster-far-away"),
    pytest.param("demo", lambda ws, d: [
        "import", "raster", ws, d / "negative.tif", "--value", "total"],
        ["ラスタに負の人数があります"], id="import-raster-negative-count"),
    pytest.param("demo", lambda ws, d: [
        "import", "raster", ws, d / "city.tif", "--value", "total", "--band", "2"],
        ["ラスタのバンドは1個です", "項目「--band」"], id="import-raster-missing-band"),
    pytest.param("demo", lambda ws, d: [
        "import", "raster", ws, d / "city.tif", "--value", "pop75"],
        ["--value は total または pop65 にしてください"], id="import-raster-bad-value"),
    # import mesh -------------------------------------------------------------------------
    pytest.param("demo", lambda ws, d: [
        "import", "mesh", ws, d / "mesh_bad_code.csv", "--value", "total", "--mesh-field",
        "mesh", "--value-field", "pop"], ["5339461x", "行目", "項目「mesh」"],
        id="import-mesh-bad-code-in-last-row"),
    pytest.param("demo", lambda ws, d: [
        "import", "mesh", ws, d / "mesh_far.csv", "--value", "total", "--mesh-field", "mesh",
        "--value-field", "pop"], ["格子が市域とまったく重なりません"],
        id="import-mesh-far-away"),
    pytest.param("demo", lambda ws, d: [
        "import", "mesh", ws, d / "mesh_bad_count.csv", "--value", "pop65", "--mesh-field",
        "mesh", "--value-field", "pop"], ["「many」は人数ではありません", "項目「pop」"],
        id="import-mesh-bad-count-in-last-row"),
    pytest.param("demo", lambda ws, d: [
        "import", "mesh", ws, d / "mesh_far.csv", "--value", "total", "--mesh-field", "mesh",
        "--value-field", "人口"], ["列がありません", "項目「人口」"],
        id="import-mesh-value-field-missing"),
    # derive ------------------------------------------------------------------------------
    pytest.param("demo", lambda ws, d: [
        "derive", ws, "--layer", "chiku", "--from", "gyoseiku", "--mapping",
        d / "map_unknown.csv"], ["下位の1区域が対応表にありません"],
        id="derive-mapping-with-unknown-code"),
    pytest.param("demo", lambda ws, d: [
        "derive", ws, "--layer", "chiku", "--from", "gyoseiku", "--by-field", "nope"],
        ["gyoseiku にその項目はありません", "項目「nope」"], id="derive-by-field-missing"),
    pytest.param("demo", lambda ws, d: [
        "derive", ws, "--layer", "chiku", "--from", "gyoseiku", "--single", "全域",
        "--code", "C1"], ["1つの旧市町に収まっていません", "C1 全域"],
        id="derive-single-across-grandparents-in-transaction"),
    pytest.param("demo", lambda ws, d: [
        "derive", ws, "--layer", "kyushicho", "--from", "gyoseiku", "--mapping",
        d / "map_alternate.csv"], ["地区の", "区域が1つの旧市町に収まっていません", "偶数"],
        id="derive-relink-fails-after-layer-written"),
    # derive-neighbourhoods ---------------------------------------------------------------
    pytest.param("demo", lambda ws, d: [
        "derive-neighbourhoods", ws, "--from", "gyoseiku", "--size", "10"],
        ["--size は20～5,000メートルにしてください"], id="neighbourhoods-size-too-small"),
    pytest.param("demo", lambda ws, d: [
        "derive-neighbourhoods", ws, "--from", "tonarikinjo"], ["最も細かいレイヤです"],
        id="neighbourhoods-from-finest-layer"),
    pytest.param("demo", lambda ws, d: [
        "derive-neighbourhoods", ws, "--from", "gyoseku"], ["gyoseku"],
        id="neighbourhoods-unknown-layer"),
    pytest.param("empty", lambda ws, d: [
        "derive-neighbourhoods", ws, "--from", "gyoseiku"], ["レイヤ gyoseiku に区域がありません"],
        id="neighbourhoods-layer-without-areas"),
    # types add / set / load --------------------------------------------------------------
    pytest.param("demo", lambda ws, d: [
        "types", "add", ws, "shelter", "--label", "避難所", "--colour", "red"],
        ["colour 'red' は #1f77b4 のような形にしてください"], id="types-add-bad-colour"),
    pytest.param("demo", lambda ws, d: [
        "types", "add", ws, "salon", "--label", "サロン"], ["「salon」はすでにあります"],
        id="types-add-existing"),
    pytest.param("demo", lambda ws, d: [
        "types", "add", ws, "Shelter", "--label", "避難所"],
        ["半角の英小文字・数字・_（a-z, 0-9, _）でなければなりません"],
        id="types-add-bad-key"),
    pytest.param("demo", lambda ws, d: [
        "types", "add", ws, "shelter", "--label", "避難所", "--radius", "-5"],
        ["radius_m は正のメートル数でなければなりません"], id="types-add-negative-radius"),
    pytest.param("demo", lambda ws, d: [
        "types", "set", ws, "nope", "--label", "x"], ["拠点の種類「nope」は登録されていません"],
        id="types-set-unknown"),
    pytest.param("demo", lambda ws, d: [
        "types", "set", ws, "salon", "--colour", "blue"], ["colour 'blue'"],
        id="types-set-bad-colour"),
    pytest.param("demo", lambda ws, d: [
        "types", "set", ws, "salon", "--radius", "0"], ["radius_m は正の"],
        id="types-set-zero-radius"),
    pytest.param("demo", lambda ws, d: [
        "types", "load", ws, d / "types_bad.toml"],
        ["types_bad.toml: 3行目", "項目「colour」"], id="types-load-bad-third-type"),
    pytest.param("demo", lambda ws, d: [
        "types", "load", ws, d / "types_syntax.toml"],
        ["正しい UTF-8 の TOML ファイルではありません"],
        id="types-load-broken-toml"),
    pytest.param("demo", lambda ws, d: [
        "types", "load", ws, d / "types_none.toml"], ["[[types]] の表が必要です"],
        id="types-load-no-types"),
    pytest.param("demo", lambda ws, d: [
        "types", "load", ws, d / "nowhere.toml"], ["ファイルが見つかりません"],
        id="types-load-missing-file"),
    # site --apply ------------------------------------------------------------------------
    pytest.param("demo", lambda ws, d: [
        "site", ws, "--hub-type", "ibasho", "--k", "2", "--apply", "--format", "json",
        "--out", ws.parent / "nowhere" / "sites.json"], ["nowhere", "フォルダがありません"],
        id="site-apply-out-in-missing-folder"),
    pytest.param("demo", lambda ws, d: [
        "site", ws, "--hub-type", "ibasho", "--k", "2", "--apply", "--out", ws.parent],
        ["フォルダです", "項目「--out」"],
        id="site-apply-out-is-a-folder"),
    pytest.param("demo", lambda ws, d: [
        "site", ws, "--hub-type", "nope", "--k", "2", "--apply"],
        ["拠点の種類「nope」は登録されていません"],
        id="site-apply-unknown-type"),
    pytest.param("demo", lambda ws, d: [
        "site", ws, "--hub-type", "ibasho", "--k", "2", "--apply", "--candidate-grid", "10"],
        ["--candidate-grid は20～5,000メートル"], id="site-apply-grid-too-fine"),
    pytest.param("demo", lambda ws, d: [
        "site", ws, "--hub-type", "ibasho", "--k", "2", "--apply", "--candidates",
        d / "cands_bad.csv"], ["cands_bad.csv: 4行目", "座標ではありません"],
        id="site-apply-bad-candidate-row"),
    # After the demand cells were computed (they must not be stored by a failed command) and
    # the sites chosen: the one site lies outside the city, so it cannot become a hub.
    pytest.param("demo", lambda ws, d: [
        "site", ws, "--hub-type", "ibasho", "--k", "1", "--apply", "--candidates",
        d / "cands_outside.csv"], ["市域の外"],
        id="site-apply-site-outside-the-city"),
    # ... the same for the second of two sites: the first must not have been added either.
    pytest.param("demo", lambda ws, d: [
        "site", ws, "--hub-type", "ibasho", "--k", "2", "--apply", "--candidates",
        d / "cands_centre_outside.csv"], ["市域の外"],
        id="site-apply-second-site-outside-the-city"),
]


# -- the checks -----------------------------------------------------------------------------
def _start(start: str, tmp_path: Path, templates: dict[str, Path]) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    ws = folder / "ws.gpkg"
    shutil.copy(templates[start], ws)
    return ws


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _one_error_line(err: str) -> str:
    lines = err.strip("\n").splitlines()
    if len(lines) != 1 or not lines[0].startswith("kenmap: エラー: ") or "Traceback" in err:
        raise NotOneLine(f"stderr is not one 'kenmap: エラー:' line:\n{err}")
    return lines[0]


@pytest.fixture
def templates(demo: Path, empty: Path) -> dict[str, Path]:
    return {"demo": demo, "empty": empty}


@pytest.mark.parametrize(("start", "argv", "needles"), CASES)
def test_failed_command_leaves_workspace_untouched(
        start: str, argv: Argv, needles: list[str], templates: dict[str, Path], inputs: Path,
        tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = _start(start, tmp_path, templates)
    before, files_before = digest(ws), _files(tmp_path)

    result = run(*argv(ws, inputs))

    assert result.code == 2, (result.code, result.err)
    line = _one_error_line(result.err)
    for needle in needles:  # the failure is the late one this case is about
        assert needle in line, (needle, line)
    stray = _files(tmp_path) - files_before - {"ws/.ws.gpkg.lock"}
    assert not stray, f"left beside the workspace: {sorted(stray)}"
    assert digest(ws) == before, f"a failed command changed the workspace: {line}"


def test_cases_cover_every_writing_command() -> None:
    commands = set()
    for case in CASES:
        argv = cast(Argv, case.values[1])(Path("ws.gpkg"), Path("in"))
        words = [a for a in argv if isinstance(a, str) and not a.startswith("-")]
        name = " ".join(words[:2]) if words[0] in ("import", "types") else words[0]
        commands.add(name + (" --apply" if "--apply" in argv else ""))
    assert commands == {"import areas", "import hubs", "import population", "import raster",
                        "import mesh", "derive", "derive-neighbourhoods", "types add",
                        "types set", "types load", "site --apply"}


# -- options the parser rejects (before any work) -------------------------------------------
PARSER = [
    pytest.param(lambda ws, d: ["import", "areas", ws, DEMO_CITY, "--layer", "tonarikinjo",
                                *AREAS, "--format", "yaml"], id="import-areas"),
    pytest.param(lambda ws, d: ["import", "hubs", ws, DEMO_HUBS, "--type-field", "type", *HUBS,
                                "--format", "yaml"], id="import-hubs"),
    pytest.param(lambda ws, d: ["import", "population", ws, DEMO_POPULATION, "--layer",
                                "tonarikinjo", "--code-field", "隣近所コード", "--format",
                                "yaml"], id="import-population"),
    pytest.param(lambda ws, d: ["derive", ws, "--layer", "chiku", "--from", "gyoseiku",
                                "--by-field", "chiku_code", "--format", "yaml"], id="derive"),
    pytest.param(lambda ws, d: ["site", ws, "--hub-type", "ibasho", "--k", "2", "--apply",
                                "--format", "yaml"], id="site-apply"),
    pytest.param(lambda ws, d: ["site", ws, "--hub-type", "ibasho", "--k", "2", "--apply",
                                "--solver", "fast"], id="site-apply-solver"),
]


@pytest.mark.parametrize("argv", PARSER)
def test_rejected_option_leaves_workspace_untouched(
        argv: Argv, demo: Path, inputs: Path, tmp_path: Path,
        run: Callable[..., CliResult]) -> None:
    ws = _start("demo", tmp_path, {"demo": demo})
    before, files_before = digest(ws), _files(tmp_path)
    result = run(*argv(ws, inputs))
    assert result.code == 2, (result.code, result.err)
    assert "Traceback" not in result.err and ("yaml" in result.err or "fast" in result.err)
    assert _files(tmp_path) - files_before <= {"ws/.ws.gpkg.lock"}
    assert digest(ws) == before


@pytest.mark.parametrize("argv", PARSER)
def test_rejected_option_says_one_line(argv: Argv, demo: Path, inputs: Path, tmp_path: Path,
                                       run: Callable[..., CliResult]) -> None:
    ws = _start("demo", tmp_path, {"demo": demo})
    result = run(*argv(ws, inputs))
    assert result.code == 2
    _one_error_line(result.err)
