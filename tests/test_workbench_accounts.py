"""Signed-in users on the workbench: the sign-in screen, what each role sees and may do, the
users screen for admins. Needs the accounts of the workbench (``kenmap users``,
``/auth/me``); skipped on a branch without them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_of
from workbench_helpers import LAPTOP, Bench, Server, serving

PASSWORD = "kenmap-test-pass-1"
USERS = {"mika": "viewer", "ken": "editor", "aki": "admin"}


def add_user(workspace: Path, name: str, role: str, password: str
             ) -> subprocess.CompletedProcess[str]:
    """``kenmap users add`` with the password on stdin (one line when not a terminal)."""
    return subprocess.run(
        [sys.executable, "-c", "from kenmap.cli import main; main()", "users", "add",
         str(workspace), name, "--role", role],
        input=password + "\n", capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def server(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("workbench-accounts")
    workspace = copy_of(demo_master, tmp)
    for name, role in USERS.items():
        added = add_user(workspace, name, role, PASSWORD)
        if added.returncode != 0 and "users" in added.stderr and "No such command" in added.stderr:
            pytest.skip("kenmap users (the workbench's accounts) is not on this branch yet")
        assert added.returncode == 0, added.stderr
    with serving(workspace, tmp, token=False) as running:
        if not running.has("GET", "/auth/me"):
            pytest.skip("/auth/me (the workbench's accounts) is not on this branch yet")
        yield running


def sign_in(bench: Bench, name: str, password: str = PASSWORD) -> None:
    p = bench.page
    if p.is_hidden("#km-screen-signin"):
        p.click("#km-signin-open")
    p.fill("#km-signin [name=name]", name)
    p.fill("#km-signin [name=password]", password)
    p.click("#km-signin button[type=submit]")


def write_from_page(bench: Bench, csrf: bool) -> int:
    """The status of a hub added by a script in the signed-in page (with or without the
    CSRF header the page was given)."""
    return int(bench.page.evaluate(
        """async (withCsrf) => {
            const me = await (await fetch('/auth/me')).json();
            const headers = { 'Content-Type': 'application/json' };
            if (withCsrf) headers['X-CSRF-Token'] = me.csrf;
            const hub = { type: 'salon', name: 'script', lon: 134.83, lat: 35.54 };
            const body = JSON.stringify(hub);
            const r = await fetch('/api/hubs', { method: 'POST', headers, body });
            return r.status;
        }""", csrf))


def test_sign_in_and_what_each_role_sees(chromium: Any, server: Server) -> None:
    context = chromium.new_context(viewport=LAPTOP, locale="ja-JP")
    bench = Bench(context, server)
    p = bench.open()
    try:
        # A server with users opens on the sign-in screen; reading without it is possible.
        assert p.is_visible("#km-screen-signin") and p.is_visible("#km-signin [name=password]")
        bench.shot("signin")
        sign_in(bench, "mika", "wrong-password")
        # The server names the password field: the message stands beside it.
        p.wait_for_selector("#km-signin [data-error-for=password]:not(:empty)")
        bench.shot("signin_error")
        assert p.is_visible("#km-screen-signin")

        # A viewer: the map, no editing, and the API refuses even a script in the page.
        sign_in(bench, "mika")
        p.wait_for_selector("#km-screen-map:not([hidden])")
        assert "mika" in p.inner_text("#km-who")
        assert p.is_hidden("#km-edit-tools")
        assert p.is_hidden(".km-tab[data-screen=siting]")
        assert p.is_hidden(".km-tab[data-screen=users]")
        assert write_from_page(bench, csrf=True) == 403
        bench.shot("signed_in_viewer")
        p.click("#km-signout")
        p.wait_for_selector("#km-screen-signin:not([hidden])")

        # An editor: editing controls, siting and imports; a save is recorded with the name.
        sign_in(bench, "ken")
        p.wait_for_selector("#km-edit-tools:not([hidden])")
        assert p.is_visible(".km-tab[data-screen=siting]")
        assert p.is_visible(".km-tab[data-screen=wizard]")
        assert p.is_hidden(".km-tab[data-screen=users]")
        assert write_from_page(bench, csrf=False) == 403  # no CSRF header: refused
        hub = server.api("GET", "/api/hubs").json()["features"][3]["properties"]
        p.evaluate(f"window.kenmap.openHub({hub['id']})")
        p.fill(".km-hub-form [name=schedule]", "第2・第4木曜")
        p.click(".km-hub-form button[type=submit]")
        p.wait_for_selector("#km-toast >> text=保存しました")
        p.click(".km-hub-form >> text=履歴")
        p.wait_for_selector(".km-history li")
        assert "ken" in p.inner_text(".km-history")
        bench.shot("history_signed")
        p.click("#km-signout")
        p.wait_for_selector("#km-screen-signin:not([hidden])")

        # An admin: the users screen; a bad password is refused next to the field.
        sign_in(bench, "aki")
        p.wait_for_selector(".km-tab[data-screen=users]:not([hidden])")
        p.click(".km-tab[data-screen=users]")
        p.wait_for_selector(".km-users-list table")
        listed = p.inner_text(".km-users-list")
        assert all(name in listed for name in USERS)
        form = p.locator("#km-screen-users form")
        form.locator("[name=name]").fill("yui")
        form.locator("[name=role]").select_option("editor")
        form.locator("[name=password]").fill("short")
        form.locator("[name=password2]").fill("short")
        form.locator("button[type=submit]").click()
        p.wait_for_selector("#km-screen-users .km-error:not(:empty)")
        bench.shot("users_error")
        form.locator("[name=password]").fill(PASSWORD)
        form.locator("[name=password2]").fill(PASSWORD)
        form.locator("button[type=submit]").click()
        p.wait_for_selector(".km-users-list >> text=yui")
        bench.shot("users")
        assert bench.errors == [] and bench.dialogs == [] and bench.remote() == []
    finally:
        context.close()
