"""The FastAPI application: read endpoints open to all, writes by role (see :mod:`auth`).

Reads are computed once per workspace state and served from cache; identical requests wait for
the one computation, and at most a few computations run at once. Writes wait for their turn
without holding a worker thread. Siting runs as a heavy job in a child process with limits.
"""

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from kenmap import __version__
from kenmap.api.auth import Auth, Principal, acting
from kenmap.api.downloads import downloads_router
from kenmap.api.guards import (
    BodyLimit,
    HostCheck,
    PathCheck,
    allowed_hosts,
    install_error_handlers,
)
from kenmap.api.jobs import Figures, HeavyJobs
from kenmap.api.uploads import saved_upload
from kenmap.api.views import Views
from kenmap.api.workbench import landing, workbench_router
from kenmap.errors import KenmapError
from kenmap.hubs.edits import add_hub, delete_hub, hub_history, update_hub
from kenmap.maps.assets import asset_root
from kenmap.model import settings
from kenmap.workspace import Workspace

DEFAULT_MAX_UPLOAD = settings.MAX_UPLOAD_MB * 1024 * 1024
#: Upload zips may expand to at most this (the workspace's own imports allow more).
UPLOAD_MAX_EXPANDED = settings.UPLOAD_MAX_EXPANDED
Status = Literal["existing", "planned", "candidate"]
#: Whether the current request asked for the current answer only (Cache-Control: no-cache).
WANT_FRESH: ContextVar[bool] = ContextVar("kenmap_want_fresh", default=False)
_TEXT = {"address": 300, "schedule": 100, "host": 200, "operator": 200, "responsible": 2000}


class ApiError(BaseModel):
    """An error: the message and, where known, the file, row and field at fault."""

    error: str
    file: str | None = None
    row: int | None = None
    field: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ApiError} for code in (400, 401, 403, 404, 409, 413, 422, 429, 503)}
JSON_OK: dict[int | str, dict[str, Any]] = {
    **ERRORS, 200: {"description": "OK", "content": {"application/json": {
        "schema": {"type": "object"}}}}}


def create_app(workspace: str | os.PathLike[str], *, token: str | None = None,
               max_upload: int = DEFAULT_MAX_UPLOAD, host: str | None = None,
               extra_hosts: list[str] | None = None,
               max_rows: int | None = settings.MAX_IMPORT_ROWS,
               job_memory_mb: int | None = settings.JOB_MEMORY_MB,
               job_time_limit_s: float = settings.JOB_TIME_LIMIT_S,
               figure_process: bool = False) -> FastAPI:
    """The app serving one workspace. Writes need a signed-in user of the workspace with the
    role they ask for, or the bearer ``token`` (admin); with neither the server is read-only.

    With ``figure_process`` (``kenmap serve``) figures are computed in a child process of their
    own, so requests and edits are answered while they compute; without it (tests, embedding)
    in threads of this process.

    ``host`` is the address the server binds (``kenmap serve`` always gives it); requests
    naming another host are refused unless listed in ``extra_hosts`` (a server bound to all
    addresses with none listed answers any; an app made without ``host`` checks nothing).
    """
    path = Path(workspace)
    views = Views(path)
    ws = views.workspace()  # fail now, with a clear error, if it is not a workspace
    jobs = HeavyJobs(memory_mb=job_memory_mb, time_limit_s=job_time_limit_s)
    figures = Figures(memory_mb=job_memory_mb, time_limit_s=job_time_limit_s) \
        if figure_process else None
    slots = 1 if figures else settings.SERVER_COMPUTE_SLOTS
    compute_slots = anyio.CapacityLimiter(slots)
    write_slots = anyio.CapacityLimiter(settings.SERVER_WRITE_SLOTS)
    in_flight: dict[Any, tuple[Any, asyncio.Future[bytes]]] = {}
    finished: dict[Any, float] = {}  # when each answer was last computed (event-loop time)

    def loop_time() -> float:
        return asyncio.get_running_loop().time()
    # The scheme is fixed for a workspace and the catalogue read at start: both are enums in
    # the OpenAPI schema, so clients (and /docs) see the valid values.
    from kenmap.model.catalogue import catalogue_of

    LayerKey = Literal.__getitem__(tuple(ws.scheme.keys))
    HubType = Literal.__getitem__(tuple(catalogue_of(ws.get("hub_types")).types))
    models = _models(HubType, LayerKey)
    HubIn: Any = models["HubIn"]
    HubPatch: Any = models["HubPatch"]
    SitingIn: Any = models["SitingIn"]
    TypeEdit: Any = models["TypeEdit"]
    TypeIn: Any = models["TypeIn"]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if figures is not None:  # its interpreter starts while the server takes requests
            threading.Thread(target=figures.warm, daemon=True).start()
        yield
        jobs.stop_all()  # SIGTERM: running heavy jobs are killed, not waited for
        if figures:
            figures.stop_all()

    app = FastAPI(title="kenmap", version=__version__, docs_url=None, redoc_url=None,
                  lifespan=lifespan,
                  description="圏域 layers, hubs, aging rates and coverage. GeoJSON in "
                              "EPSG:4326. Reads are open; writes need a signed-in editor "
                              "(the kenmap_session cookie from POST /auth/login and its "
                              "X-CSRF-Token header) or the bearer token; /api/users needs an "
                              "admin.")
    install_error_handlers(app)

    @app.middleware("http")
    async def freshness(request: Request, call_next: Any) -> Response:
        wanted = "no-cache" in request.headers.get("cache-control", "").lower()
        token = WANT_FRESH.set(wanted)
        try:
            response: Response = await call_next(request)
        finally:
            WANT_FRESH.reset(token)
        return response
    app.add_middleware(BodyLimit, limit=max_upload + 1024 * 1024)
    app.add_middleware(PathCheck)
    if host is not None:
        app.add_middleware(HostCheck, hosts=allowed_hosts(host, extra_hosts))
    swagger = asset_root() / "swagger-ui-dist"
    if swagger.exists():
        app.mount("/static/swagger", StaticFiles(directory=swagger), name="swagger")

    auth = Auth(views, token)
    app.include_router(auth.router(ERRORS))
    #: Who a write acts for; hub edits, siting and imports need an editor.
    Editor = Annotated[Principal, Depends(auth.editor)]

    async def write(function: Callable[..., Any], *args: Any, by: Principal | None = None
                    ) -> Any:
        """Run ``function(workspace, *args)`` in a worker thread, on a workspace object of its
        own (opening it reads the file: never on the event loop) whose log names ``by`` (by
        default whom the route's role dependency let in: a write no role check approved is
        a bug, and fails); waiting for a turn holds no thread."""
        who = by or acting()
        if who is None:
            raise RuntimeError("a write on a route without a role dependency")

        def run() -> Any:
            ws = views.writer()
            ws.actor = who.name
            return function(ws, *args)
        return await anyio.to_thread.run_sync(run, limiter=write_slots)

    def figure(key: Any) -> bytes:
        """Compute the answer ``key`` (in the figure process when there is one; the list of
        layers and of hubs are cheap and answered here)."""
        kind = key if isinstance(key, str) else key[0]
        if figures is None or kind in ("layers", "hubs"):
            return views.encoded(key, views.compute_for(key))
        state, body = figures.answer(path, key)
        views.store(key, state, body)
        return body

    def computing(key: Any) -> tuple[Any, asyncio.Future[bytes]]:
        """The one computation of ``key`` running now, started for the current state when
        none runs; at most one per key at a time, so edits in quick succession do not pile up
        computations of states that are already gone. Returns (its state, its future)."""
        running = in_flight.get(key)
        if running is not None:
            return running
        state = views.state_of(("json", key), refresh=False)

        async def run() -> bytes:
            try:
                return bytes(await anyio.to_thread.run_sync(figure, key,
                                                            limiter=compute_slots))
            finally:
                in_flight.pop(key, None)
                finished[key] = loop_time()
        future = asyncio.ensure_future(run())
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        in_flight[key] = (state, future)
        return in_flight[key]

    async def json_view(key: Any) -> Response:
        """Cached JSON, served from the event loop when current. Otherwise one computation per
        answer runs at a time: requests wait for it, except that while other figures are
        computing, or when the wait would pass SERVER_STALE_AFTER_S or reach a state that is
        already out of date (edits keep coming), a request gets the previous answer marked
        ``X-Kenmap-Stale: 1`` (and the answer is brought up to date behind it).
        ``Cache-Control: no-cache`` always waits for the current one."""
        while True:
            if views.changed():  # the file changed: take its new state in a thread
                await anyio.to_thread.run_sync(views.workspace)
            body = views.peek(("json", key))
            if body is not None:
                return Response(body, media_type="application/json")
            busy = len(in_flight) >= slots
            previous = views.latest(("json", key))
            if busy and previous is not None and not WANT_FRESH.get():
                # Other figures are being computed: the answer of a moment ago at once, and
                # this one brought up to date after them (at most once a second under load).
                recent = loop_time() - finished.get(key, -1e9) < settings.SERVER_RECOMPUTE_MIN_S
                if key not in in_flight and not recent:
                    computing(key)
                return Response(previous, media_type="application/json",
                                headers={"X-Kenmap-Stale": "1"})
            state, pending = computing(key)
            current = state == views.state_of(("json", key), refresh=False)
            if previous is not None and not WANT_FRESH.get() and (busy or not current):
                try:
                    body = await asyncio.wait_for(asyncio.shield(pending),
                                                  timeout=settings.SERVER_STALE_AFTER_S)
                except TimeoutError:
                    return Response(previous, media_type="application/json",
                                    headers={"X-Kenmap-Stale": "1"})
            else:
                body = await asyncio.shield(pending)
            if current:
                return Response(body, media_type="application/json")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The interactive API documentation (Swagger UI served from this server)."""
        return get_swagger_ui_html(openapi_url="/openapi.json", title="kenmap API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness check: ``ok`` and the name of the workspace file served."""
        return {"ok": True, "workspace": path.name}

    @app.get("/api/layers", response_class=Response, responses=JSON_OK)
    async def layers() -> Response:
        """The scheme's layers with their area counts, the CRS and the population sources."""
        return await json_view("layers")

    @app.get("/api/layers/{key}/areas", response_class=Response,
             responses={**ERRORS, 200: {"content": {"application/geo+json": {
                 "schema": {"type": "object"}}}, "description": "Areas with their figures"}})
    async def areas(key: LayerKey, full: bool = False) -> Response:
        """A layer's areas and their figures as GeoJSON; ``full`` keeps the exact outlines."""
        response = await json_view(("areas", key, full))
        return Response(response.body, media_type="application/geo+json")

    @app.get("/api/areas/{layer}/{code}", response_class=Response, responses=JSON_OK)
    async def area(layer: LayerKey, code: Annotated[str, PathParam(max_length=64)]
                   ) -> Response:
        """One area's profile: its figures, parent and city, hubs and children lacking one."""
        return await json_view(("profile", layer, code))

    @app.get("/api/gaps", response_class=Response, responses=JSON_OK)
    async def gaps(layer: LayerKey, hub_type: HubType,
                   radius: Annotated[float | None, Query(gt=0, le=50_000)] = None,
                   with_planned: bool = False) -> Response:
        """Run ``kenmap gaps``: areas lacking a hub; ``radius`` in walking metres."""
        return await json_view(("gaps", layer, hub_type, radius, with_planned))

    @app.get("/api/coverage", response_class=Response, responses=JSON_OK)
    async def coverage(with_planned: bool = False) -> Response:
        """Run ``kenmap coverage``: each hub type's reach and, per layer, areas lacking one."""
        return await json_view(("coverage", with_planned))

    @app.get("/api/hubs", response_class=Response, responses=JSON_OK)
    async def hubs(type: HubType | None = None, status: Status | None = None) -> Response:
        """Hubs as GeoJSON points, optionally only those of one type or status."""
        return await json_view(("hubs", type, status))

    @app.get("/api/hubs/{hub_id}/history", responses=ERRORS)
    async def hub_history_view(hub_id: Annotated[int, PathParam(ge=1, le=2**53)]
                               ) -> list[dict[str, Any]]:
        """What happened to one hub, oldest first: added, each change (field: [before,
        after]) with its version, deleted."""
        return list(await anyio.to_thread.run_sync(
            lambda: hub_history(views.workspace(), hub_id)))

    @app.post("/api/hubs", status_code=201, responses=ERRORS)
    async def create_hub(hub: HubIn, who: Editor) -> dict[str, Any]:
        """Add a hub (editor); returns it with its new ``id`` and ``version``."""
        return dict(await write(add_hub, hub.model_dump(), by=who))

    @app.patch("/api/hubs/{hub_id}", responses=ERRORS)
    async def patch_hub(hub_id: Annotated[int, PathParam(ge=1, le=2**53)], change: HubPatch,
                        who: Editor) -> dict[str, Any]:
        """Change or move a hub (editor); refused (409) unless ``version`` is the hub's
        current one."""
        values = change.model_dump(exclude_unset=True)
        version = values.pop("version")
        return dict(await write(update_hub, hub_id, version, values, by=who))

    @app.delete("/api/hubs/{hub_id}", status_code=204, responses=ERRORS)
    async def remove_hub(hub_id: Annotated[int, PathParam(ge=1, le=2**53)],
                         version: Annotated[int, Query(ge=1, le=2**53)], who: Editor
                         ) -> Response:
        """Delete a hub (editor); refused (409) unless ``version`` is the hub's current
        one."""
        await write(delete_hub, hub_id, version, by=who)
        return Response(status_code=204)

    @app.post("/api/siting", responses=ERRORS)
    async def siting(question: SitingIn, who: Editor) -> dict[str, Any]:
        """Run ``kenmap site`` as a heavy job (one at a time, in its own process, bounded in
        k, candidates, time and memory). ``pinned`` sites are kept (counted in k),
        ``excluded`` candidates never used; ``sites`` are numbered in the order chosen, each
        with ``pop65_added``, ``fills`` and ``pinned``. ``apply`` writes the sites as planned
        hubs and returns their ids (``applied_hub_ids``, and ``hub_id`` on each site)."""
        from kenmap.access.siting import SitingLimits, apply_sites

        asked = question.model_dump(exclude={"apply", "network", "minutes", "speed"})
        if question.minutes is not None and not question.network:
            raise KenmapError("minutes は network と一緒に指定してください", field="minutes")
        if question.network:  # built in the job's process from these
            asked["network"] = {"minutes": question.minutes is not None,
                                "speed": question.speed}
            if question.minutes is not None:
                asked["radius"] = question.minutes
        asked["limits"] = SitingLimits(settings.SERVER_SITING_MAX_K,
                                       settings.SERVER_SITING_MAX_CANDIDATES,
                                       settings.SERVER_SITING_MAX_PAIRS)
        result = await anyio.to_thread.run_sync(jobs.site, path, asked)
        if question.apply:
            await write(apply_sites, result, by=who)
        return dict(result.to_json())

    @app.post("/api/siting/candidates", responses=ERRORS)
    async def siting_candidates(file: Annotated[UploadFile, File()], who: Editor
                                ) -> list[dict[str, Any]]:
        """Read an uploaded list of candidate places (CSV/XLSX with name and lon/lat, 経度/緯度
        …, or GeoJSON/shapefile points) as ``[{"name", "lon", "lat"}]``, for the siting
        question's ``candidate_points`` (editor; nothing is written)."""
        from kenmap.access.candidates import as_lonlat, from_file, from_points

        limit = settings.SERVER_SITING_MAX_CANDIDATES

        def run() -> list[dict[str, Any]]:
            ws = views.workspace()
            with saved_upload(file.file, file.filename, limit=max_upload,
                              max_expanded=UPLOAD_MAX_EXPANDED, max_rows=limit) as saved:
                points = as_lonlat(ws, from_file(ws, saved))
                try:
                    from_points(ws, points)  # each inside the city
                except KenmapError as error:
                    first = 2 if saved.suffix.lower() in (".csv", ".xlsx", ".txt") else 1
                    row = int((error.field or ".0").rsplit(".", 1)[1]) + first
                    raise KenmapError(error.message, file=saved.name, row=row,
                                      field="lon") from None
                return points
        return list(await anyio.to_thread.run_sync(run))

    @app.post("/api/imports/areas", responses=ERRORS)
    async def import_areas_upload(
        file: Annotated[UploadFile, File()], layer: LayerKey, who: Editor,
        code_field: Annotated[str, Query(max_length=200)],
        name_field: Annotated[str, Query(max_length=200)],
        parent_field: Annotated[str | None, Query(max_length=200)] = None,
        encoding: Annotated[str | None, Query(max_length=40)] = None,
        crs: Annotated[str | None, Query(max_length=200)] = None,
        where: Annotated[str | None, Query(max_length=500)] = None,
        zone: Annotated[str | None, Query(max_length=20)] = None,
        keep_water: bool = False, append: bool = False,
        tolerance: Annotated[float, Query(ge=0, le=1)] = settings.NESTING_TOLERANCE,
    ) -> dict[str, Any]:
        """Run ``kenmap import areas`` on an uploaded file; returns the import report."""
        from kenmap.layers.areas import import_areas

        def run(ws: Workspace) -> dict[str, Any]:
            with saved_upload(file.file, file.filename, limit=max_upload,
                              max_expanded=UPLOAD_MAX_EXPANDED, max_rows=max_rows) as saved:
                return import_areas(ws, [saved], layer=layer,
                                    code_field=code_field, name_field=name_field,
                                    parent_field=parent_field, encoding=encoding, crs=crs,
                                    where=where, zone=zone, keep_water=keep_water,
                                    append=append, tolerance=tolerance).to_dict()
        return dict(await write(run, by=who))

    @app.post("/api/imports/hubs", responses=ERRORS)
    async def import_hubs_upload(
        file: Annotated[UploadFile, File()], who: Editor, type: HubType | None = None,
        type_field: Annotated[str | None, Query(max_length=200)] = None,
        name_field: Annotated[str | None, Query(max_length=200)] = None,
        lon_field: Annotated[str | None, Query(max_length=200)] = None,
        lat_field: Annotated[str | None, Query(max_length=200)] = None,
        x_field: Annotated[str | None, Query(max_length=200)] = None,
        y_field: Annotated[str | None, Query(max_length=200)] = None,
        crs: Annotated[str | None, Query(max_length=200)] = None,
        status: Status = "existing",
        encoding: Annotated[str | None, Query(max_length=40)] = None, replace: bool = False,
    ) -> dict[str, Any]:
        """Run ``kenmap import hubs`` on an uploaded file; returns the import report."""
        from kenmap.hubs.imports import import_hubs

        def run(ws: Workspace) -> dict[str, Any]:
            with saved_upload(file.file, file.filename, limit=max_upload,
                              max_expanded=UPLOAD_MAX_EXPANDED,
                              max_rows=settings.SERVER_MAX_HUB_ROWS) as saved:
                return import_hubs(ws, saved, hub_type=type,
                                   type_field=type_field, name_field=name_field,
                                   lon_field=lon_field, lat_field=lat_field, x_field=x_field,
                                   y_field=y_field, crs=crs, status=status, encoding=encoding,
                                   replace=replace).to_dict()
        return dict(await write(run, by=who))

    Admin = Annotated[Principal, Depends(auth.admin)]
    TypeKey = Annotated[str, PathParam(max_length=31, pattern=r"^[a-z][a-z0-9_]{0,30}$")]

    def catalogue_view(ws: Workspace) -> dict[str, Any]:
        from kenmap.hubs.table import read_hubs
        from kenmap.maps.style import glyph
        from kenmap.model.catalogue import catalogue_of

        hubs = read_hubs(ws)
        used = hubs["type"].value_counts() if len(hubs) else {}
        preset = ws.get("scheme_preset")
        return {"types": [{**t.to_dict(), "glyph": glyph(t.key, t.label, t.icon),
                           "expected_layer": t.expected_layer(ws.scheme.keys, preset),
                           "hubs": int(used.get(t.key, 0))}
                          for t in catalogue_of(ws.get("hub_types")).types.values()],
                "layers": [{"key": layer.key, "label": layer.label}
                           for layer in ws.scheme.layers]}

    @app.get("/api/catalogue", responses=ERRORS)
    async def catalogue() -> dict[str, Any]:
        """The hub types: label, colour, icon (a one-character icon is the marker's glyph),
        walking radius, the layer on which every area should have one, and hubs of each."""
        return dict(await anyio.to_thread.run_sync(lambda: catalogue_view(views.workspace())))

    @app.post("/api/catalogue", status_code=201, responses=ERRORS)
    async def catalogue_add(hub_type: TypeIn, who: Admin) -> dict[str, Any]:
        """Add a hub type (admin). Hubs of a new type can be added after a server restart
        (the API's type lists are read at start)."""
        from kenmap.hubs.catalogue import add_type

        return dict((await write(add_type, hub_type.model_dump(), by=who)).to_dict())

    @app.put("/api/catalogue/{key}", responses=ERRORS)
    async def catalogue_set(key: TypeKey, hub_type: TypeEdit, who: Admin) -> dict[str, Any]:
        """Change a hub type's label, colour, icon, radius and expected layer (admin)."""
        from kenmap.hubs.catalogue import set_type

        return dict((await write(set_type, key, hub_type.model_dump(), by=who)).to_dict())

    @app.delete("/api/catalogue/{key}", status_code=204, responses=ERRORS)
    async def catalogue_remove(key: TypeKey, who: Admin) -> Response:
        """Remove a hub type no hub uses (admin; 409 while hubs are of that type)."""
        from kenmap.hubs.catalogue import remove_type

        await write(remove_type, key, by=who)
        return Response(status_code=204)

    from kenmap.api.wizard import wizard_router

    app.include_router(wizard_router(views, write, [Depends(auth.editor)],
                                     max_upload=max_upload, max_rows=max_rows))

    app.include_router(downloads_router(views, [Depends(auth.editor)]))

    app.include_router(workbench_router(views, writable=token is not None))

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        """Redirect to the workbench when someone can sign in or write, else to the maps."""
        return RedirectResponse(await anyio.to_thread.run_sync(
            lambda: landing(views, token=token)))

    @app.get("/maps/", response_class=HTMLResponse, responses=ERRORS)
    async def map_index() -> Response:
        """An HTML page linking the map of every layer that has areas."""
        response = await json_view("map-index")
        return HTMLResponse(response.body)

    @app.get("/maps/{layer}", response_class=HTMLResponse, responses=ERRORS)
    async def map_page(layer: LayerKey) -> Response:
        """The interactive map of one layer: aging rates, hubs and gaps."""
        response = await json_view(("map", layer))
        return HTMLResponse(response.body)

    return app


def _models(HubType: Any, LayerKey: Any) -> dict[str, type[BaseModel]]:
    """Request bodies whose hub types and layers are the workspace's own (enums in /docs)."""

    class HubIn(BaseModel):
        """A new hub."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        type: HubType
        name: str = Field(min_length=1, max_length=200)
        lon: float = Field(ge=-180, le=180)
        lat: float = Field(ge=-90, le=90)
        status: Status = "existing"
        address: str | None = Field(default=None, max_length=_TEXT["address"])
        schedule: str | None = Field(default=None, max_length=_TEXT["schedule"])
        host: str | None = Field(default=None, max_length=_TEXT["host"])
        operator: str | None = Field(default=None, max_length=_TEXT["operator"])
        responsible: str | None = Field(default=None, max_length=_TEXT["responsible"])
        opened: str | None = Field(default=None, max_length=20,
                                   description="開設日 (YYYY-MM-DD, 2021/4/1, 令和3年4月1日 …)")
        closed: str | None = Field(default=None, max_length=20, description="廃止日")

    class HubPatch(BaseModel):
        """A change to a hub, based on the version the editor saw."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        version: int = Field(ge=1, le=2**53)
        type: HubType | None = None
        name: str | None = Field(default=None, min_length=1, max_length=200)
        lon: float | None = Field(default=None, ge=-180, le=180)
        lat: float | None = Field(default=None, ge=-90, le=90)
        status: Status | None = None
        address: str | None = Field(default=None, max_length=_TEXT["address"])
        schedule: str | None = Field(default=None, max_length=_TEXT["schedule"])
        host: str | None = Field(default=None, max_length=_TEXT["host"])
        operator: str | None = Field(default=None, max_length=_TEXT["operator"])
        responsible: str | None = Field(default=None, max_length=_TEXT["responsible"])
        opened: str | None = Field(default=None, max_length=20,
                                   description="開設日 (YYYY-MM-DD, 2021/4/1, 令和3年4月1日 …)")
        closed: str | None = Field(default=None, max_length=20, description="廃止日")

    class SitePoint(BaseModel):
        """A place for the siting what-if: longitude/latitude (EPSG:4326), optionally named."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        lon: float = Field(ge=-180, le=180)
        lat: float = Field(ge=-90, le=90)
        name: str | None = Field(default=None, max_length=200)

    class DrawnArea(BaseModel):
        """A drawn polygon (GeoJSON geometry, longitude/latitude): an outer ring and holes."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        type: Literal["Polygon"]
        coordinates: list[Annotated[list[tuple[float, float]],
                                    Field(min_length=4, max_length=2_000)]] = Field(
            min_length=1, max_length=20)

    class SitingIn(BaseModel):
        """A siting question: where would k new hubs of a type reach the most older
        residents. Bounded: the server refuses questions beyond its limits (413)."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        hub_type: HubType
        k: int = Field(ge=1, le=settings.SERVER_SITING_MAX_K)
        radius: float | None = Field(default=None, gt=0, le=5_000)
        candidate_status: Status | None = None
        candidate_grid: float | None = Field(default=None, ge=50, le=5_000)
        candidate_area: DrawnArea | None = Field(default=None, description=(
            "A grid of candidate_grid metres (500 by default) inside this polygon"))
        candidate_points: list[SitePoint] | None = Field(
            default=None, min_length=1, max_length=settings.SERVER_SITING_MAX_CANDIDATES,
            description="Candidate places, e.g. from POST /api/siting/candidates")
        layer: LayerKey | None = None
        solver: Literal["exact", "greedy", "auto"] = "auto"
        time_limit: float = Field(default=settings.SITING_TIME_LIMIT_S, gt=0,
                                  le=settings.SERVER_SITING_MAX_TIME_LIMIT_S)
        also: list[HubType] | None = Field(default=None, max_length=10)
        one_per_lacking: LayerKey | None = None
        pinned: list[SitePoint] = Field(
            default_factory=list, max_length=settings.SERVER_SITING_MAX_K,
            description="Sites that must be chosen (counted in k), anywhere in the city")
        excluded: list[SitePoint] = Field(
            default_factory=list, max_length=settings.SERVER_SITING_MAX_CANDIDATES,
            description="Candidates not to use (matched within 1 m)")
        network: bool = Field(default=False, description="Walk along the imported network")
        minutes: float | None = Field(default=None, gt=0, le=60, description=(
            "With network: reach in walking minutes (Tobler's function) instead of radius"))
        speed: float = Field(default=settings.WALK_SPEED_MS, ge=0.1, le=3.0,
                             description="With minutes: m/s on the flat")
        apply: bool = False

    class TypeEdit(BaseModel):
        """A hub type's fields (every one given: a missing radius means none)."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        label: str = Field(min_length=1, max_length=60)
        colour: str = Field(default="#555555", pattern=r"^#[0-9a-fA-F]{6}$")
        icon: str = Field(default="circle", min_length=1, max_length=40,
                          description="A one-character glyph (居) or a Font Awesome name")
        radius_m: float | None = Field(default=None, gt=0, le=50_000)
        expected_layer: LayerKey | None = None

    class TypeIn(TypeEdit):
        """A new hub type."""

        key: str = Field(min_length=1, max_length=31, pattern=r"^[a-z][a-z0-9_]{0,30}$")

    return {"HubIn": HubIn, "HubPatch": HubPatch, "SitingIn": SitingIn,
            "TypeEdit": TypeEdit, "TypeIn": TypeIn}
