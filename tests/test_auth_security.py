"""Sign-in and roles over HTTP, pinned: cookie flags, session fixation, CSRF, the sign-in rate
limit, the role of every write endpoint (enumerated from the app's routes), the bearer token,
sign-out, sessions that outlive a restart, the audit trail, and a real ``kenmap serve``."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import copy_of, digest
from fastapi.testclient import TestClient

TOKEN = "kenmap-auth-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
PASSWORDS = {"kanri": "kanri-password-1", "hanako": "hanako-password-1",
             "miru": "miru-password-1"}
ROLES = {"kanri": "admin", "hanako": "editor", "miru": "viewer"}
HUB = {"type": "ibasho", "name": "駅前の居場所", "lon": 134.82, "lat": 35.545}
#: Unsafe routes that are not guarded by a role: signing in and out (checked on their own).
UNGUARDED = {("POST", "/auth/login"), ("POST", "/auth/logout")}
#: Reads that need a role (everything else that reads is open to anyone).
GUARDED_READS = {("GET", "/api/users"): "admin", ("GET", "/api/audit"): "editor"}
#: Writes that need an admin; every other write needs an editor.
ADMIN_WRITES = ("/api/users", "/api/catalogue")


@pytest.fixture(scope="module")
def users_master(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace with an admin, an editor and a viewer (hashing takes time: once)."""
    from kenmap.accounts import add_user
    from kenmap.workspace import Workspace

    path = copy_of(demo_master, tmp_path_factory.mktemp("auth-master"))
    ws = Workspace.open(path)
    for name, role in ROLES.items():
        add_user(ws, name, role, PASSWORDS[name])
    return path


@pytest.fixture
def ws(users_master: Path, tmp_path: Path) -> Path:
    """A private copy of the workspace with users, for one test."""
    return copy_of(users_master, tmp_path)


def _app(path: Path, **kwargs: Any) -> Any:
    from kenmap.api.app import create_app

    return create_app(path, **kwargs)


@pytest.fixture
def app(ws: Path) -> Any:
    """A server with users and no token."""
    return _app(ws)


def _client(app: Any, base_url: str = "https://localhost", **kwargs: Any) -> TestClient:
    return TestClient(app, base_url=base_url, **kwargs)


def _sign_in(c: TestClient, name: str) -> str:
    """Sign ``c`` in as ``name``; returns the CSRF token (the cookie stays in ``c``)."""
    r = c.post("/auth/login", json={"name": name, "password": PASSWORDS[name]})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf"])


def _set_cookie(response: httpx.Response) -> tuple[str, str]:
    """The value and the attributes of the session cookie a response sets."""
    header = response.headers["set-cookie"]
    match = re.match(r"kenmap_session=([^;]*)(.*)$", header)
    assert match, header
    return match.group(1).strip('"'), match.group(2)


def _session_rows(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'kenmap_sessions'"
                           ).fetchone():
            return []
        return [r[0] for r in con.execute("SELECT id_sha256 FROM kenmap_sessions")]
    finally:
        con.close()


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- the cookie ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("base_url", "secure"), [
    ("http://localhost", True), ("http://127.0.0.1", True), ("http://[::1]", True),
    ("https://kenmap.city.example", True), ("http://192.168.10.5:8000", False),
])
def test_sign_in_sets_a_hardened_cookie(app: Any, ws: Path, base_url: str, secure: bool
                                        ) -> None:
    with _client(app, base_url) as c:
        r = c.post("/auth/login", json={"name": "hanako", "password": PASSWORDS["hanako"]})
        assert r.status_code == 200, r.text
        assert r.json()["user"] == "hanako" and r.json()["role"] == "editor"
        assert len(r.json()["csrf"]) >= 32
        assert r.headers["cache-control"] == "no-store"
        value, attributes = _set_cookie(r)
        flags = {a.strip().lower() for a in attributes.split(";") if a.strip()}
        assert len(value) >= 40
        assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
        assert ("secure" in flags) is secure
        # It ends with the browser: a shared computer in a committee room does not stay
        # signed in.
        assert not any(f.startswith(("max-age", "expires")) for f in flags)
        assert _sha(value) in _session_rows(ws)  # only its hash is stored
        assert value not in str(_session_rows(ws))


def test_wrong_password_and_unknown_user_get_the_same_answer(app: Any, ws: Path) -> None:
    before = _session_rows(ws)
    with _client(app) as c:
        wrong = c.post("/auth/login", json={"name": "hanako", "password": "not-her-password"})
        unknown = c.post("/auth/login", json={"name": "nobody", "password": "not-her-password"})
        case = c.post("/auth/login", json={"name": "hanako", "password": "HANAKO-PASSWORD-1"})
        for r in (wrong, unknown, case):
            assert r.status_code == 401
            assert "set-cookie" not in r.headers
        assert wrong.json() == unknown.json() == case.json()
        assert wrong.json()["error"] == "名前かパスワードが違います"
        assert c.get("/auth/me").json()["user"] is None
    assert _session_rows(ws) == before


def test_the_sixth_failure_is_429_with_retry_after(app: Any) -> None:
    with _client(app) as c:
        for _ in range(5):
            r = c.post("/auth/login", json={"name": "hanako", "password": "guess-guess"})
            assert r.status_code == 401
        sixth = c.post("/auth/login", json={"name": "hanako", "password": "guess-guess"})
        assert sixth.status_code == 429, sixth.text
        assert 0 < int(sixth.headers["retry-after"]) <= 300
        assert "秒後" in sixth.json()["error"]
        # Now even the right password is refused: the limit is not an oracle.
        right = c.post("/auth/login", json={"name": "hanako", "password": PASSWORDS["hanako"]})
        assert right.status_code == 429 and "set-cookie" not in right.headers
    # Per name: another address is refused for this name too, but may sign in as another.
    with _client(app, client=("10.0.0.7", 40000)) as other:
        r = other.post("/auth/login", json={"name": "HANAKO", "password": PASSWORDS["hanako"]})
        assert r.status_code == 429
        assert other.post("/auth/login", json={"name": "miru", "password": PASSWORDS["miru"]}
                          ).status_code == 200


def test_failures_from_one_address_are_limited_across_names(app: Any) -> None:
    with _client(app, client=("10.0.0.8", 40000)) as c:
        for i in range(5):
            r = c.post("/auth/login", json={"name": f"user{i}", "password": "guess-guess"})
            assert r.status_code == 401
        r = c.post("/auth/login", json={"name": "kanri", "password": PASSWORDS["kanri"]})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    with _client(app, client=("10.0.0.9", 40000)) as elsewhere:
        assert elsewhere.post("/auth/login", json={"name": "kanri",
                                                   "password": PASSWORDS["kanri"]}
                              ).status_code == 200


def test_the_limit_window_slides() -> None:
    from kenmap.accounts.limits import SignInLimiter

    now = [1000.0]
    limiter = SignInLimiter(max_failures=5, window_s=300, clock=lambda: now[0])
    for _ in range(5):
        assert limiter.retry_after("name:a", "addr:x") == 0
        limiter.failed("name:a", "addr:x")
        now[0] += 10
    assert limiter.retry_after("name:a") == 300 - 50
    assert limiter.retry_after("addr:x", "name:b") == 250
    now[0] = 1000.0 + 300.5  # the first failure has left the window
    assert limiter.retry_after("name:a") == 0
    limiter.failed("name:a")
    assert limiter.retry_after("name:a") > 0
    limiter.succeeded("name:a")
    assert limiter.retry_after("name:a") == 0


def test_the_limiter_stays_small_under_a_flood_of_names() -> None:
    from kenmap.accounts.limits import SignInLimiter

    limiter = SignInLimiter(max_keys=100)
    for i in range(1000):
        limiter.failed(f"name:{i}", "addr:flood")
    assert len(limiter._failures) <= 100
    assert limiter.retry_after("addr:flood") > 0  # the flooding address stays held back


# -- session fixation, sign-out, restarts -------------------------------------------------------

def test_a_cookie_the_server_did_not_issue_is_ignored(app: Any, ws: Path) -> None:
    planted = "A" * 43  # the shape of a real id, but never issued
    before = digest(ws)
    with _client(app) as c:
        c.cookies.set("kenmap_session", planted)
        assert c.get("/auth/me").json()["user"] is None
        r = c.post("/api/hubs", json=HUB, headers={"X-CSRF-Token": "x" * 43})
        assert r.status_code == 401
        assert digest(ws) == before
        # Signing in while sending the planted cookie gives a new id, not the planted one.
        r = c.post("/auth/login", json={"name": "hanako", "password": PASSWORDS["hanako"]})
        assert r.status_code == 200
        issued, _ = _set_cookie(r)
        assert issued != planted
        assert _sha(planted) not in _session_rows(ws)
    with _client(app) as attacker:
        attacker.cookies.set("kenmap_session", planted)
        assert attacker.get("/auth/me").json()["user"] is None


def test_every_sign_in_gets_a_new_id_and_ends_the_old_one(app: Any, ws: Path) -> None:
    with _client(app) as c:
        _sign_in(c, "hanako")
        first = c.cookies["kenmap_session"]
        _sign_in(c, "hanako")
        second = c.cookies["kenmap_session"]
        assert second != first
        assert _sha(first) not in _session_rows(ws) and _sha(second) in _session_rows(ws)
    with _client(app) as replay:
        replay.cookies.set("kenmap_session", first)
        assert replay.get("/auth/me").json()["user"] is None


def test_sign_out_ends_the_session_on_the_server(app: Any, ws: Path) -> None:
    with _client(app) as c:
        csrf = _sign_in(c, "hanako")
        session = c.cookies["kenmap_session"]
        assert c.post("/auth/logout").status_code == 403  # needs the CSRF token
        assert c.get("/auth/me").json()["user"] == "hanako"
        r = c.post("/auth/logout", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204
        value, attributes = _set_cookie(r)
        assert value == "" and "max-age=0" in attributes.lower()
        assert _sha(session) not in _session_rows(ws)
    with _client(app) as replay:  # the old cookie, kept by someone, opens nothing any more
        replay.cookies.set("kenmap_session", session)
        assert replay.get("/auth/me").json()["user"] is None
        r = replay.post("/api/hubs", json=HUB, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 401


def test_sessions_outlive_a_restart_but_not_their_expiry(ws: Path) -> None:
    with _client(_app(ws)) as c:
        csrf = _sign_in(c, "hanako")
        session = c.cookies["kenmap_session"]
    with _client(_app(ws)) as restarted:
        restarted.cookies.set("kenmap_session", session)
        me = restarted.get("/auth/me").json()
        assert me["user"] == "hanako" and me["csrf"] == csrf
        con = sqlite3.connect(ws)
        con.execute("UPDATE kenmap_sessions SET expires = '2000-01-01T00:00:00+00:00'")
        con.commit()
        con.close()
        assert restarted.get("/auth/me").json()["user"] is None
        assert restarted.post("/api/hubs", json=HUB, headers={"X-CSRF-Token": csrf}
                              ).status_code == 401


def test_a_session_in_use_is_extended(app: Any, ws: Path) -> None:
    from datetime import UTC, datetime, timedelta

    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    with _client(app) as c:
        _sign_in(c, "hanako")
        con = sqlite3.connect(ws)
        con.execute("UPDATE kenmap_sessions SET expires = ?", (soon,))
        con.commit()
        assert c.get("/auth/me").json()["user"] == "hanako"  # extended behind the answer
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            expires = con.execute("SELECT expires FROM kenmap_sessions").fetchone()[0]
            if expires > soon:
                break
            time.sleep(0.05)
        con.close()
        left = datetime.fromisoformat(expires) - datetime.now(UTC)
        assert timedelta(hours=11.9) < left <= timedelta(hours=12)


def test_login_posted_from_another_site_is_refused(app: Any) -> None:
    with _client(app) as c:
        r = c.post("/auth/login", json={"name": "hanako", "password": PASSWORDS["hanako"]},
                   headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and r.json()["field"] == "Origin"
        assert "set-cookie" not in r.headers
        # A form on another site can post text/plain without asking first: not read as JSON.
        body = json.dumps({"name": "hanako", "password": PASSWORDS["hanako"]})
        r = c.post("/auth/login", content=body, headers={"Content-Type": "text/plain"})
        assert r.status_code == 422 and "set-cookie" not in r.headers
        r = c.post("/auth/login", json={"name": "hanako", "password": PASSWORDS["hanako"]},
                   headers={"Origin": "https://localhost"})
        assert r.status_code == 200


# -- CSRF ---------------------------------------------------------------------------------------

def test_cookie_writes_need_the_csrf_token(app: Any, ws: Path) -> None:
    with _client(app) as other:
        foreign = _sign_in(other, "kanri")  # a real token, of another session
    with _client(app) as c:
        csrf = _sign_in(c, "hanako")
        before = digest(ws)
        for headers in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": csrf[:-1] + "x"},
                        {"X-CSRF-Token": foreign}):
            r = c.post("/api/hubs", json=HUB, headers=headers)
            assert r.status_code == 403, r.text
            assert r.json()["field"] == "X-CSRF-Token"
        assert digest(ws) == before
        r = c.post("/api/hubs", json=HUB, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201, r.text
        hub = r.json()
        url = f"/api/hubs/{hub['id']}"
        for headers in ({}, {"X-CSRF-Token": foreign}):
            assert c.patch(url, json={"version": 1, "name": "改名"}, headers=headers
                           ).status_code == 403
            assert c.delete(url, params={"version": 1}, headers=headers).status_code == 403
        r = c.patch(url, json={"version": 1, "name": "改名"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and r.json()["version"] == 2
        r = c.delete(url, params={"version": 2}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204
        # Reads need no token.
        assert c.get("/api/hubs").status_code == 200


# -- roles on every write endpoint --------------------------------------------------------------

def _guarded_routes(app: Any) -> list[tuple[str, str, str]]:
    """(method, path, role needed) for every unsafe route of the app and the guarded reads:
    taken from the app itself, so a new endpoint is checked without being listed here."""
    from fastapi.routing import APIRoute

    from kenmap.api.guards import every_route

    found = []
    for route in every_route(app):
        if not isinstance(getattr(route, "original_route", route), APIRoute):
            continue
        for method in sorted(route.methods):
            if (method, route.path) in UNGUARDED:
                continue
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                role = "admin" if route.path.startswith(ADMIN_WRITES) else "editor"
                found.append((method, route.path, role))
            elif (method, route.path) in GUARDED_READS:
                found.append((method, route.path, GUARDED_READS[(method, route.path)]))
    return found


def _url(path: str) -> str:
    """A route's path with its parameters filled (an id or a name that does not exist)."""
    return re.sub(r"\{[^}]+\}", lambda m: "nobody" if "name" in m.group(0) else "999999", path)


def _call(c: TestClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    # An empty JSON body: a request let in fails validation (422), never writes.
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return c.request(method, _url(path), headers=headers, **body)


def test_every_write_endpoint_needs_the_right_role(app: Any, ws: Path) -> None:
    routes = _guarded_routes(app)
    paths = {(m, p) for m, p, _ in routes}
    # The endpoints known today are among them (more may come: they are checked too).
    assert {("POST", "/api/hubs"), ("PATCH", "/api/hubs/{hub_id}"),
            ("DELETE", "/api/hubs/{hub_id}"), ("POST", "/api/siting"),
            ("POST", "/api/imports/areas"), ("POST", "/api/imports/hubs"),
            ("POST", "/api/users"), ("DELETE", "/api/users/{name}"), ("GET", "/api/users"),
            ("GET", "/api/audit")} <= paths
    before = digest(ws)
    tokens = {}
    clients = {}
    for name in ROLES:
        clients[name] = _client(app).__enter__()
        tokens[name] = _sign_in(clients[name], name)
    try:
        with _client(app) as anonymous:
            for method, path, role in routes:
                where = f"{method} {path}"
                r = _call(anonymous, method, path, {})
                assert r.status_code == 401, (where, r.status_code, r.text)
                assert set(r.json()) == {"error", "file", "row", "field"}
                for name, has in ROLES.items():
                    r = _call(clients[name], method, path, {"X-CSRF-Token": tokens[name]})
                    allowed = {"viewer": 0, "editor": 1, "admin": 2}
                    if allowed[has] >= allowed[role]:
                        assert r.status_code not in (401, 403), (where, name, r.text)
                    else:
                        assert r.status_code == 403, (where, name, r.status_code, r.text)
                        assert "権限" in r.json()["error"]
    finally:
        for c in clients.values():
            c.__exit__(None, None, None)
    assert digest(ws) != before  # sign-ins were recorded …
    from kenmap.workspace import Workspace

    ws_now = Workspace.open(ws)
    actions = {e["action"] for e in ws_now.read_log()}
    assert actions <= {"add user", "sign in"}  # … and nothing else was written


def test_a_read_only_server_refuses_every_write(demo_copy_ws: Path) -> None:
    app = _app(demo_copy_ws)
    before = digest(demo_copy_ws)
    with _client(app) as c:
        me = c.get("/auth/me").json()
        assert me == {"user": None, "role": None, "csrf": None, "read_only": True,
                      "sign_in": False}
        for method, path, _ in _guarded_routes(app):
            for headers in ({}, BEARER):
                r = _call(c, method, path, headers)
                assert r.status_code == 403, (method, path, r.text)
                assert "読み取り専用" in r.json()["error"]
        r = c.post("/auth/login", json={"name": "kanri", "password": "whatever-it-is"})
        assert r.status_code == 401
    assert digest(demo_copy_ws) == before


def test_the_bearer_token_acts_as_admin(ws: Path) -> None:
    app = _app(ws, token=TOKEN)
    with _client(app) as c:
        me = c.get("/auth/me", headers=BEARER).json()
        assert me["user"] == "token" and me["role"] == "admin" and me["csrf"] is None
        assert me["sign_in"] is True and me["read_only"] is False
        r = c.post("/api/users", json={"name": "jiro", "role": "editor",
                                       "password": "jiro-password-1"}, headers=BEARER)
        assert r.status_code == 201, r.text  # no CSRF header needed with the token
        assert r.json()["name"] == "jiro" and "password" not in str(r.json())
        r = c.post("/api/hubs", json=HUB, headers=BEARER)
        assert r.status_code == 201
        history = c.get(f"/api/hubs/{r.json()['id']}/history").json()
        assert history[0]["by"] == "token"
        wrong = c.post("/api/hubs", json=HUB, headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401 and wrong.json()["field"] == "Authorization"
        # A signed-in user's cookie does not rescue a wrong token.
        _sign_in(c, "kanri")
        assert c.post("/api/hubs", json=HUB, headers={"Authorization": "Bearer wrong"}
                      ).status_code == 401


def test_without_users_the_token_is_the_way_in(demo_copy_ws: Path) -> None:
    with _client(_app(demo_copy_ws, token=TOKEN)) as c:
        assert c.get("/auth/me").json() == {"user": None, "role": None, "csrf": None,
                                            "read_only": False, "sign_in": False}
        r = c.post("/api/hubs", json=HUB)
        assert r.status_code == 401 and r.json()["field"] == "Authorization"


def test_writes_know_whom_the_role_check_let_in(ws: Path) -> None:
    """Routes of other modules call ``write(function)`` with no ``by``: the principal the
    role dependency let in is recorded, and a write on a route without one fails."""
    from fastapi import Depends, FastAPI

    from kenmap.api.auth import Auth, acting
    from kenmap.api.views import Views

    auth = Auth(Views(ws), TOKEN)
    app = FastAPI()
    app.include_router(auth.router({}))

    @app.post("/guarded", dependencies=[Depends(auth.editor)])
    async def guarded() -> dict[str, Any]:
        who = acting()
        return {"by": who.name if who else None}

    @app.post("/open")
    async def open_route() -> dict[str, Any]:
        who = acting()
        return {"by": who.name if who else None}

    with _client(app) as c:
        assert c.post("/guarded", headers=BEARER).json() == {"by": "token"}
        assert c.post("/open", headers=BEARER).json() == {"by": None}  # nothing leaks
        csrf = _sign_in(c, "hanako")
        assert c.post("/guarded", headers={"X-CSRF-Token": csrf}).json() == {"by": "hanako"}
        assert c.post("/open").json() == {"by": None}


# -- users, the audit trail, hub history --------------------------------------------------------

def test_admins_manage_users_over_http(app: Any, ws: Path) -> None:
    with _client(app) as c:
        csrf = {"X-CSRF-Token": _sign_in(c, "kanri")}
        r = c.post("/api/users", json={"name": "jiro", "role": "editor",
                                       "password": "jiro-password-1"}, headers=csrf)
        assert r.status_code == 201, r.text
        assert set(r.json()) == {"name", "role", "created", "updated"}
        r = c.post("/api/users", json={"name": "JIRO", "role": "viewer",
                                       "password": "jiro-password-2"}, headers=csrf)
        assert r.status_code == 409 and "すでにいます" in r.json()["error"]
        r = c.post("/api/users", json={"name": "saburo", "role": "viewer",
                                       "password": "short"}, headers=csrf)
        assert r.status_code == 400 and r.json()["field"] == "password"
        r = c.post("/api/users", json={"name": "saburo", "role": "owner",
                                       "password": "long-enough-1"}, headers=csrf)
        assert r.status_code == 422 and r.json()["field"] == "role"
        listed = c.get("/api/users").json()["users"]
        assert [u["name"] for u in listed] == ["kanri", "hanako", "miru", "jiro"]
        assert "hash" not in str(listed) and "argon2" not in str(listed)
        with _client(app) as jiro:
            jiro_csrf = jiro.post("/auth/login", json={"name": "jiro",
                                                       "password": "jiro-password-1"}
                                  ).json()["csrf"]
            assert c.delete("/api/users/jiro", headers=csrf).status_code == 204
            # Removed: the session ends at once.
            r = jiro.post("/api/hubs", json=HUB, headers={"X-CSRF-Token": jiro_csrf})
            assert r.status_code == 401
        r = c.delete("/api/users/kanri", headers=csrf)
        assert r.status_code == 409 and "最後の管理者" in r.json()["error"]
        assert c.delete("/api/users/nobody", headers=csrf).status_code == 404
        audit = c.get("/api/audit", params={"limit": 5}).json()
        assert [(e["action"], e["by"], e["details"].get("name")) for e in audit[:2]] == [
            ("remove user", "kanri", "jiro"), ("sign in", "jiro", None)]
        assert ("add user", "kanri", "jiro") in [
            (e["action"], e["by"], e["details"].get("name")) for e in audit]


def test_hub_history_and_the_audit_show_who(app: Any) -> None:
    with _client(app) as c:
        csrf = {"X-CSRF-Token": _sign_in(c, "hanako")}
        hub = c.post("/api/hubs", json=HUB, headers=csrf).json()
        c.patch(f"/api/hubs/{hub['id']}", json={"version": 1, "schedule": "週2回"},
                headers=csrf)
        history = c.get(f"/api/hubs/{hub['id']}/history").json()
        assert [(h["action"], h["by"]) for h in history] == [("add hub", "hanako"),
                                                              ("update hub", "hanako")]
        assert history[1]["changes"] == {"schedule": [None, "週2回"]}
        audit = c.get("/api/audit").json()
        assert audit[0]["action"] == "update hub" and audit[0]["by"] == "hanako"
        assert audit[0]["details"]["id"] == hub["id"]
        assert {"at", "by", "action", "details"} == set(audit[0])
        assert c.get("/api/audit", params={"limit": 0}).status_code == 422
    with _client(app) as viewer:
        _sign_in(viewer, "miru")
        assert viewer.get("/api/audit").status_code == 403
        assert viewer.get(f"/api/hubs/{hub['id']}/history").status_code == 200  # a read
    with _client(app) as anonymous:
        assert anonymous.get("/api/audit").status_code == 401


def test_uploads_are_recorded_with_who(app: Any, ws: Path) -> None:
    with _client(app) as c:
        csrf = {"X-CSRF-Token": _sign_in(c, "hanako")}
        r = c.post("/api/imports/hubs", params={"type": "salon", "name_field": "name"},
                   headers=csrf, files={"file": ("salons.csv",
                                                 b"name,lon,lat\nx,134.82,35.545\n")})
        assert r.status_code == 200, r.text
        entry = c.get("/api/audit", params={"limit": 1}).json()[0]
        assert entry["action"] == "import hubs" and entry["by"] == "hanako"
        assert entry["details"]["file"] == "salons.csv"


# -- a real server ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(ws: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kenmap.cli import main; main()", "serve", str(ws),
         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("the server did not start")
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_real_server_signs_people_in(served: tuple[str, subprocess.Popen[str]]) -> None:
    base, proc = served
    assert proc.stdout is not None
    said = [proc.stdout.readline(), proc.stdout.readline()]
    assert "公開しています" in said[0]
    assert "サインイン: ユーザー 3 人" in said[1] and "admin 1" in said[1], said
    with httpx.Client(base_url=base) as c:
        r = c.post("/auth/login", json={"name": "hanako", "password": PASSWORDS["hanako"]})
        assert r.status_code == 200
        _, attributes = _set_cookie(r)
        assert {"httponly", "secure", "samesite=strict"} <= {
            a.strip().lower() for a in attributes.split(";")}
        # httpx keeps Secure cookies for https only: send it the way a browser on
        # 127.0.0.1 (a secure context) does.
        cookie = {"Cookie": f"kenmap_session={r.cookies['kenmap_session']}"}
        csrf = {"X-CSRF-Token": r.json()["csrf"], **cookie}
        assert c.post("/api/hubs", json=HUB, headers=cookie).status_code == 403
        r = c.post("/api/hubs", json=HUB, headers=csrf)
        assert r.status_code == 201, r.text
        assert c.post("/auth/logout", headers=csrf).status_code == 204
        assert c.post("/api/hubs", json=HUB, headers=csrf).status_code == 401


@pytest.mark.parametrize(("host", "users", "token", "needles", "warned"), [
    ("127.0.0.1", True, False, ["サインイン: ユーザー 3 人（viewer 1・editor 1・admin 1）"], False),
    ("0.0.0.0", True, True, ["サインイン", "bearer トークン"], True),
    ("192.168.1.5", False, True, ["bearer トークンでのみ編集できます"], True),
    ("localhost", False, False, ["閲覧のみ"], False),
    ("0.0.0.0", False, False, ["閲覧のみ"], False),  # nothing to sign in with, nothing to leak
])
def test_serve_says_how_people_get_in(demo_copy_ws: Path, users_master: Path, host: str,
                                      users: bool, token: bool, needles: list[str],
                                      warned: bool, tmp_path: Path) -> None:
    from kenmap.api.server import sign_in_notes

    path = shutil.copy(users_master, tmp_path / "w.gpkg") if users else demo_copy_ws
    text = "\n".join(sign_in_notes(Path(path), host, token))
    assert all(n in text for n in needles), text
    assert ("HTTPS" in text) is warned, text
