"""What-if siting: pinned sites kept (anywhere in the city, counted in k), excluded candidates
never chosen, by the exact and the greedy solver; sites numbered with what each adds and the
areas each fills, checked against gaps before and after applying them as planned hubs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import copy_of
from fastapi.testclient import TestClient

from kenmap.access.covering import covered_value, exact, greedy

TOKEN = "kenmap-whatif-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUESTION = {"hub_type": "ibasho", "k": 3, "radius": 500, "layer": "gyoseiku"}
GAPS = {"layer": "gyoseiku", "hub_type": "ibasho", "radius": 500, "with_planned": True}


@pytest.fixture(scope="module")
def served(demo_master: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[TestClient]:
    from kenmap.api.app import create_app

    ws = copy_of(demo_master, tmp_path_factory.mktemp("whatif"))
    with TestClient(create_app(ws, token=TOKEN)) as c:
        yield c


def _site(c: TestClient, **asked: Any) -> dict[str, Any]:
    r = c.post("/api/siting", json={**QUESTION, **asked}, headers=AUTH)
    assert r.status_code == 200, r.text
    result = dict(r.json())
    sites = result["sites"]
    assert [s["number"] for s in sites] == list(range(1, len(sites) + 1))
    # What each adds to those before it sums to the increase of 65+ within reach.
    added = sum(s["pop65_added"] for s in sites)
    assert result["pop65_reached_after"] - result["pop65_reached_before"] == \
        pytest.approx(added, abs=0.01)
    assert all(s["fills"] == s["areas_filled"] for s in sites)
    return result


def _place(site: dict[str, Any]) -> tuple[float, float]:
    return round(site["lon"], 6), round(site["lat"], 6)


def _lacking(c: TestClient) -> dict[str, float]:
    r = c.get("/api/gaps", params=GAPS, headers={"Cache-Control": "no-cache"})
    assert r.status_code == 200, r.text
    return {a["code"]: a["pop65_reached"] or 0 for a in r.json()["areas"] if a["lacking"]}


def _an_open_place(c: TestClient, taken: list[tuple[float, float]]) -> tuple[float, float]:
    """A point inside an area lacking a 居場所, away from the sites already chosen: a pin the
    free answer would not pick (it is no candidate)."""
    import shapely.geometry

    lacking = _lacking(c)
    areas = c.get("/api/layers/gyoseiku/areas").json()["features"]
    for feature in areas:
        if feature["id"] in lacking:
            point = shapely.geometry.shape(feature["geometry"]).representative_point()
            if all(abs(point.x - x) + abs(point.y - y) > 0.02 for x, y in taken):
                return float(point.x), float(point.y)
    raise AssertionError("no lacking area away from the chosen sites")


@pytest.mark.parametrize("seed", range(6))
def test_both_solvers_keep_a_pinned_column(seed: int) -> None:
    """On small random instances: with a column required, exact reaches the best value of
    the answers holding it (by enumeration) and greedy's answer holds it."""
    rng = np.random.default_rng(seed)
    cover = sp.csr_matrix((rng.random((40, 9)) < 0.25).astype(np.int8))
    weights = rng.integers(1, 50, 40).astype(float)
    k = 3
    free = exact(weights, cover, k).chosen
    pin = next(j for j in range(9) if j not in free)  # one the free optimum leaves out
    best = max(covered_value(weights, cover, list(c))
               for c in itertools.combinations(range(9), k) if pin in c)
    solved = exact(weights, cover, k, required_groups=[[pin]])
    assert pin in solved.chosen and len(solved.chosen) <= k
    assert solved.value == pytest.approx(best)
    lazy = greedy(weights, cover, k, required_groups=[[pin]])
    assert pin in lazy.chosen and len(lazy.chosen) <= k
    assert lazy.value <= best + 1e-9 and lazy.upper_bound >= best - 1e-9


@pytest.mark.parametrize("solver", ["exact", "greedy"])
def test_a_pin_anywhere_is_kept_and_counted_in_k(served: TestClient, solver: str) -> None:
    c = served
    free = _site(c, solver=solver)
    assert free["solver"] == solver and not any(s["pinned"] for s in free["sites"])
    lon, lat = _an_open_place(c, [_place(s) for s in free["sites"]])
    what_if = _site(c, solver=solver, pinned=[{"lon": lon, "lat": lat, "name": "駅前の空き店舗"}])
    sites = what_if["sites"]
    assert len(sites) == 3 and [s["pinned"] for s in sites] == [True, False, False]
    assert sites[0]["candidate_id"] == "pin-1" and sites[0]["name"] == "駅前の空き店舗"
    assert sites[0]["lon"] == pytest.approx(lon, abs=1e-6)
    assert sites[0]["lat"] == pytest.approx(lat, abs=1e-6)
    assert what_if["candidates"] == free["candidates"] + 1
    if solver == "exact":  # a required site cannot beat the free optimum
        assert what_if["optimal"] is True
        assert what_if["pop65_reached_after"] <= free["pop65_reached_after"] + 1e-6
    # A pin on a candidate is that candidate (its id and name), kept even when it adds least.
    last = free["sites"][-1]
    kept = _site(c, solver=solver, pinned=[{"lon": last["lon"], "lat": last["lat"]}])
    assert kept["sites"][0]["candidate_id"] == last["candidate_id"]
    assert kept["sites"][0]["name"] == last["name"] and kept["sites"][0]["pinned"] is True
    assert kept["candidates"] == free["candidates"]


@pytest.mark.parametrize("solver", ["exact", "greedy"])
def test_excluded_candidates_are_never_chosen(served: TestClient, solver: str) -> None:
    c = served
    free = _site(c, solver=solver)
    dropped = {_place(s) for s in free["sites"]}
    what_if = _site(c, solver=solver,
                    excluded=[{"lon": s["lon"], "lat": s["lat"]} for s in free["sites"]])
    assert len(what_if["sites"]) == 3
    assert not dropped & {_place(s) for s in what_if["sites"]}
    assert not {s["candidate_id"] for s in free["sites"]} & \
        {s["candidate_id"] for s in what_if["sites"]}
    assert what_if["candidates"] == free["candidates"] - 3
    assert what_if["pop65_reached_after"] <= free["pop65_reached_after"] + 1e-6
    # An excluded point that is no candidate changes nothing and is said.
    lon, lat = _an_open_place(c, list(dropped))
    noted = _site(c, solver=solver, excluded=[{"lon": lon, "lat": lat}])
    assert [s["candidate_id"] for s in noted["sites"]] == \
        [s["candidate_id"] for s in free["sites"]]
    assert any("候補地にありません" in n for n in noted["notes"])


def test_marginal_gains_are_what_each_site_adds(served: TestClient) -> None:
    """Pinning the first n sites of an answer (k = n) reaches exactly the sum of their
    ``pop65_added``: each figure is what the site adds to those before it."""
    c = served
    free = _site(c)
    for n in (1, 2):
        first = free["sites"][:n]
        alone = _site(c, k=n, pinned=[{"lon": s["lon"], "lat": s["lat"]} for s in first])
        assert alone["pop65_reached_after"] - alone["pop65_reached_before"] == pytest.approx(
            sum(s["pop65_added"] for s in first), abs=0.01)
        assert all(s["pinned"] for s in alone["sites"])


def test_apply_writes_planned_hubs_and_fills_match_gaps(demo_master: Path,
                                                        tmp_path: Path) -> None:
    from kenmap.api.app import create_app

    ws = copy_of(demo_master, tmp_path)
    with TestClient(create_app(ws, token=TOKEN)) as c:
        before = _lacking(c)
        free = _site(c)
        lon, lat = _an_open_place(c, [_place(s) for s in free["sites"]])
        asked = {"pinned": [{"lon": lon, "lat": lat}],
                 "excluded": [{"lon": free["sites"][0]["lon"], "lat": free["sites"][0]["lat"]}]}
        planned = _site(c, **asked)  # the same question without writing
        assert _lacking(c) == before
        applied = _site(c, **asked, apply=True)
        assert [s["candidate_id"] for s in applied["sites"]] == \
            [s["candidate_id"] for s in planned["sites"]]
        ids = applied["applied_hub_ids"]
        assert len(ids) == 3 and [s["hub_id"] for s in applied["sites"]] == ids
        hubs = c.get("/api/hubs", params={"type": "ibasho", "status": "planned"},
                     headers={"Cache-Control": "no-cache"}).json()["features"]
        by_id = {h["properties"]["id"]: h for h in hubs}
        assert set(ids) <= set(by_id)
        pinned_hub = by_id[applied["sites"][0]["hub_id"]]["geometry"]["coordinates"]
        assert pinned_hub == pytest.approx([lon, lat], abs=1e-6)
        after = _lacking(c)
        fills = [set(s["fills"]) for s in applied["sites"]]
        assert sum(len(f) for f in fills) == len(set().union(*fills))  # each area once
        assert set().union(*fills) and set().union(*fills) == set(before) - set(after)
        assert set(after) <= set(before)
        gaps = c.get("/api/gaps", params=GAPS, headers={"Cache-Control": "no-cache"}).json()
        reached = sum(a["pop65_reached"] or 0 for a in gaps["areas"])
        assert reached == pytest.approx(applied["pop65_reached_after"], abs=0.05)


@pytest.mark.parametrize(("asked", "status", "field"), [
    ({"k": 1, "pinned": [{"lon": 134.81, "lat": 35.54}, {"lon": 134.82, "lat": 35.55}]},
     400, "pinned"),
    ({"pinned": [{"lon": 134.5, "lat": 35.5}]}, 400, "pinned.0"),  # outside the city
    ({"pinned": [{"lon": 134.81, "lat": 35.54}, {"lon": 134.81, "lat": 35.54}]}, 400,
     "pinned.1"),
    ({"pinned": [{"lon": 134.81, "lat": 35.54}], "excluded": [{"lon": 134.81, "lat": 35.54}]},
     400, "excluded.0"),
    ({"pinned": [{"lon": 500, "lat": 35.54}]}, 422, "pinned.0.lon"),
    ({"excluded": [{"lon": 134.81}]}, 422, "excluded.0.lat"),
    ({"pinned": [{"lon": 134.81, "lat": 35.54, "x": 1}]}, 422, "pinned.0.x"),
])
def test_bad_what_ifs_are_refused(served: TestClient, asked: dict[str, Any], status: int,
                                  field: str) -> None:
    r = served.post("/api/siting", json={**QUESTION, **asked}, headers=AUTH)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field
