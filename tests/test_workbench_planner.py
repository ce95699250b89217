"""A planner on the workbench: adds, moves and deletes hubs and sees the lacking count change;
asks where 3 new hubs would help and applies the answer. Gaps must show a save within 0.3 s."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_of
from workbench_helpers import LAPTOP, Bench, Server, inside_points, save_timings, serving

#: The workbench shows a save on the map within this (the issue's promise, on a 6,000-area
#: city; measured here on the demo city's 行政区).
UPDATE_BUDGET_MS = 300


@pytest.fixture(scope="module")
def server(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("workbench-planner")
    with serving(copy_of(demo_master, tmp), tmp, token=True) as running:
        yield running


@pytest.fixture
def bench(chromium: Any, server: Server) -> Iterator[Bench]:
    context = chromium.new_context(viewport=LAPTOP, locale="ja-JP")
    bench = Bench(context, server)
    bench.open()
    bench.sign_in_with_token()
    yield bench
    context.close()


def test_planner_adds_moves_and_deletes_hubs(bench: Bench, server: Server) -> None:
    p = bench.page
    assert bench.remote() == []  # nothing leaves the machine
    before = bench.lacking()
    assert before > 50  # many 行政区 of the demo lack a サロン
    bench.shot("map")
    # The two 行政区 leaving the most older residents without a サロン, from the ranked list.
    first, second = p.eval_on_selector_all(
        ".km-gap-item", "items => items.slice(0, 2).map(i => i.dataset.code)")
    places = inside_points(server.workspace, "gyoseiku", [first, second])
    p.click(f".km-gap-item[data-code='{first}']")
    p.wait_for_selector(".km-profile h2")
    assert "高齢化率" in p.inner_text(".km-profile")
    assert "不足" in p.inner_text(".km-profile .km-status")
    bench.shot("profile")

    # Add: a サロン by clicking inside the first area.
    p.click("#km-add-hub")
    bench.show_places(places[first])
    x, y = bench.screen_point(*places[first])
    p.mouse.click(x, y)
    form = p.locator(".km-hub-form")
    form.wait_for()
    assert form.locator("select[name=type]").input_value() == "salon"
    form.locator("[name=name]").fill("")
    form.locator("button[type=submit]").click()
    assert "名称を入力してください" in form.locator("[data-error-for=name]").inner_text()
    form.locator("[name=name]").fill("テスト地区のいきいきサロン")
    form.locator("[name=schedule]").fill("毎週水曜")
    form.locator("[name=opened]").fill("きのう")  # not a date: refused next to the field
    form.locator("button[type=submit]").click()
    p.wait_for_selector(".km-hub-form [data-error-for=opened]:not(:empty)")
    assert "日付" in form.locator("[data-error-for=opened]").inner_text()
    bench.shot("hub_new")
    assert bench.lacking() == before  # nothing was written
    form.locator("[name=opened]").fill("2026-04-01")
    form.locator("button[type=submit]").click()
    bench.wait_lacking(before - 1)
    assert first not in bench.lacking_codes()
    hub_id = int(p.evaluate("window.kenmap.panelHub"))
    bench.shot("hub_saved")

    # Move: drag it into the second area; the first lacks a サロン again, the second no more.
    p.click("#km-move-hubs")
    bench.show_places(places[first], places[second])
    marker = p.locator(".leaflet-marker-icon[title='テスト地区のいきいきサロン']")
    box = marker.bounding_box()
    assert box is not None
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    end = bench.screen_point(*places[second])
    drag(p, start, end)
    p.wait_for_function(
        "([a, b]) => window.kenmap.areaMap.lacking.has(a) && !window.kenmap.areaMap.lacking.has(b)",
        arg=[first, second], timeout=30_000)
    assert bench.lacking() == before - 1
    p.click("#km-move-hubs")  # back out of move mode

    # History: who/when/what, with the move.
    p.evaluate(f"window.kenmap.openHub({hub_id})")
    p.click(".km-hub-form >> text=履歴")
    p.wait_for_selector(".km-history li")
    history = p.inner_text(".km-history")
    assert "追加" in history and "変更" in history and "位置を移動" in history
    bench.shot("history")

    # Delete: the second area lacks a サロン again.
    p.click(".km-history-panel >> text=拠点に戻る")
    p.click(".km-hub-form >> text=削除")
    p.wait_for_selector("dialog[open]")
    bench.shot("delete_confirm")
    p.click("dialog[open] >> text=削除する")
    bench.wait_lacking(before)
    assert second in bench.lacking_codes() and first in bench.lacking_codes()
    assert server.api("GET", "/api/hubs").json()["features"][-1]["properties"]["id"] != hub_id

    timings = bench.timings()
    save_timings("save_to_gaps", timings)
    updates = [t["update_ms"] for t in timings]
    assert len(updates) == 3, timings  # add, move, delete
    print(f"save → gaps shown: {', '.join(f'{u:.0f}' for u in updates)} ms "
          f"(median {statistics.median(updates):.0f} ms)")
    assert statistics.median(updates) < UPDATE_BUDGET_MS, timings
    assert bench.errors == [] and bench.dialogs == []
    assert bench.remote() == []


def test_planner_sites_three_hubs_and_applies_them(bench: Bench, server: Server) -> None:
    p = bench.page
    planned_before = len(server.api("GET", "/api/hubs?status=planned").json()["features"])
    lacking_before = bench.lacking()
    p.click(".km-tab[data-screen=siting]")
    form = p.locator(".km-siting-form")
    form.wait_for()
    form.locator("[name=k]").fill("0")
    form.locator("button[type=submit]").click()
    assert "1〜" in form.locator("[data-error-for=k]").inner_text()
    form.locator("[name=k]").fill("3")
    form.locator("button[type=submit]").click()
    p.wait_for_selector(".km-site", timeout=120_000)
    sites = p.locator(".km-site")
    assert sites.count() == 3
    numbers = [sites.nth(i).locator(".km-site-number").inner_text() for i in range(3)]
    assert numbers == ["1", "2", "3"]
    assert p.locator(".km-site-marker").count() == 3
    assert "65歳以上 +" in sites.first.inner_text()
    bench.shot("siting")

    result = p.evaluate("window.kenmap.siting.result")
    if result["sites"][0].get("pinned") is not None:  # the server takes pins and drops
        dropped = result["sites"][0]
        sites.first.locator("text=この地点を外す").click()
        p.wait_for_function(
            "n => window.kenmap.siting.result && window.kenmap.siting.excluded.length === n",
            arg=1)
        p.wait_for_selector(".km-site")
        again = p.evaluate("window.kenmap.siting.result")
        assert all((s["lon"], s["lat"]) != (dropped["lon"], dropped["lat"]) for s in again["sites"])
        p.locator(".km-site").first.locator("text=この地点を固定").click()
        p.wait_for_selector(".km-site >> text=（固定）")
        bench.shot("siting_pinned")
    chosen = p.evaluate("window.kenmap.siting.result.sites.length")

    p.click("text=計画中の拠点として登録")
    p.wait_for_selector("dialog[open]")
    p.click("dialog[open] >> text=登録する")
    p.wait_for_selector(".km-site", state="detached", timeout=120_000)
    planned = server.api("GET", "/api/hubs?status=planned",
                         headers={"Cache-Control": "no-cache"}).json()["features"]
    assert len(planned) == planned_before + chosen
    # Counting planned hubs, fewer 行政区 lack a サロン.
    p.click(".km-tab[data-screen=map]")
    p.check("#km-controls [name=with_planned]")
    p.wait_for_function(
        "n => Number(document.querySelector('#km-lacking-count').dataset.count) < n",
        arg=lacking_before, timeout=30_000)
    bench.shot("map_with_planned")
    assert bench.errors == [] and bench.dialogs == []


def test_downloads_menu_and_large_text(bench: Bench) -> None:
    p = bench.page
    p.click("#km-downloads-button")
    menu = p.locator("#km-downloads")
    menu.wait_for()
    text = menu.inner_text()
    for item in ("統計表", "不足する区域の一覧", "印刷用の地図", "オフライン版", "地域カルテ"):
        assert item in text
    bench.shot("downloads")
    csv = menu.locator(".km-menu-row", has_text="統計表").locator("text=CSV")
    if bench.server.has("GET", "/api/downloads/stats.csv?layer=gyoseiku"):
        with p.expect_download(timeout=60_000) as download:
            csv.click()
        assert download.value.suggested_filename.endswith(".csv")
    else:  # downloads come with another piece of the workbench: the menu says so
        csv.click()
        p.wait_for_selector("#km-toast[data-kind=error]")
        assert "まだ使えません" in p.inner_text("#km-toast")
    # 文字を大きく: a projector. Every control stays on the screen, the map keeps its room.
    p.click("#km-large")
    p.wait_for_timeout(300)
    bench.shot("large_text")
    width = p.evaluate("document.getElementById('km-map').getBoundingClientRect().width")
    assert width > 500
    for selector in ("#km-signout", "#km-downloads-button", "#km-large",
                     ".km-tab[data-screen=wizard]"):
        box = p.locator(selector).bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 1366 and box["y"] + box["height"] <= 768
    p.click("#km-large")



def drag(p: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Drag with the mouse as a hand does: a small first move (a drag starts there), then on."""
    p.mouse.move(*start)
    p.mouse.down()
    p.mouse.move(start[0] + 1, start[1] + 1)
    for i in range(1, 21):
        p.mouse.move(start[0] + (end[0] - start[0]) * i / 20,
                     start[1] + (end[1] - start[1]) * i / 20)
    p.mouse.up()
