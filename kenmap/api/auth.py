"""Who is asking: sign-in sessions, the bearer token, roles, CSRF and the sign-in rate limit.

Reads need no one. Every write endpoint depends on :attr:`Auth.editor` or :attr:`Auth.admin`,
which answer 401 when nobody is signed in, 403 when the role is too low, and 403 for every
write when the server is read-only (no users and no token). Two ways in:

* a browser signs in (``POST /auth/login``) and gets the ``kenmap_session`` cookie (HttpOnly,
  SameSite=Strict, Secure over HTTPS and on localhost) with a CSRF token it must send back as
  ``X-CSRF-Token`` on every unsafe request: SameSite keeps other sites' requests from
  carrying the cookie in today's browsers, the token does in any browser;
* a script sends ``Authorization: Bearer TOKEN`` (``--token-file``), which acts as admin and
  needs no CSRF header (browsers never send it by themselves).
"""
# No ``from __future__ import annotations``: FastAPI reads the routes' annotations (dependency
# aliases local to Auth.router) at run time.

import hmac
import logging
import threading
import unicodedata
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyCookie, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from kenmap.accounts import (
    add_user,
    audit_entries,
    check_password,
    end_session,
    find_session,
    has_users,
    list_users,
    remove_user,
    role_allows,
    start_session,
)
from kenmap.accounts.limits import SignInLimiter
from kenmap.accounts.sessions import Session, touch_session
from kenmap.api.views import Views
from kenmap.errors import AccessError, AuthenticationError, KenmapError, TooManyAttemptsError
from kenmap.model import settings
from kenmap.workspace import StorageError, Workspace

COOKIE = "kenmap_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Hosts on which browsers keep Secure cookies over plain HTTP (they are secure contexts).
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
READ_ONLY = ("このサーバーは読み取り専用です（編集を許すには kenmap users add でユーザーを追加"
             "するか、--token-file か KENMAP_TOKEN を付けて起動してください）")
ROLE_LABELS = {"viewer": "閲覧者（viewer）", "editor": "編集者（editor）",
               "admin": "管理者（admin）"}
Role = Literal["viewer", "editor", "admin"]

_log = logging.getLogger("kenmap")
# Documented in the OpenAPI schema (the Authorize button of /docs); the checks are Auth's own.
_BEARER = HTTPBearer(auto_error=False, scheme_name="token",
                     description="The server's bearer token (--token-file or KENMAP_TOKEN); "
                                 "acts as admin, needs no CSRF header.")
_SESSION = APIKeyCookie(name=COOKIE, auto_error=False, scheme_name="session",
                        description="Set by POST /auth/login. Unsafe requests must also send "
                                    "the session's CSRF token as X-CSRF-Token.")


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: a user's ``name`` and ``role``, or ``token`` (admin)."""

    name: str
    role: str
    #: ``session`` (a signed-in browser) or ``token`` (the bearer token).
    via: str
    #: The session's CSRF token (None for the bearer token).
    csrf: str | None = None


#: The principal the current request was let in as (set by the role dependencies).
_ACTING: ContextVar[Principal | None] = ContextVar("kenmap_acting", default=None)


def acting() -> Principal | None:
    """Who the current request acts for, once a role dependency let it in (else None)."""
    return _ACTING.get()


class Credentials(BaseModel):
    """A sign-in."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class SignedIn(BaseModel):
    """Who is now signed in, and the CSRF token to send as X-CSRF-Token."""

    user: str
    role: Role
    csrf: str


class Me(BaseModel):
    """Who this browser is signed in as (all None when nobody), and how this server lets
    people in: ``sign_in`` (it has users), ``read_only`` (nobody can write)."""

    user: str | None
    role: Role | None
    csrf: str | None
    read_only: bool
    sign_in: bool


class NewUser(BaseModel):
    """A user to add."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    role: Role
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    """A user (never with a password or its hash)."""

    name: str
    role: Role
    created: str
    updated: str


class UserList(BaseModel):
    users: list[UserOut]


class AuditEntry(BaseModel):
    """One entry of the audit trail."""

    at: str | None
    by: str | None
    action: str | None
    details: dict[str, Any]


def _name_key(name: str) -> str:
    return "name:" + unicodedata.normalize("NFKC", name).strip().casefold()


def _secure(request: Request) -> bool:
    """Whether the cookie may be marked Secure: browsers keep it over HTTPS and on loopback
    names only, and a cookie they drop would make signing in impossible."""
    return request.url.scheme == "https" or (request.url.hostname or "") in LOOPBACK


def _same_origin(request: Request) -> None:
    """Refuse a sign-in or sign-out posted by another site's page (login CSRF)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "").lower()
    if origin == "null" or urlsplit(origin).netloc.lower() != host:
        raise AccessError("ほかのサイトからのサインイン・サインアウトは受け付けません",
                          field="Origin")


class Auth:
    """Sign-in and roles for one served workspace; made once in ``create_app``.

    :attr:`viewer`, :attr:`editor` and :attr:`admin` are FastAPI dependencies returning the
    :class:`Principal`; :meth:`router` serves ``/auth/*``, ``/api/users`` and ``/api/audit``.
    """

    def __init__(self, views: Views, token: str | None) -> None:
        self.views = views
        self.token = token
        self.limiter = SignInLimiter()
        self._checks = anyio.CapacityLimiter(settings.SIGN_IN_SLOTS)
        self._touching: set[str] = set()
        self.viewer = self._requiring("viewer")
        self.editor = self._requiring("editor")
        self.admin = self._requiring("admin")

    # -- who is asking -----------------------------------------------------------------------
    async def _has_users(self) -> bool:
        return await anyio.to_thread.run_sync(lambda: has_users(self.views.workspace()))

    async def _session(self, request: Request) -> Session | None:
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        found = await anyio.to_thread.run_sync(
            lambda: find_session(self.views.workspace(), cookie))
        if found is not None and found.due_for_touch() and found.key not in self._touching:
            self._touching.add(found.key)
            threading.Thread(target=self._touch, args=(found,), daemon=True).start()
        return found

    def _touch(self, found: Session) -> None:
        """Push a session's expiry back, off the request (it waits for the write lock)."""
        try:
            touch_session(self.views.writer(), found)
        except (OSError, StorageError, KenmapError):  # extended on a later request
            _log.exception("could not extend a session")
        finally:
            self._touching.discard(found.key)

    def _bearer(self, header: str) -> Principal:
        scheme, _, given = header.partition(" ")
        if self.token is None:
            raise AuthenticationError("このサーバーは bearer トークンを受け付けていません"
                                      "（サインインしてください）", field="Authorization")
        if scheme != "Bearer" or not hmac.compare_digest(given.strip().encode(),
                                                         self.token.encode()):
            raise AuthenticationError("有効な bearer トークンが必要です"
                                      "（Authorization: Bearer TOKEN）", field="Authorization")
        return Principal("token", "admin", "token")

    async def identify(self, request: Request) -> Principal | None:
        """Who the request acts for, or None; a wrong bearer token is refused (401)."""
        header = request.headers.get("authorization")
        if header is not None:
            return self._bearer(header)
        found = await self._session(request)
        if found is None:
            return None
        return Principal(found.user, found.role, "session", found.csrf)

    async def require(self, request: Request, role: str) -> Principal:
        """The principal of a request that needs ``role``, or the refusal: 403 on a
        read-only server, 401 without valid credentials, 403 without the CSRF token on an
        unsafe request signed in by cookie, 403 when the role is too low."""
        users: bool | None = None
        if self.token is None:
            users = await self._has_users()
            if not users:
                raise AccessError(READ_ONLY)
        principal = await self.identify(request)
        if principal is None:
            if users is None:
                users = await self._has_users()
            if not users:  # the token is the only way in
                raise AuthenticationError("有効な bearer トークンが必要です"
                                          "（Authorization: Bearer TOKEN）",
                                          field="Authorization")
            raise AuthenticationError("この操作にはサインインが必要です")
        if principal.via == "session" and request.method in UNSAFE:
            given = request.headers.get(CSRF_HEADER, "")
            if not given or not hmac.compare_digest(given.encode(),
                                                    str(principal.csrf).encode()):
                raise AccessError("CSRF トークンがないか正しくありません（画面を読み込み直して"
                                  "ください）", field=CSRF_HEADER)
        if not role_allows(principal.role, role):
            more = "" if role == settings.ROLES[-1] else "以上"
            raise AccessError(f"この操作には{ROLE_LABELS[role]}{more}の権限が必要です"
                              f"（{principal.name} は{ROLE_LABELS.get(principal.role, '?')}）")
        _ACTING.set(principal)
        return principal

    def _requiring(self, role: str) -> Callable[..., Any]:
        async def dependency(request: Request, _token: Annotated[Any, Depends(_BEARER)],
                             _session: Annotated[Any, Depends(_SESSION)]) -> Principal:
            return await self.require(request, role)
        dependency.__name__ = f"signed_in_{role}"
        return dependency

    # -- routes ------------------------------------------------------------------------------
    def router(self, errors: dict[int | str, dict[str, Any]]) -> APIRouter:
        """``/auth/me``, ``/auth/login``, ``/auth/logout``, ``/api/users`` (admin) and
        ``/api/audit`` (editor)."""
        router = APIRouter()
        Admin = Annotated[Principal, Depends(self.admin)]
        no_store = {"Cache-Control": "no-store"}

        @router.get("/auth/me", response_model=Me, tags=["auth"])
        async def me(request: Request) -> JSONResponse:
            """Who this browser is signed in as, its CSRF token, and whether the server has
            users (``sign_in``) or lets nobody write (``read_only``)."""
            try:
                principal = await self.identify(request)
            except AuthenticationError:
                principal = None
            users = await self._has_users()
            return JSONResponse({"user": principal.name if principal else None,
                                 "role": principal.role if principal else None,
                                 "csrf": principal.csrf if principal else None,
                                 "read_only": self.token is None and not users,
                                 "sign_in": users}, headers=no_store)

        @router.post("/auth/login", response_model=SignedIn, responses=errors, tags=["auth"])
        async def login(credentials: Credentials, request: Request) -> JSONResponse:
            """Sign in: sets the ``kenmap_session`` cookie (a new id every time) and returns
            the CSRF token. 401 for a wrong name or password alike; 429 after
            ``SIGN_IN_MAX_FAILURES`` failures for one name or from one address."""
            _same_origin(request)
            address = "addr:" + (request.client.host if request.client else "?")
            keys = (_name_key(credentials.name), address)
            wait = self.limiter.retry_after(*keys)
            if wait:
                raise TooManyAttemptsError(f"サインインの失敗が続いたため、{wait} 秒後まで受け付け"
                                           "ません", retry_after=wait)
            user = await anyio.to_thread.run_sync(
                lambda: check_password(self.views.writer(), credentials.name,
                                       credentials.password), limiter=self._checks)
            if user is None:
                self.limiter.failed(*keys)
                _log.warning("sign-in failed for %r from %s", credentials.name[:64], address)
                raise AuthenticationError("名前かパスワードが違います", field="password")
            self.limiter.succeeded(keys[0])
            old = request.cookies.get(COOKIE)
            session_id, session = await anyio.to_thread.run_sync(
                lambda: start_session(self.views.writer(), user, replacing=old))
            response = JSONResponse({"user": session.user, "role": session.role,
                                     "csrf": session.csrf}, headers=no_store)
            response.set_cookie(COOKIE, session_id, path="/", httponly=True, samesite="strict",
                                secure=_secure(request))
            return response

        @router.post("/auth/logout", status_code=204, responses=errors, tags=["auth"])
        async def logout(request: Request) -> Response:
            """Sign out: the session is deleted on the server and the cookie cleared. Needs
            the session's X-CSRF-Token."""
            _same_origin(request)
            found = await self._session(request)
            if found is not None:
                given = request.headers.get(CSRF_HEADER, "")
                if not given or not hmac.compare_digest(given.encode(), found.csrf.encode()):
                    raise AccessError("CSRF トークンがないか正しくありません", field=CSRF_HEADER)
                cookie = request.cookies.get(COOKIE)
                await anyio.to_thread.run_sync(lambda: end_session(self.views.writer(), cookie))
            response = Response(status_code=204, headers=no_store)
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                                   secure=_secure(request))
            return response

        @router.get("/api/users", response_model=UserList, responses=errors, tags=["users"])
        async def users(_: Admin) -> dict[str, Any]:
            """The users (admin only)."""
            found = await anyio.to_thread.run_sync(lambda: list_users(self.views.workspace()))
            return {"users": [u.to_dict() for u in found]}

        @router.post("/api/users", status_code=201, response_model=UserOut, responses=errors,
                     tags=["users"])
        async def create_user(new: NewUser, who: Admin) -> dict[str, Any]:
            """Add a user (admin only); the password is stored as an Argon2id hash."""
            user = await anyio.to_thread.run_sync(
                lambda: add_user(self._writer(who), new.name, new.role, new.password),
                limiter=self._checks)
            return user.to_dict()

        @router.delete("/api/users/{name}", status_code=204, responses=errors, tags=["users"])
        async def delete_user(name: Annotated[str, PathParam(min_length=1, max_length=64)],
                              who: Admin) -> Response:
            """Remove a user and end their sessions (admin only; the last admin stays while
            other users remain)."""
            await anyio.to_thread.run_sync(lambda: remove_user(self._writer(who), name))
            return Response(status_code=204)

        @router.get("/api/audit", response_model=list[AuditEntry], responses=errors,
                    tags=["users"])
        async def audit(_: Annotated[Principal, Depends(self.editor)],
                        limit: Annotated[int, Query(ge=1, le=1000)] = 100
                        ) -> list[dict[str, Any]]:
            """The newest entries of the audit trail (editors and admins): when, who, what —
            hub edits, imports, user changes and sign-ins."""
            return await anyio.to_thread.run_sync(
                lambda: audit_entries(self.views.workspace(), limit))

        return router

    def _writer(self, who: Principal) -> Workspace:
        """A workspace object for one write on behalf of ``who`` (its log says so)."""
        ws = self.views.writer()
        ws.actor = who.name
        return ws
