"""The import wizard's endpoints: upload, see what was detected, dry-run, commit, history.

A GIS officer uploads a boundary file, a population table or a hub list; the server keeps it
(:mod:`kenmap.api.staging`) and says what the import will find in it (the detection lives
beside each importer: :mod:`kenmap.layers.inspect`, :mod:`kenmap.people.inspect`,
:mod:`kenmap.hubs.inspect`). A dry run runs the very import on a throw-away copy of the
workspace in a private folder and reports it with the counts before and after; the workspace
itself is not touched. A commit runs the import on the workspace (through the server's
writer) and records it, with who did it, in the workspace's edit log, which the history reads.

The steps themselves, apart from HTTP, are in :mod:`kenmap.api.wizard_steps`.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Body, Depends, File, Form, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response

from kenmap.api.staging import Uploads
from kenmap.api.views import Views
from kenmap.api.wizard_steps import (
    OPTIONS_HELP,
    DetectOptions,
    commit,
    detect,
    dry_run,
    import_history,
    validated,
)
from kenmap.model import settings
from kenmap.workspace import Workspace

Kind = Literal["areas", "population", "hubs"]
UploadId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{16,40}$")]


def _who(editor: Sequence[Any]) -> Callable[..., Any]:
    """A dependency naming who makes the request: the ``name`` of what the first editor
    dependency returns (the signed-in user), else ``token`` (the bearer token)."""
    guard = getattr(editor[0], "dependency", None) if editor else None
    if guard is None:
        def anyone() -> str:
            return "token"
        return anyone

    def principal(value: Any = Depends(guard)) -> str:
        return str(getattr(value, "name", None) or "token")
    return principal


def wizard_router(views: Views, write: Callable[..., Awaitable[Any]], editor: Sequence[Any],
                  *, max_upload: int = settings.MAX_UPLOAD_MB * 1024 * 1024,
                  max_rows: int | None = settings.MAX_IMPORT_ROWS,
                  uploads: Uploads | None = None) -> APIRouter:
    """The wizard's routes, every one guarded by ``editor`` (the dependencies of writes).

    ``write(function)`` runs ``function(workspace)`` as the server's writes run (one at a
    time, on a workspace object of its own).
    """
    from kenmap.api.app import ERRORS

    store = uploads or Uploads()
    slots = anyio.CapacityLimiter(1)  # detections and dry runs, one at a time
    who_dep = _who(editor)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield
        store.clear()

    router = APIRouter(dependencies=list(editor), responses=ERRORS, lifespan=lifespan,
                       tags=["import wizard"])

    def layers() -> list[str]:
        return [layer.key for layer in views.workspace().scheme.layers]

    @router.post("/api/wizard/uploads", status_code=201)
    async def upload(file: Annotated[UploadFile, File()], kind: Annotated[Kind, Form()],
                     encoding: Annotated[str | None, Form(max_length=40)] = None,
                     crs: Annotated[str | None, Form(max_length=200)] = None,
                     layer_name: Annotated[str | None, Form(max_length=200)] = None,
                     header_rows: Annotated[int, Form(ge=1, le=10)] = 1,
                     who: str = Depends(who_dep)) -> dict[str, Any]:
        """Keep an upload (``kind`` areas, population or hubs) and say what its import will
        find: ``detected`` = encoding, encoding_detected, crs_epsg, crs_note, count, fields
        (name, sample, numeric), rows, suggested (options), fits (layer, label, matched,
        note), notes, municipalities."""
        given = DetectOptions(encoding=encoding, crs=crs, layer_name=layer_name,
                              header_rows=header_rows)
        rows = settings.SERVER_MAX_HUB_ROWS if kind == "hubs" else max_rows

        def run() -> dict[str, Any]:
            staged = store.add(file.file, file.filename, kind=kind, owner=who,
                               limit=max_upload, max_expanded=settings.UPLOAD_MAX_EXPANDED,
                               max_rows=rows)
            try:
                with store.using(staged.id, who) as used:
                    used.detected = detect(views.workspace(), used, given)
                    return used.to_json()
            except BaseException:
                store.discard(staged.id)
                raise
        return dict(await anyio.to_thread.run_sync(run, limiter=slots))

    @router.get("/api/wizard/uploads")
    async def uploads_kept(who: str = Depends(who_dep)) -> list[dict[str, Any]]:
        """The caller's uploads still kept (without their detection)."""
        def run() -> list[dict[str, Any]]:
            return [{k: v for k, v in s.to_json().items() if k != "detected"}
                    for s in store.list(who)]
        return list(await anyio.to_thread.run_sync(run))

    @router.get("/api/wizard/uploads/{upload_id}")
    async def upload_view(upload_id: UploadId, who: str = Depends(who_dep)) -> dict[str, Any]:
        """One kept upload and what was detected in it."""
        def run() -> dict[str, Any]:
            with store.using(upload_id, who) as staged:
                return staged.to_json()
        return dict(await anyio.to_thread.run_sync(run))

    @router.post("/api/wizard/uploads/{upload_id}/detect")
    async def redetect(upload_id: UploadId, given: DetectOptions,
                       who: str = Depends(who_dep)) -> dict[str, Any]:
        """Detect again with what the detection may be told (encoding, crs, layer_name,
        header_rows)."""
        def run() -> dict[str, Any]:
            with store.using(upload_id, who) as staged:
                staged.detected = detect(views.workspace(), staged, given)
                return staged.to_json()
        return dict(await anyio.to_thread.run_sync(run, limiter=slots))

    @router.post("/api/wizard/uploads/{upload_id}/dry-run")
    async def dry_run_view(upload_id: UploadId,
                           body: Annotated[dict[str, Any], Body(description=OPTIONS_HELP)
                                           ] = {},  # noqa: B006
                           who: str = Depends(who_dep)) -> dict[str, Any]:
        """The import with these options on a throw-away copy of the workspace: ``report``
        (the import's report), ``changes`` (``before`` and ``after`` counts; for areas the
        layer's ``codes`` kept, added, removed) and ``would_write``. Nothing is written."""
        def run() -> dict[str, Any]:
            with store.using(upload_id, who) as staged:
                options = validated(staged.kind, body, layers())
                return dry_run(views, staged, options)
        return dict(await anyio.to_thread.run_sync(run, limiter=slots))

    @router.post("/api/wizard/uploads/{upload_id}/commit")
    async def commit_view(upload_id: UploadId,
                          body: Annotated[dict[str, Any], Body(description=OPTIONS_HELP)
                                          ] = {},  # noqa: B006
                          who: str = Depends(who_dep)) -> dict[str, Any]:
        """The import on the workspace: its ``report`` and its history ``entry``. The upload
        is removed once the import is done (kept when it is refused, to try again)."""
        def run(ws: Workspace) -> dict[str, Any]:
            with store.using(upload_id, who) as staged:
                options = validated(staged.kind, body, list(ws.scheme.keys)
                                     + list(ws.scheme.overlays))
                result = commit(ws, staged, options, who)
            store.discard(upload_id)
            return result
        return dict(await write(run))

    @router.delete("/api/wizard/uploads/{upload_id}", status_code=204)
    async def discard(upload_id: UploadId, who: str = Depends(who_dep)) -> Response:
        """Remove a kept upload."""
        def run() -> None:
            with store.using(upload_id, who):
                pass
            store.discard(upload_id)
        await anyio.to_thread.run_sync(run)
        return Response(status_code=204)

    @router.get("/api/imports/history")
    async def history(limit: Annotated[int, Query(ge=1, le=1000)] = 100
                      ) -> dict[str, list[dict[str, Any]]]:
        """The workspace's imports, newest first: ``at``, ``by`` (who, through the wizard;
        null for the command line), ``kind``, ``file``, ``layer``, ``title``, ``summary``
        (the report's figures), ``notes``, ``warnings``, ``via`` (wizard or other)."""
        def run() -> list[dict[str, Any]]:
            return import_history(views.workspace(), limit)
        return {"imports": await anyio.to_thread.run_sync(run)}

    return router


__all__ = ["Uploads", "wizard_router"]
