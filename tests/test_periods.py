"""Population at several dates: snapshots kept by base date, figures as of a date, and the
change between two dates (``stats --as-of``, ``--compare``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import CliResult, digest

from kenmap.demo import DEMO_POPULATION


def _older(tmp_path: Path, drop: int = 0) -> tuple[Path, pd.DataFrame]:
    """The demo's population table five years earlier: every total and household count 0.9×
    (rounded), the first ``drop`` rows left out; written as cp932 like the original."""
    table = pd.read_csv(DEMO_POPULATION, encoding="cp932", dtype=str)
    for col in ("総数", "世帯数"):
        table[col] = (table[col].astype(int) * 0.9).round().astype(int).astype(str)
    table = table.iloc[drop:]
    path = tmp_path / "pop2020.csv"
    table.to_csv(path, index=False, encoding="cp932")
    return path, table


def _import(run, ws: Path, path: Path, as_of: str) -> CliResult:  # type: ignore[no-untyped-def]
    return run("import", "population", ws, path, "--layer", "tonarikinjo", "--code-field",
               "隣近所コード", "--as-of", as_of, "--source", "デモ市 住基（架空）")


def test_an_older_snapshot_is_kept_beside_the_current(run, demo_copy_ws: Path,  # type: ignore[no-untyped-def]
                                                      tmp_path: Path) -> None:
    before = json.loads(run("stats", demo_copy_ws, "--layer", "kyushicho", "--format", "json"
                            ).out)
    path, table = _older(tmp_path)
    result = _import(run, demo_copy_ws, path, "2020-10-01")
    assert result.code == 0, result.err
    assert "その時点の人口として残しました" in result.out
    now = json.loads(run("stats", demo_copy_ws, "--layer", "kyushicho", "--format", "json").out)
    assert now["total"] == before["total"]  # the current population did not change
    then = json.loads(run("stats", demo_copy_ws, "--layer", "kyushicho", "--as-of", "2020",
                          "--format", "json").out)
    assert then["as_of"] == "2020-12-31" and then["hubs_as_of"] == "current"
    assert then["total"]["population"] == table["総数"].astype(int).sum()
    assert then["total"]["households"] == table["世帯数"].astype(int).sum()
    assert then["total"]["population"] != now["total"]["population"]
    # As of a date before the older snapshot there is none; the dates there are are named.
    early = run("stats", demo_copy_ws, "--layer", "kyushicho", "--as-of", "2019")
    assert early.code == 2 and "2020-10-01" in early.err and "2025-10-01" in early.err
    assert run("stats", demo_copy_ws, "--as-of", "2020-13").code == 2


def test_compare_gives_each_change_and_never_a_change_from_zero(
        run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, table = _older(tmp_path, drop=3)
    assert _import(run, demo_copy_ws, path, "2020-10-01").code == 0
    state = digest(demo_copy_ws)
    result = run("stats", demo_copy_ws, "--layer", "tonarikinjo", "--compare", "2020",
                 "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    rows = {r["code"]: r for r in data["areas"]}
    old = dict(zip(table["隣近所コード"], table["総数"].astype(int)))
    compared = 0
    for code, row in rows.items():
        if code in old:
            assert row["population_then"] == old[code]
            assert row["population_change"] == row["population"] - old[code]
            compared += 1
        else:  # no row then: unknown, not a change from zero
            assert row["population_then"] is None and row["population_change"] is None
    assert compared == len(rows) - 3
    total = data["total"]
    assert total["population_change"] == total["population"] - total["population_then"]
    # The table form says what is compared with what, with signed changes.
    text = run("stats", demo_copy_ws, "--layer", "kyushicho", "--compare", "2020").out
    assert "2020 と 最新 の比較" in text and "pt" in text and "+" in text
    assert digest(demo_copy_ws) == state  # reading another date writes nothing


def test_gaps_and_coverage_as_of_a_date(run, demo_copy_ws: Path,  # type: ignore[no-untyped-def]
                                        tmp_path: Path) -> None:
    path, _ = _older(tmp_path)
    assert _import(run, demo_copy_ws, path, "2020-10-01").code == 0
    args = ["gaps", demo_copy_ws, "--layer", "gyoseiku", "--hub-type", "salon", "--radius",
            "500", "--format", "json"]
    now = json.loads(run(*args).out)
    then = run(*args, "--as-of", "2020-10")
    assert then.code == 0, then.err
    assert len(json.loads(then.out)["areas"]) == len(now["areas"]) == 359
    assert run("coverage", demo_copy_ws, "--as-of", "2020").code == 0


def test_a_view_at_another_date_is_read_only(demo_copy_ws: Path, tmp_path: Path) -> None:
    import kenmap
    from kenmap.people.population import import_population
    from kenmap.people.snapshots import as_of

    ws = kenmap.open_workspace(demo_copy_ws)
    path, _ = _older(tmp_path)
    import_population(ws, path, layer="tonarikinjo", code_field="隣近所コード",
                      as_of="2020-10-01")
    view = as_of(kenmap.open_workspace(demo_copy_ws), "2020")
    with pytest.raises(RuntimeError, match="read-only"):
        with view.transaction():
            pass


def _hubs_file(tmp_path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """サロン in the centre of 中央町 with 開設日 and 廃止日 written as offices write them."""
    lines = ["種類,名称,経度,緯度,開設日,廃止日"]
    for i, (name, opened, closed, lon) in enumerate(rows):
        lines.append(f"salon,{name},{lon},{35.545 + i * 0.0005},{opened},{closed}")
    path = tmp_path / "salons.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_hub_dates_decide_which_hubs_count(run, demo_copy_ws: Path,  # type: ignore[no-untyped-def]
                                           tmp_path: Path) -> None:
    older, _ = _older(tmp_path)
    assert _import(run, demo_copy_ws, older, "2020-10-01").code == 0

    def salons(*extra: str) -> int:
        data = json.loads(run("stats", demo_copy_ws, "--layer", "shi", "--format", "json",
                              *extra).out)
        return int(data["total"]["hubs"].get("salon", 0))

    now_before, then_before = salons(), salons("--as-of", "2020")
    path = _hubs_file(tmp_path, [("新設サロン", "令和4年4月1日", "", "134.82"),
                                 ("閉じたサロン", "2015/4/1", "R3.3.31", "134.821"),
                                 ("続くサロン", "H27.4.1", "", "134.822")])
    result = run("import", "hubs", demo_copy_ws, path, "--type-field", "種類", "--name-field",
                 "名称", "--lon-field", "経度", "--lat-field", "緯度", "--no-replace")
    assert result.code == 0, result.err
    import kenmap

    stored = kenmap.open_workspace(demo_copy_ws).read_points("hubs")
    mine = stored[stored["name"].isin(["新設サロン", "閉じたサロン", "続くサロン"])]
    assert dict(zip(mine["name"], mine["opened"])) == {
        "新設サロン": "2022-04-01", "閉じたサロン": "2015-04-01", "続くサロン": "2015-04-01"}
    assert dict(zip(mine["name"], mine["closed"]))["閉じたサロン"] == "2021-03-31"
    # Today: the new one and the lasting one count, the closed one does not.
    assert salons() == now_before + 2
    # In 2020: the closed one was still open, the new one not yet.
    assert salons("--as-of", "2020") == then_before + 2
    compare = json.loads(run("stats", demo_copy_ws, "--layer", "shi", "--compare", "2020",
                             "--format", "json").out)
    assert compare["areas"][0]["hubs_change"].get("salon", 0) == \
        (now_before + 2) - (then_before + 2)


@pytest.mark.parametrize(("opened", "closed", "needle"), [
    ("2022-02-30", "", "「2022-02-30」は日付ではありません"),
    ("令和4年4月1日", "2021-03-31", "廃止日が開設日より前です"),
])
def test_bad_hub_dates_are_refused(run, demo_copy_ws: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                   opened: str, closed: str, needle: str) -> None:
    path = _hubs_file(tmp_path, [("良いサロン", "2020-04-01", "", "134.82"),
                                 ("悪いサロン", opened, closed, "134.821")])
    state = digest(demo_copy_ws)
    result = run("import", "hubs", demo_copy_ws, path, "--type-field", "種類", "--name-field",
                 "名称", "--lon-field", "経度", "--lat-field", "緯度", "--no-replace")
    assert result.code == 2 and needle in result.err
    assert "salons.csv" in result.err and "3行目" in result.err
    assert digest(demo_copy_ws) == state


def test_a_hubs_history_with_dates(demo_copy_ws: Path) -> None:
    from fastapi.testclient import TestClient

    from kenmap.api.app import create_app

    auth = {"Authorization": "Bearer periods-token-0123456789"}
    with TestClient(create_app(demo_copy_ws, token="periods-token-0123456789")) as c:
        hub = c.get("/api/hubs?type=salon").json()["features"][0]["properties"]
        first = c.patch(f"/api/hubs/{hub['id']}", headers=auth,
                        json={"version": hub["version"], "closed": "令和8年3月31日"})
        assert first.status_code == 200, first.text
        assert first.json()["closed"] == "2026-03-31"
        bad = c.patch(f"/api/hubs/{hub['id']}", headers=auth,
                      json={"version": hub["version"] + 1, "opened": "いつか"})
        assert bad.status_code == 400 and bad.json()["field"] == "opened"
        second = c.patch(f"/api/hubs/{hub['id']}", headers=auth,
                         json={"version": hub["version"] + 1, "name": "改名サロン"})
        assert second.status_code == 200
        history = c.get(f"/api/hubs/{hub['id']}/history").json()
        assert [h["action"] for h in history] == ["update hub", "update hub"]
        assert history[0]["changes"] == {"closed": [hub["closed"], "2026-03-31"]}
        assert history[1]["changes"] == {"name": [hub["name"], "改名サロン"]}
        assert history[1]["version"] == hub["version"] + 2
        assert c.get("/api/hubs/999999/history").status_code == 404


def test_gaps_and_map_compare_with_the_earlier_date(run, demo_copy_ws: Path,  # type: ignore[no-untyped-def]
                                                    tmp_path: Path) -> None:
    now = json.loads(run("gaps", demo_copy_ws, "--layer", "gyoseiku", "--hub-type", "salon",
                         "--format", "json").out)
    then = json.loads(run("gaps", demo_copy_ws, "--layer", "gyoseiku", "--hub-type", "salon",
                          "--as-of", "2020", "--format", "json").out)
    compared = json.loads(run("gaps", demo_copy_ws, "--layer", "gyoseiku", "--hub-type",
                              "salon", "--compare", "2020", "--format", "json").out)
    was = {a["code"]: a["lacking"] for a in then["areas"]}
    assert compared["lacking"] == {"then": sum(was.values()),
                                   "now": sum(a["lacking"] for a in now["areas"])}
    # The demo's サロン opened since 2020 close gaps: fewer 行政区 lack one now.
    assert compared["lacking"]["now"] < compared["lacking"]["then"]
    for area in compared["areas"]:
        assert area["lacking_then"] == was[area["code"]]
        if area["lacking_then"] and not area["lacking"]:
            assert area["change"] == "解消"
    page = tmp_path / "change.html"
    result = run("map", demo_copy_ws, "--layer", "gyoseiku", "--compare", "2020", "--out", page)
    assert result.code == 0, result.err
    text = page.read_text(encoding="utf-8")
    assert "高齢化率の変化（2020→）" in text and "2020 より後に開設した拠点: サロン" in text


def test_coverage_compare_counts_hubs_open_at_each_date(run, demo_copy_ws: Path) -> None:  # type: ignore[no-untyped-def]
    import kenmap

    data = json.loads(run("coverage", demo_copy_ws, "--compare", "2020", "--format", "json").out)
    salon = data["types"]["salon"]
    hubs = kenmap.open_workspace(demo_copy_ws).read_points("hubs")
    existing = hubs[(hubs["type"] == "salon") & (hubs["status"] == "existing")]
    assert salon["hubs"] == len(existing)
    assert salon["hubs_then"] == int((existing["opened"] <= "2020-12-31").sum())
    assert salon["layers"]["gyoseiku"]["lacking_then"] > salon["layers"]["gyoseiku"]["lacking"]
