"""What stands between the network and kenmap: host names, body sizes, error bodies.

Each guard is plain ASGI or a FastAPI exception handler, so the rules hold for every route,
including FastAPI's own parse and validation errors: every error body is an ``ApiError``
(``error``, ``file``, ``row``, ``field``) in Japanese, and no server path appears in it.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kenmap.errors import KenmapError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paths of the machine (temporary folders, the workspace) must not reach a client.
_PATHS = re.compile(r"(/(?:tmp|var|home|root|private|Users|work|srv|opt)/[^\s'\"]*)")


def error_body(message: str, *, file: str | None = None, row: int | None = None,
               field: str | None = None) -> dict[str, Any]:
    """An ``ApiError`` body, with any server path reduced to its file name."""
    def clean(text: str | None) -> str | None:
        return None if text is None else _PATHS.sub(lambda m: m.group(1).rsplit("/", 1)[-1],
                                                    text)
    return {"error": clean(message), "file": clean(file), "row": row, "field": field}


def error_response(status: int, message: str, *, field: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, field=field), status_code=status, headers=headers)


def allowed_hosts(bind: str, extra: list[str] | None) -> set[str] | None:
    """Host names the server answers to; None means any (a server bound to all addresses
    with no --allowed-host given)."""
    names = {h.strip().lower() for h in (extra or []) if h.strip()}
    if bind in ("0.0.0.0", "::", "") and not names:
        return None
    names |= {bind.lower(), "localhost", "127.0.0.1", "::1", "[::1]"}
    return names


class PathCheck:
    """Refuse paths holding control characters (``/maps/%0A``): no route should see them
    (a regular expression's ``$`` matches before a final newline)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(ord(c) < 32 or ord(c) == 127
                                           for c in scope.get("path", "")):
            await error_response(404, "見つかりません（パスに制御文字があります）",
                                 field="path")(scope, receive, send)
            return
        await self.app(scope, receive, send)


class HostCheck:
    """Refuse requests whose ``Host`` is not one of ours (DNS rebinding: a web page that makes
    a browser talk to a server on the user's laptop under another name)."""

    def __init__(self, app: ASGIApp, hosts: set[str] | None) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.hosts is not None:
            host = ""
            for key, value in scope.get("headers", []):
                if key == b"host":
                    host = value.decode("latin-1").strip().lower()
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
            if host.startswith("["):
                name = host.split("]")[0] + "]"
            if name not in self.hosts and not _is_local_ip(name, self.hosts):
                response = error_response(400, f"このサーバーはホスト名 '{name[:100]}' では"
                                               "応答しません（--allowed-host で許可できます）",
                                          field="Host")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_local_ip(name: str, hosts: set[str]) -> bool:
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback and any(h in ("127.0.0.1", "localhost") for h in hosts)


class BodyLimit:
    """Refuse a request body past ``limit`` bytes: by its declared length before reading it,
    and, for chunked bodies with no length, by counting while it streams (cut at the limit,
    never spooled whole)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"送信されたデータが上限 {self.limit:,} バイトを超えています"
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                text = value.decode("latin-1")
                if not text.isdigit():
                    await error_response(400, "Content-Length が正しくありません",
                                         field="Content-Length")(scope, receive, send)
                    return
                if int(text) > self.limit:
                    await error_response(413, message, field="file")(scope, receive, send)
                    return
        seen = 0
        started = False
        exceeded = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            event = await receive()
            if event["type"] == "http.request":
                seen += len(event.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise _TooLarge
            return event

        async def refuse() -> None:
            nonlocal started
            if not started:
                started = True
                await error_response(413, message, field="file")(scope, receive, send)

        async def watch(event: Message) -> None:
            nonlocal started
            if exceeded:  # the app's own answer to a cut body (e.g. a parse error) is dropped
                await refuse()
                return
            if event["type"] == "http.response.start":
                started = True
            await send(event)

        try:
            await self.app(scope, counted, watch)
        except _TooLarge:
            await refuse()


class _TooLarge(Exception):
    pass


def install_error_handlers(app: FastAPI) -> None:
    """Every error as an ``ApiError`` body with the right status, in Japanese."""

    @app.exception_handler(KenmapError)
    async def kenmap_error(request: Request, exc: KenmapError) -> JSONResponse:
        headers = {"Retry-After": str(getattr(exc, "retry_after", 5))} \
            if exc.http_status in (429, 503) else None
        return JSONResponse(error_body(exc.message, file=exc.file, row=exc.row,
                                       field=exc.field),
                            status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(where) or None
        detail = str(first.get("msg", "")).replace("\n", " ")[:200]
        kind = str(first.get("type", ""))
        if kind == "json_invalid" or "JSON" in detail:
            message = "JSON として読めません"
        elif kind == "missing":
            message = "必須の値がありません"
        elif kind in ("literal_error", "enum"):
            given = str(first.get("input", ""))[:60]
            allowed = str((first.get("ctx") or {}).get("expected", ""))[:300]
            message = f"'{given}' は使えない値です（使える値: {allowed}）"
        else:
            message = f"値が正しくありません（{detail}）"
        return JSONResponse(error_body(message, field=field), status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never a traceback or a server path to a client; the server log has the details.
        import logging

        logging.getLogger("kenmap").exception("internal error on %s", request.url.path)
        message = "サーバー内部のエラーです（サーバーのログに詳細があります）"
        return JSONResponse(error_body(message), status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "見つかりません", 405: "このメソッドは使えません",
                    413: "送信されたデータが大きすぎます"}
        message = messages.get(exc.status_code, str(exc.detail))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_methods_for(app, request.url.path))
        return JSONResponse(error_body(message), status_code=exc.status_code,
                            headers=headers or None)


def every_route(app: FastAPI) -> list[Any]:
    """Every route of the app, those of included routers too (FastAPI includes routers
    lazily: ``app.routes`` holds the router, not its routes)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazy inclusion: the routes are copied in
        return list(app.router.routes)
    return list(iter_route_contexts(app.router.routes))


def _methods_for(app: FastAPI, path: str) -> list[str]:
    """Every method some route offers for ``path`` (Starlette names only the first route's)."""
    from starlette.routing import Match

    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    methods: set[str] = set()
    for route in every_route(app):
        route_methods = getattr(route, "methods", None)
        if not route_methods:
            continue
        match, _ = route.matches({**scope, "method": next(iter(route_methods))})
        if match == Match.FULL:
            methods |= set(route_methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
