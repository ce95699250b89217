"""Projection per area by cohort change ratios (``kenmap project``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CliResult, digest

from kenmap.demo import DEMO_POPULATION


def test_cohort_change_ratios_by_hand() -> None:
    """Eleven bands (0–4 … 45–49, 50歳以上): one step computed by hand."""
    from kenmap.people.projection import project_bands

    p0 = np.array([[10.0] * 11])
    p1 = np.array([[12, 10, 9, 8, 10, 10, 10, 10, 10, 10, 20]], dtype=float)
    result = project_bands(p0, p1, 2)
    step = result.steps[0][0]
    # Cohorts move up one band, times their ratio (p1[i] / p0[i-1]): 1.0, 0.9, 0.8, 1, 1 …
    assert step[1:10].tolist() == pytest.approx([12, 9, 7.2, 8, 10, 10, 10, 10, 10])
    # The open band takes the two oldest bands at ratio 20 / (10 + 10) = 1.
    assert step[10] == pytest.approx(30)
    # 0–4 from the child–woman ratio 12 / (8 + 10 × 6) applied to 15–49 of the new step.
    assert step[0] == pytest.approx((7.2 + 8 + 50) * 12 / 68)
    second = result.steps[1][0]
    assert second[2] == pytest.approx(step[1] * 0.9)
    assert result.fallback == 0 and result.capped == 0


def test_thin_and_extreme_ratios_fall_back_and_are_capped() -> None:
    from kenmap.people.projection import RATIO_CAP, project_bands

    p0 = np.array([[10.0] * 11, [1.0] * 11, [10.0] * 11])
    p1 = np.array([[10.0] * 11, [3.0] * 11, [10.0] * 10 + [0.0]])
    p1[2, 5] = 40.0  # 40 / 10: capped
    result = project_bands(p0, p1, 1)
    step = result.steps[0]
    assert (step >= 0).all()
    # The thin area (bases of 1 person) uses the city's ratios, not 3 / 1.
    city = p1.sum(axis=0)[3] / p0.sum(axis=0)[2]
    assert step[1, 3] == pytest.approx(3.0 * city)
    assert step[2, 5] == pytest.approx(10.0 * RATIO_CAP)
    # Area 3's 40 / 10 is capped (and so is the city's ratio the thin area borrows).
    assert result.fallback >= 10 and result.capped >= 1


def _older_bands(tmp_path: Path) -> Path:
    """The demo's table five years earlier: every count 0.9× (rounded; suppressed cells kept)."""
    table = pd.read_csv(DEMO_POPULATION, encoding="cp932", dtype=str)
    for col in table.columns[2:]:
        numbers = pd.to_numeric(table[col], errors="coerce")
        table[col] = np.where(numbers.notna(), (numbers * 0.9).round().astype("Int64").astype(str),
                              table[col])
    path = tmp_path / "pop2020.csv"
    table.to_csv(path, index=False, encoding="cp932")
    return path


@pytest.fixture
def two_dates(run, demo_copy_ws: Path, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    result = run("import", "population", demo_copy_ws, _older_bands(tmp_path), "--layer",
                 "tonarikinjo", "--code-field", "隣近所コード", "--as-of", "2020-10-01")
    assert result.code == 0, result.err
    return demo_copy_ws


def _total(run, ws: Path, year: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    data = json.loads(run("stats", ws, "--layer", "shi", "--as-of", year, "--format", "json").out)
    return dict(data["total"])


def test_projection_is_stored_by_year_and_used_as_of(run, two_dates: Path) -> None:  # type: ignore[no-untyped-def]
    now = _total(run, two_dates, "2025")
    result = run("project", two_dates, "--to", "2040", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [y["as_of"] for y in report["years"]] == ["2030-10-01", "2035-10-01", "2040-10-01"]
    assert "0～4歳は15～49歳の男女計に対する比" in report["notes"][0]
    later = _total(run, two_dates, "2040")
    assert later["population"] != now["population"]
    assert later["population"] == pytest.approx(report["years"][-1]["total"], abs=0.5)
    # The current population is still the 2025 one: projections never become current.
    assert json.loads(run("stats", two_dates, "--layer", "shi", "--format", "json").out
                      )["total"]["population"] == now["population"]
    gaps = run("gaps", two_dates, "--layer", "gyoseiku", "--hub-type", "salon", "--radius",
               "500", "--as-of", "2040", "--format", "json")
    assert gaps.code == 0, gaps.err
    import kenmap

    ws = kenmap.open_workspace(two_dates)
    table = ws.read_table("population_tonarikinjo_d20401001")
    bands = [c for c in table.columns if c.startswith("age_")]
    assert (table[bands].to_numpy() >= 0).all()
    assert table["total"].to_numpy() == pytest.approx(table[bands].sum(axis=1).to_numpy())


def test_scaled_to_official_totals_exactly(run, two_dates: Path, tmp_path: Path  # type: ignore[no-untyped-def]
                                           ) -> None:
    official = tmp_path / "jinko_vision.csv"
    official.write_text("年,総人口,65歳以上,市区町村コード\n2030,76000,30500,28999\n"
                        "2035,72000,30100,28999\n", encoding="utf-8")
    result = run("project", two_dates, "--to", "2035", "--official", official)
    assert result.code == 0, result.err
    import kenmap

    ws = kenmap.open_workspace(two_dates)
    for year, (total, p65) in {"2030": (76000, 30500), "2035": (72000, 30100)}.items():
        got = _total(run, two_dates, year)
        assert (got["population"], got["pop65"]) == (total, p65)
        stored = ws.read_table(f"population_tonarikinjo_d{year}1001")
        assert stored["total"].sum() == pytest.approx(total, abs=1e-6)
        assert stored["pop65"].sum() == pytest.approx(p65, abs=1e-6)


@pytest.mark.parametrize(("args", "content", "needle"), [
    (["--to", "2025"], None, "基準の年 2025 より後ではありません"),
    (["--to", "2042"], None, "5年刻み"),
    (["--to", "2035", "--official"], "年,総人口,65歳以上,市区町村コード\n2030,1,1,13101\n",
     "13101 はこの市"),
    (["--to", "2035", "--official"], "年,総人口,65歳以上\n2030,100,200\n",
     "65歳以上は総人口以下"),
])
def test_bad_projection_requests_change_nothing(run, two_dates: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                args: list[str], content: str | None,
                                                needle: str) -> None:
    if content is not None:
        path = tmp_path / "official.csv"
        path.write_text(content, encoding="utf-8")
        args = [*args, str(path)]
    state = digest(two_dates)
    result: CliResult = run("project", two_dates, *args)
    assert result.code == 2 and needle in result.err, result.err
    assert digest(two_dates) == state


def test_one_date_is_not_enough(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kenmap.demo import DEMO_CITY

    ws = tmp_path / "one.gpkg"
    assert run("init", ws).code == 0
    assert run("import", "areas", ws, DEMO_CITY, "--layer", "tonarikinjo", "--code-field",
               "tonarikinjo_code", "--name-field", "tonarikinjo_name").code == 0
    assert run("import", "population", ws, DEMO_POPULATION, "--layer", "tonarikinjo",
               "--code-field", "隣近所コード", "--as-of", "2025-10-01").code == 0
    result = run("project", ws, "--to", "2040")
    assert result.code == 2 and "1時点しかありません" in result.err
