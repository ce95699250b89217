"""The FastAPI application: read endpoints for viewers, token-protected writes."""

import hmac
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Header, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from kenmap import __version__
from kenmap.api.views import Views
from kenmap.errors import AccessError, AuthenticationError, KenmapError, TooLargeError
from kenmap.hubs.edits import add_hub, delete_hub, update_hub
from kenmap.maps.assets import NODE_MODULES
from kenmap.model import settings

DEFAULT_MAX_UPLOAD = settings.MAX_UPLOAD_MB * 1024 * 1024
UPLOAD_SUFFIXES = {".zip", ".gpkg", ".geojson", ".json", ".fgb", ".csv", ".xlsx"}
#: Upload zips may expand to at most this (the workspace's own imports allow more).
UPLOAD_MAX_EXPANDED = settings.UPLOAD_MAX_EXPANDED


class ApiError(BaseModel):
    """An error: the message and, where known, the file, row and field at fault."""

    error: str
    file: str | None = None
    row: int | None = None
    field: str | None = None


class HubIn(BaseModel):
    """A new hub."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    status: str = Field(default="existing", pattern="^(existing|planned|candidate)$")
    address: str | None = Field(default=None, max_length=300)
    schedule: str | None = Field(default=None, max_length=100)
    host: str | None = Field(default=None, max_length=200)
    operator: str | None = Field(default=None, max_length=200)
    responsible: str | None = Field(default=None, max_length=2000)


class SitingIn(BaseModel):
    """A siting question: where would k new hubs of a type reach the most older residents."""

    model_config = ConfigDict(extra="forbid")
    hub_type: str = Field(min_length=1, max_length=64)
    k: int = Field(ge=1, le=200)
    radius: float | None = Field(default=None, gt=0, le=50_000)
    candidate_status: str | None = Field(default=None,
                                         pattern="^(existing|planned|candidate)$")
    candidate_grid: float | None = Field(default=None, ge=20, le=5_000)
    layer: str | None = Field(default=None, max_length=64)
    solver: str = Field(default="auto", pattern="^(exact|greedy|auto)$")
    time_limit: float = Field(default=settings.SITING_TIME_LIMIT_S, gt=0, le=300)
    also: list[str] | None = Field(default=None, max_length=10)
    one_per_lacking: str | None = Field(default=None, max_length=64)
    apply: bool = False


class HubPatch(BaseModel):
    """A change to a hub, based on the version the editor saw."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    type: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    status: str | None = Field(default=None, pattern="^(existing|planned|candidate)$")
    address: str | None = Field(default=None, max_length=300)
    schedule: str | None = Field(default=None, max_length=100)
    host: str | None = Field(default=None, max_length=200)
    operator: str | None = Field(default=None, max_length=200)
    responsible: str | None = Field(default=None, max_length=2000)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ApiError} for code in (400, 401, 403, 404, 409, 413)}
JSON_OK: dict[int | str, dict[str, Any]] = {
    **ERRORS, 200: {"description": "OK", "content": {"application/json": {
        "schema": {"type": "object"}}}}}


def create_app(workspace: str | os.PathLike[str], *, token: str | None = None,
               max_upload: int = DEFAULT_MAX_UPLOAD) -> FastAPI:
    """The app serving one workspace. Without ``token`` the server is read-only."""
    path = Path(workspace)
    views = Views(path)
    ws = views.workspace()  # fail now, with a clear error, if it is not a workspace
    # The scheme is fixed for a workspace and the catalogue read at start: both are enums in
    # the OpenAPI schema, so clients (and /docs) see the valid values.
    from kenmap.model.catalogue import catalogue_of

    LayerKey = Literal.__getitem__(tuple(ws.scheme.keys))
    HubType = Literal.__getitem__(
        tuple(catalogue_of(ws.get("hub_types")).types))
    Status = Literal["existing", "planned", "candidate"]
    app = FastAPI(title="kenmap", version=__version__, docs_url=None, redoc_url=None,
                  description="圏域 layers, hubs, aging rates and coverage. GeoJSON in "
                              "EPSG:4326; write endpoints need a bearer token.")
    swagger = NODE_MODULES / "swagger-ui-dist"
    if swagger.exists():
        app.mount("/static/swagger", StaticFiles(directory=swagger), name="swagger")

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Response:
        # Refuse an oversized upload from its declared length, before reading it.
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_upload + 1024 * 1024:
            return JSONResponse({"error": f"upload is larger than {max_upload:,} bytes",
                                 "file": None, "row": None, "field": "file"}, status_code=413)
        response: Response = await call_next(request)
        return response

    @app.exception_handler(KenmapError)
    async def kenmap_error(request: Request, exc: KenmapError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    def require_token(authorization: Annotated[str | None, Header()] = None) -> None:
        if token is None:
            raise AccessError("this server is read-only (start it with --token-file or "
                                "KENMAP_TOKEN to allow edits)")
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not authorization or not hmac.compare_digest(given.encode(), token.encode()):
            raise AuthenticationError("a valid bearer token is required")

    writer = [Depends(require_token)]

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the local copy, so /docs works offline."""
        return get_swagger_ui_html(openapi_url="/openapi.json", title="kenmap API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness check: ``ok`` and the name of the workspace file served."""
        return {"ok": True, "workspace": path.name}

    async def json_view(key: Any, compute: Callable[[], Any]) -> Response:
        """Cached JSON: served from the event loop when cached, computed in a thread if not."""
        body = views.peek(("json", key))
        if body is None:
            body = await run_in_threadpool(views.encoded, key, compute)
        return Response(body, media_type="application/json")

    @app.get("/api/layers", response_class=Response, responses=JSON_OK)
    async def layers() -> Response:
        """The scheme's layers with their area counts, the CRS and the population sources."""
        return await json_view("layers", views.layers)

    @app.get("/api/layers/{key}/areas", response_class=Response,
             responses={**ERRORS, 200: {"content": {"application/geo+json": {
                 "schema": {"type": "object"}}}, "description": "Areas with their figures"}})
    async def areas(key: LayerKey, full: bool = False) -> Response:
        """A layer's areas and their figures as GeoJSON; ``full`` keeps the exact outlines."""
        body = views.peek(("areas", key, full))
        if body is None:
            body = await run_in_threadpool(views.areas_geojson, key, full)
        return Response(body, media_type="application/geo+json")

    @app.get("/api/areas/{layer}/{code}", response_class=Response, responses=JSON_OK)
    async def area(layer: LayerKey, code: str) -> Response:
        """One area's profile: its figures, parent and city, hubs and children lacking one."""
        return await json_view(("profile", layer, code), lambda: views.profile(layer, code))

    @app.get("/api/gaps", response_class=Response, responses=JSON_OK)
    async def gaps(layer: LayerKey, hub_type: HubType,
                   radius: Annotated[float | None, Query(gt=0, le=50_000)] = None,
                   with_planned: bool = False) -> Response:
        """Run ``kenmap gaps``: areas lacking a hub; ``radius`` in walking metres."""
        return await json_view(("gaps", layer, hub_type, radius, with_planned),
                               lambda: views.gaps(layer, hub_type, radius, with_planned))

    @app.get("/api/coverage", response_class=Response, responses=JSON_OK)
    async def coverage(with_planned: bool = False) -> Response:
        """Run ``kenmap coverage``: each hub type's reach and, per layer, areas lacking one."""
        return await json_view(("coverage", with_planned), lambda: views.coverage(with_planned))

    @app.get("/api/hubs", response_class=Response, responses=JSON_OK)
    async def hubs(type: HubType | None = None, status: Status | None = None) -> Response:
        """Hubs as GeoJSON points, optionally only those of one type or status."""
        return await json_view(("hubs", type, status), lambda: views.hubs(type, status))

    @app.post("/api/hubs", status_code=201, responses=ERRORS, dependencies=writer)
    def create_hub(hub: HubIn) -> dict[str, Any]:
        """Add a hub; returns it with its new ``id`` and ``version``."""
        return add_hub(views.writer(), hub.model_dump())

    @app.patch("/api/hubs/{hub_id}", responses=ERRORS, dependencies=writer)
    def patch_hub(hub_id: int, change: HubPatch) -> dict[str, Any]:
        """Change or move a hub; refused (409) unless ``version`` is the hub's current one."""
        values = change.model_dump(exclude_unset=True)
        version = values.pop("version")
        return update_hub(views.writer(), hub_id, version, values)

    @app.delete("/api/hubs/{hub_id}", status_code=204, responses=ERRORS, dependencies=writer)
    def remove_hub(hub_id: int, version: Annotated[int, Query(ge=1)]) -> Response:
        """Delete a hub; refused (409) unless ``version`` is the hub's current one."""
        delete_hub(views.writer(), hub_id, version)
        return Response(status_code=204)

    @app.post("/api/siting", responses=ERRORS)
    def siting(question: SitingIn, authorization: Annotated[str | None, Header()] = None
               ) -> dict[str, Any]:
        """Run ``kenmap site``; ``apply`` (writing planned hubs) needs the token."""
        from kenmap.access.siting import apply_sites, site
        if question.apply:
            require_token(authorization)
        ws_now = views.workspace()
        result = site(ws_now, hub_type=question.hub_type, k=question.k, radius=question.radius,
                      candidate_status=question.candidate_status,
                      candidate_grid=question.candidate_grid, layer=question.layer,
                      solver=question.solver, time_limit=question.time_limit,
                      also=question.also, one_per_lacking=question.one_per_lacking)
        if question.apply:
            apply_sites(views.writer(), result)
        return result.to_json()

    @app.post("/api/imports/areas", responses=ERRORS, dependencies=writer)
    def import_areas_upload(
        file: Annotated[UploadFile, File()], layer: str, code_field: str,
        name_field: str, parent_field: str | None = None, encoding: str | None = None,
        crs: str | None = None, where: str | None = None, zone: str | None = None,
        keep_water: bool = False, append: bool = False,
        tolerance: Annotated[float, Query(ge=0, le=1)] = settings.NESTING_TOLERANCE,
    ) -> dict[str, Any]:
        """Run ``kenmap import areas`` on an uploaded file; returns the import report."""
        from kenmap.layers.areas import import_areas

        with _saved(file, max_upload) as saved:
            report = import_areas(views.writer(), [saved], layer=layer,
                                  code_field=code_field, name_field=name_field,
                                  parent_field=parent_field, encoding=encoding, crs=crs,
                                  where=where, zone=zone, keep_water=keep_water, append=append,
                                  tolerance=tolerance)
        return report.to_dict()

    @app.post("/api/imports/hubs", responses=ERRORS, dependencies=writer)
    def import_hubs_upload(
        file: Annotated[UploadFile, File()], type: str | None = None,
        type_field: str | None = None, name_field: str | None = None,
        lon_field: str | None = None, lat_field: str | None = None,
        x_field: str | None = None, y_field: str | None = None, crs: str | None = None,
        status: str = "existing", encoding: str | None = None, replace: bool = False,
    ) -> dict[str, Any]:
        """Run ``kenmap import hubs`` on an uploaded file; returns the import report."""
        from kenmap.hubs.imports import import_hubs

        with _saved(file, max_upload) as saved:
            report = import_hubs(views.writer(), saved, hub_type=type, type_field=type_field,
                                 name_field=name_field, lon_field=lon_field,
                                 lat_field=lat_field, x_field=x_field, y_field=y_field,
                                 crs=crs, status=status, encoding=encoding, replace=replace)
        return report.to_dict()

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """Redirect to the index of maps."""
        return RedirectResponse("/maps/")

    @app.get("/maps/", response_class=HTMLResponse, responses=ERRORS)
    def map_index() -> HTMLResponse:
        """An HTML page linking the map of every layer that has areas."""
        return HTMLResponse(views.map_index())

    @app.get("/maps/{layer}", response_class=HTMLResponse, responses=ERRORS)
    def map_page(layer: LayerKey) -> HTMLResponse:
        """The interactive map of one layer: aging rates, hubs and gaps."""
        return HTMLResponse(views.map_page(layer))

    return app


class _saved:
    """Stream an upload to a private temporary folder, refusing it past the size limit."""

    def __init__(self, upload: UploadFile, limit: int) -> None:
        self.upload = upload
        self.limit = limit
        self.folder = ""

    def __enter__(self) -> Path:
        from kenmap.geo import vector_io

        name = PurePath((self.upload.filename or "").replace("\\", "/")).name
        suffix = Path(name).suffix.lower()
        if not name or suffix not in UPLOAD_SUFFIXES:
            raise KenmapError(f"upload '{name}' must be one of "
                              f"{', '.join(sorted(UPLOAD_SUFFIXES))} (a shapefile goes zipped)",
                              field="file")
        self.folder = tempfile.mkdtemp(prefix="kenmap-upload-")
        target = Path(self.folder) / name
        size = 0
        with open(target, "wb") as out:
            while chunk := self.upload.file.read(1024 * 1024):
                size += len(chunk)
                if size > self.limit:
                    raise TooLargeError(f"upload is larger than {self.limit:,} bytes")
                out.write(chunk)
        if size == 0:
            raise KenmapError("upload is empty", file=name)
        if suffix == ".zip":
            vector_io.check_zip(target, max_total=UPLOAD_MAX_EXPANDED)
        return target

    def __exit__(self, *exc: object) -> None:
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
