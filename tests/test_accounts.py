"""Workbench users on the command line (``kenmap users``), their stored hashes and sessions, and
who is recorded for each edit (hub edits, user changes, imports)."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import CliResult, digest
from helpers import ward_city
from shapely.geometry import Point

PASSWORD = "correct-horse-battery"


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    from kenmap.model.scheme import PRESETS
    from kenmap.workspace import Workspace

    return Workspace.create(tmp_path / "users.gpkg", PRESETS["yonago"], "yonago").path


@pytest.fixture
def users(run: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
          ) -> Callable[..., CliResult]:
    """``kenmap users ARGS`` with ``stdin`` (a pipe, not a terminal) as standard input."""

    def _users(*args: object, stdin: str = "") -> CliResult:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return run("users", *args)
    return _users


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_add_list_and_the_stored_hash(ws_path: Path, users: Callable[..., CliResult]) -> None:
    from argon2 import PasswordHasher

    r = users("add", ws_path, "田中", "--role", "admin", stdin=PASSWORD + "\n")
    assert r.code == 0, r.err
    assert "田中" in r.out and "admin" in r.out
    r = users("add", ws_path, "ｓｕｚｕｋｉ", "--role", "editor", stdin=PASSWORD + "2\r\n")
    assert r.code == 0, r.err
    assert users("add", ws_path, "miru", stdin=PASSWORD + "3\n").code == 0  # viewer by default
    listed = users("list", ws_path, "--format", "json")
    assert listed.code == 0
    found = json.loads(listed.out)["users"]
    assert [(u["name"], u["role"]) for u in found] == [
        ("田中", "admin"), ("suzuki", "editor"), ("miru", "viewer")]  # NFKC: full-width → ascii
    assert all(set(u) == {"name", "role", "created", "updated"} for u in found)
    table = users("list", ws_path)
    assert table.code == 0 and "suzuki" in table.out and "editor" in table.out
    # Only an Argon2id hash is stored: never the password, in any table or the file.
    stored = dict(_rows(ws_path, "SELECT name, password_hash FROM kenmap_users"))
    assert stored["田中"].startswith("$argon2id$")
    assert PasswordHasher().verify(stored["田中"], PASSWORD)
    assert PasswordHasher().verify(stored["suzuki"], PASSWORD + "2")  # the CR is not kept
    assert PASSWORD.encode() not in ws_path.read_bytes()
    assert PASSWORD not in listed.out + table.out


@pytest.mark.parametrize(("args", "stdin", "needle"), [
    (["add", "{ws}", "田中", "--role", "owner"], PASSWORD, "--role の値「owner」は使えません"),
    (["add", "{ws}", "sato", "--role", "editor"], "short\n", "8文字以上"),
    (["add", "{ws}", "sato", "--role", "editor"], "", "パスワードがありません"),
    (["add", "{ws}", "sato", "--role", "editor"], "\n", "パスワードが空です"),
    (["add", "{ws}", "token", "--role", "editor"], PASSWORD, "予約された名前"),
    (["add", "{ws}", "a/b", "--role", "editor"], PASSWORD, "スラッシュ"),
    (["add", "{ws}", "   ", "--role", "editor"], PASSWORD, "ユーザー名が空です"),
    (["add", "{ws}", "TANAKA", "--role", "editor"], PASSWORD, "「tanaka」はすでにいます"),
    (["remove", "{ws}", "nobody"], "", "ユーザー「nobody」はいません"),
    (["passwd", "{ws}", "nobody"], PASSWORD, "ユーザー「nobody」はいません"),
    (["passwd", "{ws}", "tanaka"], "1234567\n", "8文字以上"),
])
def test_bad_user_commands_say_why_in_japanese(ws_path: Path, users: Callable[..., CliResult],
                                                args: list[str], stdin: str,
                                                needle: str) -> None:
    assert users("add", ws_path, "tanaka", "--role", "admin", stdin=PASSWORD).code == 0
    before = digest(ws_path)
    r = users(*[a.replace("{ws}", str(ws_path)) for a in args], stdin=stdin)
    assert r.code == 2, r
    assert r.err.startswith("kenmap: エラー: ") and needle in r.err, r.err
    assert "Traceback" not in r.err and r.err.count("\n") == 1
    assert digest(ws_path) == before


def test_passwords_typed_at_a_terminal_must_match(ws_path: Path, run: Callable[..., CliResult],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    typed = iter([PASSWORD, PASSWORD + "x", PASSWORD, PASSWORD])
    monkeypatch.setattr(sys, "stdin", Terminal(""))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    r = run("users", "add", ws_path, "tanaka", "--role", "admin")
    assert r.code == 2 and "一致しません" in r.err
    r = run("users", "add", ws_path, "tanaka", "--role", "admin")
    assert r.code == 0, r.err


def test_the_last_admin_stays_while_others_remain(ws_path: Path,
                                                  users: Callable[..., CliResult]) -> None:
    assert users("add", ws_path, "kanri", "--role", "admin", stdin=PASSWORD).code == 0
    r = users("add", ws_path, "hanako", "--role", "editor", stdin=PASSWORD)
    assert r.code == 0 and "管理者" not in r.err  # an admin exists: no warning
    r = users("remove", ws_path, "kanri")
    assert r.code == 2 and "最後の管理者" in r.err
    assert users("add", ws_path, "kanri2", "--role", "admin", stdin=PASSWORD).code == 0
    assert users("remove", ws_path, "KANRI").code == 0  # names are case-insensitive
    assert users("remove", ws_path, "hanako").code == 0
    assert users("remove", ws_path, "kanri2").code == 0  # the last user of all may go
    assert _rows(ws_path, "SELECT name FROM kenmap_users") == []


def test_a_first_user_who_is_no_admin_is_warned(ws_path: Path,
                                                users: Callable[..., CliResult]) -> None:
    r = users("add", ws_path, "hanako", "--role", "editor", stdin=PASSWORD)
    assert r.code == 0 and "管理者（admin）がいません" in r.err


def test_passwd_changes_the_hash_and_ends_sessions(ws_path: Path,
                                                   users: Callable[..., CliResult]) -> None:
    from kenmap.accounts import check_password, find_session, start_session
    from kenmap.workspace import Workspace

    assert users("add", ws_path, "hanako", "--role", "editor", stdin=PASSWORD).code == 0
    ws = Workspace.open(ws_path)
    user = check_password(ws, "hanako", PASSWORD)
    assert user is not None and user.role == "editor"
    assert check_password(ws, "Hanako", PASSWORD) is not None
    assert check_password(ws, "hanako", PASSWORD + "!") is None
    assert check_password(ws, "nobody", PASSWORD) is None
    session_id, _ = start_session(ws, user)
    assert find_session(ws, session_id) is not None
    r = users("passwd", ws_path, "hanako", stdin="a-new-password\n")
    assert r.code == 0, r.err
    assert check_password(ws, "hanako", PASSWORD) is None
    assert check_password(ws, "hanako", "a-new-password") is not None
    assert find_session(ws, session_id) is None  # signed out everywhere


def test_removing_a_user_ends_their_sessions(ws_path: Path,
                                             users: Callable[..., CliResult]) -> None:
    from kenmap.accounts import check_password, find_session, start_session
    from kenmap.workspace import Workspace

    assert users("add", ws_path, "kanri", "--role", "admin", stdin=PASSWORD).code == 0
    assert users("add", ws_path, "hanako", "--role", "editor", stdin=PASSWORD).code == 0
    ws = Workspace.open(ws_path)
    user = check_password(ws, "hanako", PASSWORD)
    assert user is not None
    session_id, _ = start_session(ws, user)
    assert users("remove", ws_path, "hanako").code == 0
    assert find_session(ws, session_id) is None
    assert _rows(ws_path, "SELECT user FROM kenmap_sessions") == []


def test_user_changes_are_in_the_audit_trail(ws_path: Path,
                                             users: Callable[..., CliResult]) -> None:
    from kenmap.accounts import audit_entries
    from kenmap.workspace import Workspace
    from kenmap.workspace.gpkg import os_user

    users("add", ws_path, "kanri", "--role", "admin", stdin=PASSWORD)
    users("add", ws_path, "hanako", "--role", "editor", stdin=PASSWORD)
    users("passwd", ws_path, "hanako", stdin=PASSWORD + "2")
    users("remove", ws_path, "hanako")
    entries = audit_entries(Workspace.open(ws_path))
    assert [(e["action"], e["details"].get("name")) for e in entries[:4]] == [
        ("remove user", "hanako"), ("change password", "hanako"), ("add user", "hanako"),
        ("add user", "kanri")]
    assert {e["by"] for e in entries[:4]} == {os_user()}
    assert all(PASSWORD not in str(e) for e in entries)


def _inside(ws: object, dx: float = 500.0) -> tuple[float, float]:
    point = gpd.GeoSeries([Point(-60_000.0 + dx, -80_000.0 + 500)], crs=6673).to_crs(4326)
    return float(point.iloc[0].x), float(point.iloc[0].y)


def test_hub_edits_record_who(tmp_path: Path) -> None:
    from kenmap.accounts import audit_entries
    from kenmap.hubs.edits import add_hub, delete_hub, hub_history, update_hub
    from kenmap.workspace.gpkg import os_user

    ws = ward_city(tmp_path)
    lon, lat = _inside(ws)
    # The first hub creates the table (a bulk transaction); later ones are small edits.
    first = add_hub(ws, {"type": "salon", "name": "本町サロン", "lon": lon, "lat": lat})
    second = add_hub(ws, {"type": "salon", "name": "二丁目サロン", "lon": lon, "lat": lat},
                     by="hanako")
    update_hub(ws, second["id"], 1, {"name": "二丁目のサロン"}, by="jiro")
    ws.actor = "token"  # the server's writes name whom they act for this way
    delete_hub(ws, first["id"], 1)
    assert [(h["action"], h["by"]) for h in hub_history(ws, first["id"])] == [
        ("add hub", os_user()), ("delete hub", "token")]
    history = hub_history(ws, second["id"])
    assert [(h["action"], h["by"]) for h in history] == [("add hub", "hanako"),
                                                          ("update hub", "jiro")]
    assert history[1]["changes"] == {"name": ["二丁目サロン", "二丁目のサロン"]}
    actions = [(e["action"], e["by"]) for e in audit_entries(ws)]
    assert actions[:3] == [("delete hub", "token"), ("update hub", "jiro"),
                           ("add hub", "hanako")]


def test_imports_record_who_and_only_the_file_name(tmp_path: Path) -> None:
    from kenmap.accounts import audit_entries
    from kenmap.hubs.imports import import_hubs

    ws = ward_city(tmp_path)
    lon, lat = _inside(ws)
    folder = tmp_path / "private-upload-folder"
    folder.mkdir()
    csv = folder / "salons.csv"
    csv.write_text(f"name,lon,lat\n本町サロン,{lon},{lat}\n", encoding="utf-8")
    ws.actor = "hanako"
    import_hubs(ws, csv, hub_type="salon", name_field="name", lon_field="lon",
                lat_field="lat")
    entry = audit_entries(ws, limit=1)[0]
    assert entry["action"] == "import hubs" and entry["by"] == "hanako"
    assert entry["details"]["file"] == "salons.csv"
    assert "private-upload-folder" not in str(audit_entries(ws))
