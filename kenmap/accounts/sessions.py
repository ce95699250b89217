"""Sign-in sessions: a random id in the browser's cookie, its SHA-256 in the workspace.

A session carries its user, a CSRF token the pages send back with every write, and an expiry
pushed back while the user keeps working (``settings.SESSION_IDLE_H`` of idleness ends it).
Only ids made here are ever found: a value a client invents matches no stored hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kenmap.accounts.users import USERS, User
from kenmap.model import settings
from kenmap.workspace import Edit, Workspace
from kenmap.workspace.gpkg import now, table_exists

SESSIONS = "kenmap_sessions"
_SESSION_COLUMNS = ("fid INTEGER PRIMARY KEY AUTOINCREMENT, id_sha256 TEXT NOT NULL UNIQUE, "
                    "user TEXT NOT NULL, csrf TEXT NOT NULL, created TEXT NOT NULL, expires "
                    "TEXT NOT NULL")
#: What :func:`secrets.token_urlsafe` makes; anything else is not looked up at all.
_ID = re.compile(r"[A-Za-z0-9_-]{32,128}")


@dataclass(frozen=True)
class Session:
    """A live session: whose it is (with their current role), its CSRF token, its expiry."""

    user: str
    role: str
    csrf: str
    expires: str
    #: The SHA-256 of the session id (what the workspace stores).
    key: str

    def due_for_touch(self) -> bool:
        """Whether the expiry was last pushed back more than ``SESSION_TOUCH_S`` ago."""
        left = datetime.fromisoformat(self.expires) - datetime.now(UTC)
        return left < timedelta(hours=settings.SESSION_IDLE_H,
                                seconds=-settings.SESSION_TOUCH_S)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def _expiry() -> str:
    return (datetime.now(UTC) + timedelta(hours=settings.SESSION_IDLE_H)
            ).isoformat(timespec="seconds")


def start_session(ws: Workspace, user: User, *, replacing: str | None = None
                  ) -> tuple[str, Session]:
    """A new session for ``user``: returns its id (for the cookie) and the session. The
    session named by ``replacing`` (the cookie sent with the sign-in) ends, so every sign-in
    gets a new id; expired sessions are cleared on the way."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    key = _digest(session_id)
    expires = _expiry()
    with ws.edit() as change:
        change.ensure_table(SESSIONS, _SESSION_COLUMNS,
                            "kenmap: workbench sign-in sessions (SHA-256 of their ids)")
        change.con.execute(f'DELETE FROM "{SESSIONS}" WHERE expires < ?', (now(),))
        if replacing is not None and _ID.fullmatch(replacing):
            change.delete(SESSIONS, "id_sha256", _digest(replacing))
        change.insert(SESSIONS, {"id_sha256": key, "user": user.name, "csrf": csrf,
                                 "created": now(), "expires": expires})
        change.log("sign in", by=user.name)
    return session_id, Session(user.name, user.role, csrf, expires, key)


def find_session(ws: Workspace, session_id: str | None) -> Session | None:
    """The live session with this id, with its user's current role; None when the id was
    never issued, has expired or its user was removed."""
    if not session_id or not _ID.fullmatch(session_id):
        return None
    rows = ws.records(SESSIONS, {"id_sha256": _digest(session_id)})
    if not rows or str(rows[0]["expires"]) < now():
        return None
    row = rows[0]
    users = ws.records(USERS, {"name": row["user"]})
    if not users:
        return None
    return Session(str(row["user"]), str(users[0]["role"]), str(row["csrf"]),
                   str(row["expires"]), str(row["id_sha256"]))


def touch_session(ws: Workspace, session: Session) -> None:
    """Push the session's expiry back to ``SESSION_IDLE_H`` from now."""
    with ws.edit() as change:
        if table_exists(change.con, SESSIONS):
            change.update(SESSIONS, "id_sha256", session.key, {"expires": _expiry()})


def end_session(ws: Workspace, session_id: str | None) -> str | None:
    """End the session with this id (signing out); returns whose it was, or None."""
    if not session_id or not _ID.fullmatch(session_id):
        return None
    with ws.edit() as change:
        rows = change.records(SESSIONS, {"id_sha256": _digest(session_id)})
        if not rows:
            return None
        change.delete(SESSIONS, "id_sha256", _digest(session_id))
        change.log("sign out", by=str(rows[0]["user"]))
    return str(rows[0]["user"])


def end_sessions_of(change: Edit, name: str) -> None:
    """End every session of the user ``name`` (removed, or given a new password)."""
    if table_exists(change.con, SESSIONS):
        change.delete(SESSIONS, "user", name)
