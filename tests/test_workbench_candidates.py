"""The workbench's last pieces: a planner sites hubs on the grid of an area drawn on the map
and on an uploaded list of places; an admin changes a hub type in the catalogue and the map
follows; a viewer sees none of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from conftest import copy_of
from workbench_helpers import LAPTOP, Bench, Server, serving


@pytest.fixture(scope="module")
def server(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("workbench-candidates")
    with serving(copy_of(demo_master, tmp), tmp, token=True) as running:
        yield running


def _bench(chromium: Any, server: Server, sign_in: bool) -> Iterator[Bench]:
    context = chromium.new_context(viewport=LAPTOP, locale="ja-JP")
    bench = Bench(context, server)
    bench.open()
    if sign_in:
        bench.sign_in_with_token()
    yield bench
    context.close()


@pytest.fixture
def bench(chromium: Any, server: Server) -> Iterator[Bench]:
    yield from _bench(chromium, server, True)


@pytest.fixture
def viewer(chromium: Any, server: Server) -> Iterator[Bench]:
    yield from _bench(chromium, server, False)


def _places(server: Server, hub_type: str) -> list[dict[str, Any]]:
    features = server.api("GET", f"/api/hubs?type={hub_type}").json()["features"]
    return [{"name": f["properties"]["name"], "lon": f["geometry"]["coordinates"][0],
             "lat": f["geometry"]["coordinates"][1]} for f in features]


def test_planner_draws_an_area_and_sites_on_its_grid(bench: Bench, server: Server) -> None:
    p = bench.page
    p.click(".km-tab[data-screen=siting]")
    form = p.locator(".km-siting-form")
    form.wait_for()
    # Without an area drawn: the message is by the field, nothing is asked of the server.
    form.locator("input[name=candidates][value=area]").check()
    form.locator("button[type=submit]").click()
    assert "範囲を描いて" in form.locator("[data-error-for=candidate_area]").inner_text()

    centre = _places(server, "shukaijo")[5]
    d = 0.012
    corners = [(centre["lat"] - d, centre["lon"] - d), (centre["lat"] - d, centre["lon"] + d),
               (centre["lat"] + d, centre["lon"] + d), (centre["lat"] + d, centre["lon"] - d)]
    # Centred at zoom 14: the square clears the map's legend (bottom right).
    bench.show_places((centre["lat"], centre["lon"]), zoom=14)
    p.click("#km-draw-area")
    for corner in [*corners, corners[0]]:
        p.mouse.click(*bench.screen_point(*corner))
        p.wait_for_timeout(150)
    p.wait_for_function("() => window.kenmap.siting.area !== null")
    assert len(p.evaluate("window.kenmap.siting.areaGeometry().coordinates[0]")) == 5
    assert "範囲を描きました" in form.locator(".km-area-state").inner_text()
    form.locator("[name=candidate_grid]").fill("200")
    form.locator("[name=k]").fill("3")
    form.locator("button[type=submit]").click()
    p.wait_for_selector(".km-site", timeout=120_000)
    sites = p.locator(".km-site")
    assert [sites.nth(i).locator(".km-site-number").inner_text()
            for i in range(sites.count())] == [str(i + 1) for i in range(sites.count())]
    assert sites.count() >= 1
    question = p.evaluate("window.kenmap.siting.question")
    assert question["candidate_area"]["type"] == "Polygon"
    drawn = shapely.Polygon([(lon, lat) for lat, lon in corners]).buffer(1e-4)
    for site in p.evaluate("window.kenmap.siting.result.sites"):
        assert drawn.contains(shapely.Point(site["lon"], site["lat"]))
        assert site["name"].endswith("格子点")
    assert "格子点" in sites.first.inner_text() and "65歳以上 +" in sites.first.inner_text()
    bench.shot("siting_drawn_area")
    assert bench.errors == [] and bench.dialogs == [] and bench.remote() == []


def test_planner_uploads_a_list_of_places(bench: Bench, server: Server, tmp_path: Path) -> None:
    p = bench.page
    p.click(".km-tab[data-screen=siting]")
    form = p.locator(".km-siting-form")
    form.wait_for()
    bad = tmp_path / "候補地_誤り.csv"
    bad.write_text("名称,経度,緯度\n公民館前,134.82,35.54\n駅前,東経134度,35.5\n",
                   encoding="utf-8")
    form.locator("input[name=file]").set_input_files(str(bad))
    message = form.locator("[data-error-for=file]")
    p.wait_for_function("e => e.textContent.length > 0", arg=message.element_handle())
    text = message.inner_text()
    assert "座標ではありません" in text and "3 行目" in text and "経度" in text, text
    bench.shot("siting_list_error")

    places = _places(server, "shukaijo")[:15]
    good = tmp_path / "候補地.csv"
    good.write_text("名称,経度,緯度\n" + "".join(
        f"{p_['name']}（候補）,{p_['lon']},{p_['lat']}\n" for p_ in places), encoding="utf-8-sig")
    form.locator("input[name=file]").set_input_files(str(good))
    p.wait_for_function(
        "() => document.querySelector('.km-list-state').textContent.includes('15 か所')")
    assert form.locator("input[name=candidates][value=list]").is_checked()
    form.locator("[name=k]").fill("3")
    form.locator("button[type=submit]").click()
    p.wait_for_selector(".km-site", timeout=120_000)
    sites = p.evaluate("window.kenmap.siting.result.sites")
    assert 1 <= len(sites) <= 3
    assert all(s["name"].endswith("（候補）") for s in sites)
    assert p.locator(".km-site-marker").count() == len(sites)
    assert p.evaluate("window.kenmap.siting.result.candidates") == 15
    bench.shot("siting_uploaded_list")
    assert bench.errors == [] and bench.dialogs == [] and bench.remote() == []


def test_admin_changes_a_type_and_the_map_follows(bench: Bench, server: Server) -> None:
    p = bench.page
    assert p.input_value("#km-controls [name=hub_type]") == "salon"
    assert p.input_value("#km-controls [name=radius]") == "500"
    p.click(".km-tab[data-screen=catalogue]")
    card = p.locator(".km-type[data-key=salon]")
    card.wait_for()
    bench.shot("catalogue")
    card.locator("[name=radius_m]").fill("-3")
    card.locator("button[type=submit]").click()
    assert "半径" in card.locator("[data-error-for=radius_m]").inner_text()
    card.locator("[name=label]").fill("")
    card.locator("[name=radius_m]").fill("800")
    card.locator("button[type=submit]").click()  # the server refuses: named by the field
    p.wait_for_function(
        "() => document.querySelector('.km-type[data-key=salon] [data-error-for=label]')"
        ".textContent.length > 0")
    assert server.api("GET", "/api/catalogue").json()["types"][0]["radius_m"] == 500
    card.locator("[name=label]").fill("いきいきサロン")
    card.locator("[name=colour]").evaluate("(e) => { e.value = '#1f3fbf'; }")
    card.locator("button[type=submit]").click()
    p.wait_for_selector(".km-type[data-key=salon] >> text=いきいきサロン")
    salon = server.api("GET", "/api/catalogue").json()["types"][0]
    assert (salon["label"], salon["radius_m"], salon["colour"]) == ("いきいきサロン", 800,
                                                                    "#1f3fbf")
    # A type hubs use cannot be deleted: no button; the log says who changed it.
    assert card.locator("text=削除").count() == 0
    bench.shot("catalogue_saved")

    p.click(".km-tab[data-screen=map]")
    p.wait_for_function(
        "() => document.querySelector('#km-controls [name=radius]').value === '800'",
        timeout=60_000)
    label = p.eval_on_selector("#km-controls [name=hub_type]",
                               "s => s.options[s.selectedIndex].textContent")
    assert label.startswith("いきいきサロン")
    # The markers are drawn again in the new colour (once the map has reloaded).
    p.wait_for_function(
        "() => [...document.querySelectorAll('#km-map .leaflet-marker-icon .km-hub-existing')]"
        ".every(e => e.style.getPropertyValue('--hub-colour') === '#1f3fbf')"
        " && document.querySelectorAll('#km-map .leaflet-marker-icon').length > 50",
        timeout=60_000)
    bench.shot("map_after_catalogue")
    assert bench.errors == [] and bench.dialogs == [] and bench.remote() == []


def test_a_viewer_sees_no_admin_or_siting_controls(viewer: Bench, server: Server) -> None:
    p = viewer.page
    for screen in ("users", "catalogue", "siting", "wizard"):
        assert p.locator(f".km-tab[data-screen={screen}]").is_hidden()
    assert p.locator("#km-catalogue").count() == 0
    assert p.locator("#km-draw-area").count() == 0
    r = server.api("PUT", "/api/catalogue/salon", headers={"Authorization": ""},
                   json={"label": "x"})
    assert r.status_code == 401
    viewer.shot("viewer_no_admin")
    assert viewer.errors == [] and viewer.dialogs == []
