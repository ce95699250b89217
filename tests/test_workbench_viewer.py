"""A committee member on a read-only server: the map, gaps and profiles, no editing controls,
and the API refuses every write. Everything comes from the server (no CDN, no other host),
and text from the workspace never runs as script."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import copy_of
from test_hostile_text import PAYLOADS, Hostile, hostile  # noqa: F401 - the fixture
from workbench_helpers import LAPTOP, Bench, Server, serving

OWN_FILES = Path(__file__).resolve().parents[1] / "kenmap" / "api" / "static" / "workbench"


@pytest.fixture(scope="module")
def server(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("workbench-viewer")
    with serving(copy_of(demo_master, tmp), tmp, token=False) as running:
        yield running


def test_viewer_sees_the_map_and_cannot_edit(chromium: Any, server: Server) -> None:
    context = chromium.new_context(viewport=LAPTOP, locale="ja-JP")
    bench = Bench(context, server)
    p = bench.open()
    try:
        # What a viewer can do: the map, the list, profiles, downloads. Nothing else.
        assert p.is_visible("#km-map") and p.is_visible("#km-gaps")
        assert p.is_hidden("#km-edit-tools")
        for screen in ("siting", "wizard", "users"):
            assert p.is_hidden(f".km-tab[data-screen={screen}]")
        assert p.is_hidden("#km-signin-open")  # a read-only server has nobody to sign in
        assert "閲覧のみ" in p.inner_text("#km-who")
        assert p.is_visible("#km-downloads-button")
        assert bench.lacking() > 50
        bench.shot("viewer_map")

        # The ranked list: largest number of older residents left out first, and clickable.
        counts = p.eval_on_selector_all(
            ".km-gap-count", "xs => xs.map(x => Number(x.textContent.replace(/[^0-9]/g, '')))")
        assert counts == sorted(counts, reverse=True)
        p.locator(".km-gap-item").nth(2).click()
        p.wait_for_selector(".km-profile h2")
        assert "市全体" in p.inner_text(".km-figures")

        # Another layer and indicator: drawn, and the list follows.
        p.select_option("#km-controls [name=layer]", "chiku")
        p.wait_for_function("() => window.kenmap.gaps && window.kenmap.gaps.layer === 'chiku'")
        assert p.evaluate("window.kenmap.areaMap.current.features.length") == 29
        p.select_option("#km-controls [name=indicator]", "pop65")
        assert "65歳以上人口" in p.inner_text("#km-legend")
        p.check("#km-controls [name=by_distance]")
        p.fill("#km-controls [name=radius]", "10")
        p.dispatch_event("#km-controls [name=radius]", "change")
        assert "50〜50000" in p.inner_text("#km-controls [data-error-for=radius]")
        p.fill("#km-controls [name=radius]", "800")
        p.dispatch_event("#km-controls [name=radius]", "change")
        p.wait_for_function("() => window.kenmap.gaps && window.kenmap.gaps.radius_m === 800")
        bench.shot("viewer_chiku_radius")

        # A hub opens as a read-only list, with its history.
        hub_id = server.api("GET", "/api/hubs?type=chiku_kyoten").json()["features"][0]["id"]
        p.evaluate(f"window.kenmap.openHub({hub_id})")
        p.wait_for_selector(".km-hub-panel dl")
        assert p.locator(".km-panel input, .km-panel select").count() == 0
        assert p.locator(".km-panel >> text=削除").count() == 0
        bench.shot("viewer_hub")
        # Geoman's editing is not switched on, and the map does not add hubs on a click.
        assert p.evaluate("window.kenmap.areaMap.map.pm.globalDragModeEnabled()") is False
        assert p.evaluate("window.kenmap.areaMap.map.pm.globalDrawModeEnabled()") is False
        assert bench.errors == [] and bench.remote() == []
    finally:
        context.close()

    # The API refuses every write on a read-only server, whatever the page shows.
    hub = server.api("GET", "/api/hubs").json()["features"][0]["properties"]
    refused = [
        server.api("POST", "/api/hubs", json={"type": "salon", "name": "x", "lon": hub["lon"],
                                              "lat": hub["lat"]}),
        server.api("PATCH", f"/api/hubs/{hub['id']}",
                   json={"version": hub["version"], "name": "x"}),
        server.api("DELETE", f"/api/hubs/{hub['id']}?version={hub['version']}"),
        server.api("POST", "/api/siting", json={"hub_type": "salon", "k": 1, "apply": True}),
    ]
    assert [r.status_code for r in refused] == [403] * 4, [r.text for r in refused]
    assert all("読み取り専用" in r.json()["error"] for r in refused)
    assert httpx.get(server.base + "/", follow_redirects=False).headers["location"] == "/maps/"


def test_every_file_comes_from_this_server(server: Server) -> None:
    page = httpx.get(server.base + "/workbench")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "default-src 'self'" in policy and "unsafe" not in policy
    assert page.headers["x-frame-options"] == "DENY"
    html = page.text
    assert not re.search(r"https?://", html)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") or s.startswith("data:") for s in sources), sources
    for source in sources:
        if source.startswith("/"):
            assert httpx.get(server.base + source).status_code == 200, source
    # The workbench's own files name no other host at all.
    for path in OWN_FILES.iterdir():
        assert not re.search(r"https?://", path.read_text(encoding="utf-8")), path.name
        served = httpx.get(f"{server.base}/static/workbench/{path.name}")
        assert served.status_code == 200 and "nosniff" in served.headers["x-content-type-options"]
    # Only the listed files of the npm packages are served, and nothing outside them.
    for bad in ("/static/vendor/leaflet/package.json", "/static/vendor/../../pyproject.toml",
                "/static/vendor/%2e%2e/setup.py", "/static/workbench/..%2fworkbench.py",
                "/static/workbench/app.py"):
        assert httpx.get(server.base + bad).status_code == 404, bad


def test_stored_script_stays_text(chromium: Any, hostile: Hostile,  # noqa: F811
                                  tmp_path: Path) -> None:
    with serving(hostile.path, tmp_path, token=True) as server:
        hub = server.api("GET", "/api/hubs?type=salon").json()["features"][0]["properties"]
        changed = server.api("PATCH", f"/api/hubs/{hub['id']}",
                             json={"version": hub["version"], "responsible": PAYLOADS[1],
                                   "operator": PAYLOADS[4]})
        assert changed.status_code == 200, changed.text
        context = chromium.new_context(viewport=LAPTOP, locale="ja-JP")
        bench = Bench(context, server)
        p = bench.open()
        try:
            bench.sign_in_with_token()
            assert p.inner_text("#km-city") == hostile.names["shi"][0]
            layer_options = p.inner_text("#km-controls [name=layer]")
            assert hostile.labels["gyoseiku"] in layer_options
            assert hostile.type_labels["salon"] in p.inner_text("#km-controls [name=hub_type]")
            # The ranked list and the legend carry area names and type labels.
            first = p.locator(".km-gap-name").first.inner_text()
            assert any(first.startswith(payload) for payload in PAYLOADS)
            assert hostile.type_labels["salon"] in p.inner_text("#km-legend")
            p.locator(".km-gap-item").first.click()
            p.wait_for_selector(".km-profile h2")
            # A hub: the form, the history (with the payloads as changes), the profile list.
            p.evaluate(f"window.kenmap.openHub({hub['id']})")
            form = p.locator(".km-hub-form")
            form.wait_for()
            assert form.locator("[name=responsible]").input_value() == PAYLOADS[1]
            assert form.locator("[name=name]").input_value() == hub["name"]
            form.locator("text=履歴").click()
            p.wait_for_selector(".km-history li")
            assert PAYLOADS[1] in p.inner_text(".km-history")
            bench.shot("hostile_history")
            # Tooltips of areas are built from text too.
            box = p.locator("#km-map").bounding_box()
            assert box is not None
            p.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            p.wait_for_timeout(300)
            # Nothing ran, nothing was parsed as markup.
            injected = p.evaluate("""() => document.querySelectorAll(
                'img[src="x"], svg[onload], [onerror], [onload], script:not([src])').length""")
            assert injected == 0
            assert bench.dialogs == [] and bench.errors == []
        finally:
            context.close()
