"""Coverage and gaps on hand-computable cases: squares, hubs at known distances."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely
from conftest import CliResult
from helpers import ward_city

X0, Y0 = -60_000.0, -80_000.0


def _city(tmp_path: Path, run: Callable[..., CliResult], pop: str, hubs: list[str]) -> Path:
    ws = ward_city(tmp_path).path
    table = tmp_path / "pop.csv"
    table.write_text("code,総数,65歳以上\n" + pop, encoding="utf-8")
    assert run("import", "population", ws, table, "--layer", "cho", "--code-field", "code",
               "--pop65-field", "65歳以上").code == 0
    if hubs:
        path = tmp_path / "hubs.csv"
        path.write_text("type,name,x,y,status,responsible\n" + "\n".join(hubs) + "\n",
                        encoding="utf-8")
        result = run("import", "hubs", ws, path, "--type-field", "type", "--x-field", "x",
                     "--y-field", "y", "--crs", "6673")
        assert result.code == 0, result.err
    return ws


def _gaps(run: Callable[..., CliResult], ws: Path, *args: object) -> dict[str, dict]:
    result = run("gaps", ws, *args, "--format", "json")
    assert result.code == 0, result.err
    return {a["code"]: a for a in json.loads(result.out)["areas"]}


def _cells_within(cx: float, cy: float, r: float, x0: float, y0: float) -> int:
    """Independent count: 100 m cell centres of a 1 km square within r of (cx, cy)."""
    centres = [(x0 + 50 + 100 * i, y0 + 50 + 100 * j) for i in range(10) for j in range(10)]
    return sum((x - cx) ** 2 + (y - cy) ** 2 <= r * r for x, y in centres)


POP = "101,1000,400\n102,1000,200\n201,500,X\n202,0,0\n"


def test_distance_reach_in_a_square(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    hub = f"salon,本町サロン,{X0 + 500},{Y0 + 500},existing,"
    ws = _city(tmp_path, run, POP, [hub])
    rows = _gaps(run, ws, "--layer", "cho", "--hub-type", "salon", "--radius", "390")
    # 390 m walking at detour 1.3 is 300 m straight: count the reached 100 m cells by hand.
    n = _cells_within(X0 + 500, Y0 + 500, 300, X0, Y0)
    assert n == 32  # 8 per quadrant: (±50|±150|±250)² pairs up to 300 m
    assert rows["101"]["pop65_reached"] == pytest.approx(n * 4)
    assert rows["101"]["reach_rate"] == pytest.approx(n)  # of 100 cells
    assert rows["101"]["lacking"] is True and rows["101"]["reason"] == "65歳以上の68%が390m圏外"
    # Cells of 102 (1–2 km east) nearest the hub are 550 m away straight: none reached.
    assert rows["102"]["pop65_reached"] == 0
    # Mean walking distance to the hub, weighted by 65+ (all cells of 102 weigh the same).
    centres = np.array([(X0 + 1050 + 100 * i, Y0 + 50 + 100 * j) for i in range(10)
                        for j in range(10)])
    expected = np.hypot(centres[:, 0] - X0 - 500, centres[:, 1] - Y0 - 500).mean() * 1.3
    assert rows["102"]["nearest_hub_m"] == pytest.approx(expected)
    # Suppressed 65+ stays unknown; an area with no older residents is not a gap.
    assert rows["201"]["pop65"] is None and "不明" in rows["201"]["reason"]
    assert rows["202"]["reach_rate"] is None and rows["202"]["lacking"] is False
    # Sorted by the older residents left out, most first.
    assert list(rows)[:2] == ["101", "102"]  # 400 − 128 left out, then 200 − 0


def test_detour_factor_and_min_reach(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = _city(tmp_path, run, POP, [f"salon,s,{X0 + 500},{Y0 + 500},existing,"])
    straight = _gaps(run, ws, "--layer", "cho", "--hub-type", "salon", "--radius", "390",
                     "--detour", "1", "--min-reach", "40")
    n = _cells_within(X0 + 500, Y0 + 500, 390, X0, Y0)
    assert straight["101"]["pop65_reached"] == pytest.approx(n * 4)
    assert straight["101"]["lacking"] is (n < 40)
    bad = run("gaps", ws, "--layer", "cho", "--hub-type", "salon", "--radius", "390",
              "--detour", "0.5")
    assert bad.code != 0 and "--detour" in bad.err


def test_cells_cut_by_the_boundary(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    """A square not aligned to the grid: edge pieces are smaller and carry less."""
    from kenmap.geo.grid import cut_by_grid

    square = shapely.box(30, 70, 1030, 1070)
    pieces = cut_by_grid(np.array([square]), 100.0)
    assert len(pieces.area) == 11 * 11
    assert pieces.area.sum() == pytest.approx(1_000_000)
    corner = np.argmin(pieces.x + pieces.y)
    assert pieces.area[corner] == pytest.approx(70 * 30)
    assert (pieces.x[corner], pieces.y[corner]) == pytest.approx((65, 85))


def test_membership_and_responsibility(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    hubs = [f"hokatsu,東包括,{X0 + 2500},{Y0 + 500},existing,202",
            f"salon,予定サロン,{X0 + 1500},{Y0 + 500},planned,"]
    ws = _city(tmp_path, run, POP, hubs)
    rows = _gaps(run, ws, "--layer", "cho", "--hub-type", "hokatsu")
    assert rows["201"]["lacking"] is False and rows["201"]["hubs_inside"] == 1
    assert rows["202"]["lacking"] is False and "担当" in rows["202"]["reason"]
    assert rows["101"]["lacking"] is True
    assert rows["101"]["reason"] == "町丁内に地域包括支援センターがありません"
    assert rows["101"]["pop65_reached"] == 0 and rows["101"]["reach_rate"] == 0
    now = _gaps(run, ws, "--layer", "cho", "--hub-type", "salon")
    assert now["102"]["lacking"] is True
    what_if = _gaps(run, ws, "--layer", "cho", "--hub-type", "salon", "--with-planned")
    assert what_if["102"]["lacking"] is False and what_if["102"]["pop65_reached"] == 200
    table = run("gaps", ws, "--layer", "cho", "--hub-type", "salon").out
    assert "区ごとの不足数" in table and "中央区" in table


def test_gap_fields_are_exact(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = _city(tmp_path, run, POP, [f"salon,s,{X0 + 500},{Y0 + 500},existing,"])
    result = run("gaps", ws, "--layer", "ku", "--hub-type", "salon", "--format", "json")
    area = json.loads(result.out)["areas"][0]
    assert list(area) == ["code", "name", "hub_type", "lacking", "reason", "hubs_inside",
                          "pop65", "pop65_reached", "reach_rate", "nearest_hub_m"]
    csv = run("gaps", ws, "--layer", "ku", "--hub-type", "salon", "--format", "csv").out
    assert csv.splitlines()[0] == ",".join(area)


def test_coverage_summary(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    ws = _city(tmp_path, run, POP, [f"salon,s,{X0 + 500},{Y0 + 500},existing,"])
    data = json.loads(run("coverage", ws, "--format", "json").out)
    salon = data["types"]["salon"]
    assert data["pop65"] == 600
    n = _cells_within(X0 + 500, Y0 + 500, 500 / 1.3, X0, Y0)
    assert salon["city"]["pop65_reached"] == pytest.approx(n * 4)
    assert salon["layers"]["cho"]["lacking"] == 3 and salon["layers"]["ku"]["lacking"] == 1
    text = run("coverage", ws).out
    assert text.splitlines()[0].startswith("拠点の充足状況")
    assert text.index("サロン") < text.index("居場所")
