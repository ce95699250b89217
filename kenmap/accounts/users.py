"""Users of the workbench: a name, a role and an Argon2id password hash, never the password.

Every change is one edit of the workspace under its write lock, logged with who made it, so
two admins (or an admin and the command line) cannot both remove "the other" last admin.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from kenmap.errors import ConflictError, KenmapError, NotFoundError
from kenmap.model import settings
from kenmap.workspace import Edit, Workspace
from kenmap.workspace.gpkg import now

if TYPE_CHECKING:
    from argon2 import PasswordHasher

USERS = "kenmap_users"
_USER_COLUMNS = ("fid INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, role TEXT "
                 "NOT NULL, password_hash TEXT NOT NULL, created TEXT NOT NULL, updated TEXT "
                 "NOT NULL")
#: Names that would read as something else in the edit log.
_RESERVED = {"token", "cli"}
_MAX_NAME = 64
_MAX_PASSWORD = 1024


@dataclass(frozen=True)
class User:
    """A user of the workbench as stored (without the hash)."""

    name: str
    role: str
    created: str
    updated: str

    def to_dict(self) -> dict[str, Any]:
        """The user as a JSON-ready mapping."""
        return asdict(self)


@functools.cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()  # Argon2id with the library's RFC 9106 parameters


@functools.cache
def _dummy_hash() -> str:
    """A hash checked for unknown names, so they take as long as a wrong password."""
    return _hasher().hash("kenmap: no such user")


def user_name(text: str) -> str:
    """A user name as stored: NFKC (full-width letters and digits as half-width), trimmed;
    refused when empty, too long, reserved or holding control characters or a slash."""
    name = unicodedata.normalize("NFKC", str(text)).strip()
    if not name:
        raise KenmapError("ユーザー名が空です", field="name")
    if len(name) > _MAX_NAME:
        raise KenmapError(f"ユーザー名は{_MAX_NAME}文字以内にしてください", field="name")
    if any(unicodedata.category(c).startswith("C") or c in "/\\" for c in name):
        raise KenmapError("ユーザー名に制御文字やスラッシュは使えません", field="name")
    if name.casefold() in _RESERVED:
        raise KenmapError(f"「{name}」は予約された名前です（別の名前にしてください）",
                          field="name")
    return name


def _check_role(role: str) -> str:
    if role not in settings.ROLES:
        raise KenmapError(f"役割「{role}」は使えません（使える役割: {', '.join(settings.ROLES)}）",
                          field="role")
    return role


def _check_password(password: str) -> str:
    if not password:
        raise KenmapError("パスワードが空です", field="password")
    if len(password) < settings.MIN_PASSWORD_LENGTH:
        raise KenmapError(f"パスワードは{settings.MIN_PASSWORD_LENGTH}文字以上にしてください",
                          field="password")
    if len(password) > _MAX_PASSWORD:
        raise KenmapError(f"パスワードは{_MAX_PASSWORD}文字以内にしてください", field="password")
    return password


def role_allows(role: str | None, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (admin ⊃ editor ⊃ viewer)."""
    if role not in settings.ROLES:
        return False
    return settings.ROLES.index(role) >= settings.ROLES.index(needed)


def _user(row: dict[str, Any]) -> User:
    return User(str(row["name"]), str(row["role"]), str(row["created"]), str(row["updated"]))


def _matching(rows: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The stored row for ``name``: names are told apart case-insensitively, so 'Tanaka'
    and 'tanaka' are one user."""
    key = unicodedata.normalize("NFKC", name).strip().casefold()
    return next((r for r in rows if str(r["name"]).casefold() == key), None)


def list_users(ws: Workspace) -> list[User]:
    """Every user, in the order they were added."""
    return [_user(r) for r in ws.records(USERS)]


def has_users(ws: Workspace) -> bool:
    """Whether anyone can sign in to this workspace."""
    return bool(ws.records(USERS))


def find_user(ws: Workspace, name: str) -> User | None:
    """The user called ``name`` (case-insensitive), or None."""
    row = _matching(ws.records(USERS), name)
    return _user(row) if row else None


def _refuse_taken(rows: list[dict[str, Any]], name: str) -> None:
    taken = _matching(rows, name)
    if taken is not None:
        raise ConflictError(f"ユーザー「{taken['name']}」はすでにいます", field="name")


def add_user(ws: Workspace, name: str, role: str, password: str) -> User:
    """Add a user; refused when the name is taken (in any case), the role unknown or the
    password shorter than ``settings.MIN_PASSWORD_LENGTH``."""
    name = user_name(name)
    _check_role(role)
    _refuse_taken(ws.records(USERS), name)
    digest = _hasher().hash(_check_password(password))
    with ws.edit() as change:
        change.ensure_table(USERS, _USER_COLUMNS, "kenmap: workbench users (Argon2id hashes)")
        _refuse_taken(change.records(USERS), name)  # again under the lock
        stamp = now()
        change.insert(USERS, {"name": name, "role": role, "password_hash": digest,
                              "created": stamp, "updated": stamp})
        change.log("add user", name=name, role=role)
    return User(name, role, stamp, stamp)


def _existing(change: Edit, name: str) -> dict[str, Any]:
    row = _matching(change.records(USERS), name)
    if row is None:
        raise NotFoundError(f"ユーザー「{name}」はいません", field="name")
    return row


def remove_user(ws: Workspace, name: str) -> User:
    """Remove a user and end their sessions; returns who was removed. The last admin cannot
    be removed while other users remain (nobody could manage them any more)."""
    from kenmap.accounts.sessions import end_sessions_of

    with ws.edit() as change:
        row = _existing(change, name)
        rows = change.records(USERS)
        admins = [r for r in rows if r["role"] == "admin" and r["name"] != row["name"]]
        if row["role"] == "admin" and not admins and len(rows) > 1:
            raise ConflictError(f"「{row['name']}」は最後の管理者（admin）です: ほかのユーザーが"
                                "いる間は削除できません（先に別の管理者を追加してください）",
                                field="name")
        change.delete(USERS, "name", row["name"])
        end_sessions_of(change, str(row["name"]))
        change.log("remove user", name=row["name"], role=row["role"])
    return _user(row)


def set_password(ws: Workspace, name: str, password: str) -> User:
    """Give a user a new password; their sessions end (signed in elsewhere with the old one)."""
    from kenmap.accounts.sessions import end_sessions_of

    digest = _hasher().hash(_check_password(password))
    with ws.edit() as change:
        row = _existing(change, name)
        stamp = now()
        change.update(USERS, "name", row["name"], {"password_hash": digest, "updated": stamp})
        end_sessions_of(change, str(row["name"]))
        change.log("change password", name=row["name"])
    return User(str(row["name"]), str(row["role"]), str(row["created"]), stamp)


def check_password(ws: Workspace, name: str, password: str) -> User | None:
    """The user when ``password`` is theirs, else None — as slowly for an unknown name as for
    a wrong password, so the answer does not tell which names exist. A hash made with older
    parameters is replaced by one with the current ones."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        key = user_name(name)
    except KenmapError:
        key = ""
    row = _matching(ws.records(USERS), key) if key and len(password) <= _MAX_PASSWORD else None
    stored = str(row["password_hash"]) if row else _dummy_hash()
    try:
        _hasher().verify(stored, password[:_MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher().check_needs_rehash(stored):
        with ws.edit() as change:
            change.update(USERS, "name", row["name"],
                          {"password_hash": _hasher().hash(password)})
    return _user(row)
