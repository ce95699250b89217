"""Two editors change one hub at once: the second save shows 「他の人が先に変更しました」 with
both versions, and each choice (keep mine, take theirs) ends in the state it says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_of
from workbench_helpers import LAPTOP, Bench, Server, serving


@pytest.fixture(scope="module")
def server(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("workbench-conflict")
    with serving(copy_of(demo_master, tmp), tmp, token=True) as running:
        yield running


def editor(chromium: Any, server: Server) -> tuple[Any, Bench]:
    """An editor in a browser of their own (own cookies and storage)."""
    context = chromium.new_context(viewport=LAPTOP, locale="ja-JP")
    bench = Bench(context, server)
    bench.open()
    bench.sign_in_with_token()
    return context, bench


def open_hub(bench: Bench, hub_id: int) -> Any:
    bench.page.evaluate(f"window.kenmap.openHub({hub_id})")
    form = bench.page.locator(".km-hub-form")
    form.wait_for()
    return form


def test_two_editors_conflict_on_one_hub(chromium: Any, server: Server) -> None:
    hub = server.api("GET", "/api/hubs").json()["features"][0]["properties"]
    hub_id = hub["id"]
    (ctx_a, a), (ctx_b, b) = editor(chromium, server), editor(chromium, server)
    try:
        form_a, form_b = open_hub(a, hub_id), open_hub(b, hub_id)
        # A renames it and saves first.
        form_a.locator("[name=name]").fill("新崎1区ふれあいサロン")
        form_a.locator("button[type=submit]").click()
        a.page.wait_for_selector("#km-toast >> text=保存しました")
        # B, still looking at the old version, changes the schedule and saves.
        form_b.locator("[name=schedule]").fill("毎週金曜")
        form_b.locator("button[type=submit]").click()
        dialog = b.page.locator("dialog[open]")
        dialog.wait_for()
        text = dialog.inner_text()
        assert "他の人が先に変更しました" in text
        assert "新崎1区ふれあいサロン" in text  # theirs
        assert "毎週金曜" in text and hub["schedule"] in text  # mine, and the current schedule
        b.shot("conflict")
        dialog.locator("text=自分の変更で上書きする").click()
        b.page.wait_for_selector("#km-toast >> text=あなたの変更で保存しました")
        now = _hub(server, hub_id)
        assert now["schedule"] == "毎週金曜" and now["name"] == "新崎1区ふれあいサロン"
        assert now["version"] == hub["version"] + 2

        # Again, and this time B takes A's change: nothing of B's is written.
        a.page.evaluate("window.kenmap.hubs.load()")  # A reloads the hubs (sees B's save)
        a.page.wait_for_function(
            "([id, v]) => window.kenmap.hubs.markers.get(id).hub.version === v",
            arg=[hub_id, now["version"]])
        form_a = open_hub(a, hub_id)
        form_a.locator("[name=host]").fill("新崎1区公民館")
        form_a.locator("button[type=submit]").click()
        a.page.wait_for_selector("#km-toast >> text=保存しました")
        form_b = open_hub(b, hub_id)
        form_b.locator("[name=host]").fill("新崎1区集会所（2階）")
        form_b.locator("button[type=submit]").click()
        b.page.locator("dialog[open]").wait_for()
        b.page.locator("dialog[open] >> text=相手の変更を使う").click()
        b.page.wait_for_function(
            "id => document.querySelector('.km-hub-form [name=host]')?.value === '新崎1区公民館'",
            arg=hub_id)
        final = _hub(server, hub_id)
        assert final["host"] == "新崎1区公民館" and final["version"] == now["version"] + 1

        # Deleting a hub someone else changed asks too.
        a.page.evaluate("window.kenmap.hubs.load()")
        form_a = open_hub(a, hub_id)
        form_a.locator("[name=address]").fill("デモ市新崎1-1")
        form_a.locator("button[type=submit]").click()
        a.page.wait_for_selector("#km-toast >> text=保存しました")
        form_b = open_hub(b, hub_id)
        form_b.locator("text=削除").click()
        b.page.locator("dialog[open] >> text=削除する").click()
        dialog = b.page.locator("dialog[open]")
        dialog.locator("text=他の人が先に変更しました").wait_for()
        assert "デモ市新崎1-1" in dialog.inner_text()
        b.shot("conflict_delete")
        dialog.locator("text=相手の変更を使う").click()
        assert _hub(server, hub_id)["address"] == "デモ市新崎1-1"  # not deleted
        for bench in (a, b):
            assert bench.errors == [] and bench.dialogs == []
    finally:
        ctx_a.close()
        ctx_b.close()


def _hub(server: Server, hub_id: int) -> dict[str, Any]:
    hubs = server.api("GET", "/api/hubs", headers={"Cache-Control": "no-cache"}).json()
    return next(f["properties"] for f in hubs["features"] if f["properties"]["id"] == hub_id)
