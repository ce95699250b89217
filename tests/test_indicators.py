"""Indicators beyond age (一人暮らし高齢者, 要介護認定率 …) and figures derived from the bands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import digest


def _table(ws_path: Path, tmp_path: Path, values: dict[int, str] | None = None) -> Path:
    """A count for every 行政区 (its row number × 3 people), some cells replaced."""
    import kenmap

    areas = kenmap.open_workspace(ws_path).read_attributes("gyoseiku")
    counts = [str(3 * i) for i in range(len(areas))]
    for i, text in (values or {}).items():
        counts[i] = text
    path = tmp_path / "hitori.csv"
    pd.DataFrame({"行政区コード": areas["code"], "行政区": areas["name"],
                  "一人暮らし高齢者": counts}).to_csv(path, index=False, encoding="cp932")
    return path


def _import(run, ws: Path, path: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run("import", "indicator", ws, path, "--layer", "gyoseiku", "--key",
               "hitorigurashi", "--label", "一人暮らし高齢者", "--value-field",
               "一人暮らし高齢者", "--code-field", "行政区コード", "--per", "pop65", *extra)


def _stats(run, ws: Path, layer: str, fields: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = run("stats", ws, "--layer", layer, "--fields", fields, "--format", "json")
    assert result.code == 0, result.err
    return dict(json.loads(result.out))


def test_counts_sum_upward_and_rates_come_from_sums(run, demo_copy_ws: Path,  # type: ignore[no-untyped-def]
                                                    tmp_path: Path) -> None:
    import kenmap

    path = _table(demo_copy_ws, tmp_path, {5: "X"})
    result = _import(run, demo_copy_ws, path)
    assert result.code == 0, result.err
    assert "秘匿・空欄の1区域" in result.out
    ws = kenmap.open_workspace(demo_copy_ws)
    gyoseiku = ws.read_attributes("gyoseiku")
    own = _stats(run, demo_copy_ws, "gyoseiku", "hitorigurashi")
    pop65 = {a["code"]: a["pop65"] for a in own["areas"]}
    value = {c: (None if i == 5 else 3 * i) for i, c in enumerate(gyoseiku["code"])}
    data = _stats(run, demo_copy_ws, "chiku", "hitorigurashi")
    assert data["fields"]["hitorigurashi_rate"] == "一人暮らし高齢者率（÷65歳以上）"
    for area in data["areas"]:
        children = gyoseiku.loc[gyoseiku["parent_code"] == area["code"], "code"]
        known = [c for c in children if value[c] is not None]
        assert area["hitorigurashi"] == sum(value[c] for c in known)
        expected = 100 * sum(value[c] for c in known) / sum(pop65[c] for c in known)
        assert area["hitorigurashi_rate"] == pytest.approx(expected)
        assert area["hitorigurashi_unknown"] == len(children) - len(known)
    # On a finer layer than the table's the figure is not given, and the output says why.
    finer = _stats(run, demo_copy_ws, "tonarikinjo", "hitorigurashi")
    assert all(a["hitorigurashi"] is None for a in finer["areas"])
    assert "それより細かい隣近所では示せません" in finer["field_notes"][0]


def test_a_published_rate_stays_on_its_layer(run, demo_copy_ws: Path,  # type: ignore[no-untyped-def]
                                             tmp_path: Path) -> None:
    path = _table(demo_copy_ws, tmp_path)
    frame = pd.read_csv(path, encoding="cp932", dtype=str)
    frame["一人暮らし高齢者"] = [f"{(i % 40) + 10.5}" for i in range(len(frame))]
    frame.to_csv(path, index=False, encoding="cp932")
    result = run("import", "indicator", demo_copy_ws, path, "--layer", "gyoseiku", "--key",
                 "nintei", "--label", "要介護認定率", "--value-field", "一人暮らし高齢者",
                 "--code-field", "行政区コード", "--kind", "rate")
    assert result.code == 0, result.err
    own = _stats(run, demo_copy_ws, "gyoseiku", "nintei")
    assert [a["nintei"] for a in own["areas"]][:3] == [10.5, 11.5, 12.5]
    upper = _stats(run, demo_copy_ws, "chiku", "nintei")
    assert all(a["nintei"] is None for a in upper["areas"])
    assert "合計できないため、行政区でのみ示します" in upper["field_notes"][0]


def test_derived_figures_from_the_bands(run, demo_copy_ws: Path) -> None:  # type: ignore[no-untyped-def]
    import kenmap

    data = _stats(run, demo_copy_ws, "kyushicho",
                  "pop15_64,support_ratio,persons_per_household")
    pop = kenmap.open_workspace(demo_copy_ws).read_table("population_tonarikinjo")
    bands = [f"age_{a}_{a + 4}" for a in range(15, 65, 5)]
    total15_64 = pop[bands].sum(axis=1, min_count=len(bands)).sum()
    assert sum(a["pop15_64"] for a in data["areas"]) == pytest.approx(total15_64)
    for area in data["areas"]:
        assert area["support_ratio"] == pytest.approx(area["pop15_64"] / area["pop65"])
        assert area["persons_per_household"] == pytest.approx(
            area["population"] / area["households"], rel=1e-3)
    text = run("stats", demo_copy_ws, "--layer", "kyushicho", "--fields", "support_ratio").out
    assert "高齢者1人を支える15～64歳の人数" in text


@pytest.mark.parametrize(("cells", "extra", "needle"), [
    ({7: "-4"}, [], "負の値 -4 は使えません"),
    ({7: "たくさん"}, [], "「たくさん」は数ではありません"),
    ({}, ["--kind", "rate"], "100を超えています"),
])
def test_bad_indicator_tables_change_nothing(run, demo_copy_ws: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                             cells: dict[int, str], extra: list[str],
                                             needle: str) -> None:
    path = _table(demo_copy_ws, tmp_path, cells)
    state = digest(demo_copy_ws)
    args = [a for a in ("--per", "pop65") if not extra] if extra else []
    result = run("import", "indicator", demo_copy_ws, path, "--layer", "gyoseiku", "--key",
                 "hitorigurashi", "--label", "一人暮らし高齢者", "--value-field",
                 "一人暮らし高齢者", "--code-field", "行政区コード", *args, *extra)
    assert result.code == 2 and needle in result.err, result.err
    assert "hitori.csv" in result.err
    if cells:
        assert f"{min(cells) + 2}行目" in result.err and "一人暮らし高齢者" in result.err
    assert digest(demo_copy_ws) == state
    unknown = run("stats", demo_copy_ws, "--layer", "chiku", "--fields", "nothing")
    assert unknown.code == 2 and "指標「nothing」はありません" in unknown.err


def test_map_coloured_by_an_indicator(run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert _import(run, demo_copy_ws, _table(demo_copy_ws, tmp_path), "--source",
                   "民生委員調査（架空）").code == 0
    out = tmp_path / "chiku.html"
    result = run("map", demo_copy_ws, "--layer", "chiku", "--indicator", "hitorigurashi",
                 "--out", out)
    assert result.code == 0, result.err
    page = out.read_text(encoding="utf-8")
    assert "一人暮らし高齢者率（÷65歳以上）（%）" in page  # the legend's title
    assert "一人暮らし高齢者: 民生委員調査（架空）" in page  # its source
    assert "window.kmHasGaps = true" in page
    data = _stats(run, demo_copy_ws, "chiku", "hitorigurashi")
    first = data["areas"][0]
    # Each area's row carries the indicator as the tooltip shows it.
    assert f'"{first["hitorigurashi_rate"]:.1f}%"' in page
    plain = tmp_path / "plain.html"
    assert run("map", demo_copy_ws, "--layer", "chiku", "--out", plain).code == 0
    assert "高齢化率（65歳以上の割合）" in plain.read_text(encoding="utf-8")
    finer = run("map", demo_copy_ws, "--layer", "tonarikinjo", "--indicator", "hitorigurashi",
                "--out", tmp_path / "x.html")
    assert finer.code == 2 and "示せません" in finer.err
    assert not (tmp_path / "x.html").exists()
