"""Downloads: what the command line writes to files, as files a browser saves.

Stats and gaps as CSV for Excel (UTF-8 with BOM) and XLSX, the A4 handout PDF, the standalone
offline map page, area sheets and the committee report. Downloads are reads: anyone who may
read may download. Each is made by the same function as the CLI's, cached until the tables it
depends on change; PDFs and pages are drawn in a worker thread, one at a time (pyplot keeps
global state), so the event loop keeps answering.

The workspace stores no targets table (``kenmap report`` takes one as a file), so the report
is made from a targets file sent with ``POST /api/downloads/report.pdf``; ``GET`` says so.
"""

import hashlib
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, File, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response

from kenmap.api.uploads import saved_upload
from kenmap.api.views import Views
from kenmap.errors import KenmapError, NotFoundError, TooLargeError
from kenmap.model import settings
from kenmap.model.catalogue import catalogue_of
from kenmap.optional import has
from kenmap.workspace import Workspace

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
HTML = "text/html; charset=utf-8"
#: What each download is, its media type and the query parameters it takes.
DOWNLOADS: dict[str, tuple[str, str, list[str]]] = {
    "stats.csv": ("統計（CSV）", CSV, ["layer", "rate_base"]),
    "stats.xlsx": ("統計（Excel）", XLSX, ["layer", "rate_base"]),
    "gaps.csv": ("拠点の不足（CSV）", CSV, ["layer", "hub_type", "radius", "with_planned"]),
    "gaps.xlsx": ("拠点の不足（Excel）", XLSX, ["layer", "hub_type", "radius", "with_planned"]),
    "handout.pdf": ("A4の配布用地図（PDF）", PDF, ["layer", "hub_type", "radius"]),
    "page.html": ("オフラインで見られる地図（HTML）", HTML, ["layer", "hub_type", "radius"]),
    "sheets.pdf": ("地域カルテ（PDF）", PDF, ["layer", "code"]),
    "report.pdf": ("委員会用の報告書（PDF、目標の表を送って作成）", PDF, ["year", "file"]),
}
_PRINTED = ("handout.pdf", "sheets.pdf", "report.pdf")
#: Targets tables are small: a larger upload is not one.
_TARGETS_MAX_BYTES = 5 * 1024 * 1024
_TARGETS_MAX_ROWS = 10_000
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


class InvalidChoice(KenmapError):
    """A parameter that is not one of the values allowed (the value itself is not echoed:
    it may be anything, a path included)."""

    http_status = 422


def content_disposition(name: str, fallback: str) -> str:
    """``attachment`` with the Japanese ``name`` as RFC 5987 ``filename*`` (UTF-8,
    percent-encoded) and an ASCII ``filename`` for clients that do not read it."""
    safe = _UNSAFE.sub("_", name).strip(" .") or fallback
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", fallback)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"


def _file(body: bytes, media_type: str, name: str, fallback: str) -> Response:
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": content_disposition(name, fallback),
        "X-Content-Type-Options": "nosniff"})


def _choice(value: str | None, allowed: list[str], field: str, what: str) -> str | None:
    if value is not None and value not in allowed:
        raise InvalidChoice(f"{what}の指定が正しくありません（使える値: {', '.join(allowed)}）",
                            field=field)
    return value


def _responses(media_type: str) -> dict[int | str, dict[str, Any]]:
    from kenmap.api.app import ERRORS

    return {**ERRORS, 200: {"description": "The file, as an attachment",
                            "content": {media_type: {}}}}


def downloads_router(views: Views, editor: Sequence[Any] = ()) -> APIRouter:
    """The ``/api/downloads/…`` routes of the workspace ``views`` serves. Reads are open;
    the committee report from a sent targets table (a POST that renders on the server) needs
    ``editor`` (the 事務局 prepares it)."""
    router = APIRouter(prefix="/api/downloads", tags=["downloads"])
    ws = views.workspace()
    layer_keys = list(ws.scheme.keys)  # fixed for a workspace
    # The catalogue as it is at start, for /docs (the values are checked against the current
    # one on every request).
    type_keys = list(catalogue_of(ws.get("hub_types")).types)
    tables = anyio.CapacityLimiter(settings.SERVER_COMPUTE_SLOTS)
    renders = anyio.CapacityLimiter(settings.SERVER_RENDER_SLOTS)
    LayerQ = Annotated[str | None, Query(
        max_length=64, json_schema_extra={"enum": layer_keys},
        description="Layer key (default: the layer the CLI would choose)")]
    TypeQ = Annotated[str | None, Query(
        max_length=64, json_schema_extra={"enum": type_keys},
        description="Hub type key (default: the type of the layer)")]
    RadiusQ = Annotated[float | None, Query(gt=0, le=50_000, description="Walking metres")]
    RateQ = Annotated[str, Query(max_length=64, json_schema_extra={"enum": ["total", "known"]},
                                 description="高齢化率's denominator")]

    def checked(layer: str | None, hub_type: str | None = None) -> None:
        """Refuse values that are not a layer or hub type at once (the snapshot's catalogue:
        no file read on the event loop)."""
        _choice(layer, layer_keys, "layer", "レイヤ")
        types = list(catalogue_of(views.snapshot().get("hub_types")).types)
        _choice(hub_type, types, "hub_type", "拠点の種類")

    async def download(name: str, limiter: anyio.CapacityLimiter,
                       resolve: Callable[[Workspace], tuple[Any, ...]],
                       make: Callable[..., tuple[bytes, str, str]]) -> Response:
        """``make(workspace, *resolve(workspace))`` in a worker thread, cached under the
        resolved parameters until the tables it depends on change."""
        def run() -> tuple[bytes, str, str]:
            ws = views.workspace()
            key = resolve(ws)
            return tuple(views.cached(("download", name, *key), lambda: make(ws, *key)))
        body, filename, fallback = await anyio.to_thread.run_sync(run, limiter=limiter)
        return _file(body, DOWNLOADS[name][1], filename, fallback)

    @router.get("", responses=_responses("application/json"))
    async def index() -> dict[str, Any]:
        """The downloads this server offers, their parameters and whether each can be made
        here (PDFs need the print extra: matplotlib)."""
        printing = has("matplotlib") and has("matplotlib_fontja")
        return {"downloads": [
            {"name": name, "label": label, "media_type": media, "params": params,
             "url": f"/api/downloads/{name}",
             "available": printing or name not in _PRINTED,
             "note": None if printing or name not in _PRINTED else
             "印刷用の PDF には pip install 'kenmap[print]' が必要です"}
            for name, (label, media, params) in DOWNLOADS.items()]}

    async def stats(kind: str, layer: str | None, rate_base: str) -> Response:
        checked(layer)
        _choice(rate_base, ["total", "known"], "rate_base", "高齢化率の分母")
        return await download(f"stats.{kind}", tables,
                              lambda ws: (_layer(ws, layer), rate_base, kind), _stats)

    @router.get("/stats.csv", response_class=Response, responses=_responses(CSV))
    async def stats_csv(layer: LayerQ = None, rate_base: RateQ = "total") -> Response:
        """``kenmap stats --format csv`` under Japanese headings, UTF-8 with BOM."""
        return await stats("csv", layer, rate_base)

    @router.get("/stats.xlsx", response_class=Response, responses=_responses(XLSX))
    async def stats_xlsx(layer: LayerQ = None, rate_base: RateQ = "total") -> Response:
        """The rows of ``stats.csv`` as an Excel workbook (numbers as numbers)."""
        return await stats("xlsx", layer, rate_base)

    async def gaps(kind: str, layer: str | None, hub_type: str | None, radius: float | None,
                   with_planned: bool) -> Response:
        checked(layer, hub_type)
        return await download(f"gaps.{kind}", tables, lambda ws: (
            *_layer_and_type(ws, layer, hub_type), radius, with_planned, kind), _gaps)

    @router.get("/gaps.csv", response_class=Response, responses=_responses(CSV))
    async def gaps_csv(layer: LayerQ = None, hub_type: TypeQ = None, radius: RadiusQ = None,
                       with_planned: bool = False) -> Response:
        """``kenmap gaps --format csv`` under Japanese headings, UTF-8 with BOM."""
        return await gaps("csv", layer, hub_type, radius, with_planned)

    @router.get("/gaps.xlsx", response_class=Response, responses=_responses(XLSX))
    async def gaps_xlsx(layer: LayerQ = None, hub_type: TypeQ = None, radius: RadiusQ = None,
                        with_planned: bool = False) -> Response:
        """The rows of ``gaps.csv`` as an Excel workbook."""
        return await gaps("xlsx", layer, hub_type, radius, with_planned)

    @router.get("/handout.pdf", response_class=Response, responses=_responses(PDF))
    async def handout(layer: LayerQ = None, hub_type: TypeQ = None,
                      radius: RadiusQ = None) -> Response:
        """The A4 landscape handout of ``kenmap map --pdf`` (one page)."""
        checked(layer, hub_type)
        return await download("handout.pdf", renders, lambda ws: (
            *_layer_and_type(ws, layer, hub_type), radius), _handout)

    @router.get("/page.html", response_class=Response, responses=_responses(HTML))
    async def page(layer: LayerQ = None, hub_type: TypeQ = None,
                   radius: RadiusQ = None) -> Response:
        """The standalone map page of ``kenmap map`` (works offline: every asset inside)."""
        checked(layer, hub_type)
        return await download("page.html", renders, lambda ws: (
            *_layer_and_type(ws, layer, hub_type), radius), _page)

    @router.get("/sheets.pdf", response_class=Response, responses=_responses(PDF))
    async def sheets(layer: LayerQ = None, code: Annotated[list[str] | None, Query(
            max_length=settings.SERVER_MAX_SHEETS,
            description="Areas (default: every area of the layer)")] = None) -> Response:
        """The area sheets (地域カルテ) of ``kenmap profile --pdf``: an A4 page per area."""
        checked(layer)

        def resolve(ws: Workspace) -> tuple[Any, ...]:
            key = _layer(ws, layer)
            return key, tuple(_codes(ws, key, code))
        return await download("sheets.pdf", renders, resolve, _sheets)

    @router.get("/report.pdf", response_class=Response, responses=_responses(PDF))
    async def report_stored(year: Annotated[int | None, Query(ge=1900, le=2200)] = None
                            ) -> Response:
        """The committee report needs a targets table, which the workspace does not store:
        404, saying to send one with ``POST``."""
        raise NotFoundError("委員会用の報告書には目標の表が必要ですが、このワークスペースには"
                            "保存されていません。目標の表（CSV か Excel）を POST "
                            "/api/downloads/report.pdf?year=年度 に file として送ってください",
                            field="file")

    @router.post("/report.pdf", response_class=Response, responses=_responses(PDF),
                 dependencies=list(editor))
    async def report(file: Annotated[UploadFile, File(description="Targets table (.csv, "
                                                      ".xlsx), as for kenmap progress")],
                     year: Annotated[int, Query(ge=1900, le=2200)]) -> Response:
        """``kenmap report``: the committee's report of fiscal ``year`` from the targets
        table sent (nothing is stored)."""
        def run() -> tuple[bytes, str, str]:
            with saved_upload(file.file, file.filename, limit=_TARGETS_MAX_BYTES,
                              max_expanded=_TARGETS_MAX_BYTES * 20,
                              max_rows=_TARGETS_MAX_ROWS) as saved:
                if saved.suffix.lower() not in (".csv", ".xlsx"):
                    raise KenmapError("目標の表は .csv か .xlsx にしてください", field="file")
                digest = hashlib.sha256(saved.read_bytes()).hexdigest()
                return tuple(views.cached(("download", "report.pdf", digest, year),
                                          lambda: _report(views.workspace(), saved, year)))
        body, name, fallback = await anyio.to_thread.run_sync(run, limiter=renders)
        return _file(body, PDF, name, fallback)

    @router.get("/{name}", include_in_schema=False)
    async def unknown(name: Annotated[str, PathParam(max_length=200)]) -> Response:
        raise NotFoundError("そのダウンロードはありません（あるもの: "
                            + "、".join(DOWNLOADS) + "）", field="name")

    return router


def _layer(ws: Workspace, layer: str | None, hub_type: str | None = None) -> str:
    """``layer``, or the layer the CLI would choose; refused when it holds no areas."""
    from kenmap.layers.hierarchy import area_layers, default_layer

    key = layer or default_layer(ws, hub_type)
    if key not in area_layers(ws):
        raise NotFoundError(f"{ws.scheme.layer(key).label}（{key}）に区域がありません",
                            field="layer")
    return key


def _layer_and_type(ws: Workspace, layer: str | None, hub_type: str | None
                    ) -> tuple[str, str]:
    """The layer (as :func:`_layer`) and the hub type: given, else the one the layer's map
    shows (:func:`~kenmap.hubs.table.layer_hub_type`)."""
    from kenmap.hubs.table import layer_hub_type

    key = _layer(ws, layer, hub_type)
    return key, hub_type or layer_hub_type(ws, key)


def _codes(ws: Workspace, layer: str, given: list[str] | None) -> list[str]:
    """The areas whose sheets are asked for: ``given`` (each a code of the layer), else every
    area of the layer up to the server's limit."""
    from kenmap.access.sheets import area_codes

    codes = area_codes(ws, layer)
    if given:
        known = set(codes)
        for n, code in enumerate(given):
            if code not in known:
                raise NotFoundError(f"{n + 1} 番目の区域コードは{ws.scheme.layer(layer).label}"
                                    "にありません", field="code")
        return list(dict.fromkeys(given))
    if len(codes) > settings.SERVER_MAX_SHEETS:
        raise TooLargeError(f"{ws.scheme.layer(layer).label}は {len(codes):,} 区域あり、一度に"
                            f"作れる地域カルテ {settings.SERVER_MAX_SHEETS} 枚を超えます"
                            "（code で区域を選んでください）", field="code")
    return codes


def _stats(ws: Workspace, layer: str, rate_base: str, kind: str) -> tuple[bytes, str, str]:
    from kenmap.render.excel import stats_table

    table = stats_table(ws, layer, rate_base)
    body = table.to_csv() if kind == "csv" else table.to_xlsx()
    return body, f"統計_{ws.scheme.layer(layer).label}.{kind}", f"stats-{layer}.{kind}"


def _gaps(ws: Workspace, layer: str, hub_type: str, radius: float | None, with_planned: bool,
          kind: str) -> tuple[bytes, str, str]:
    from kenmap.access.gaps import gap_table
    from kenmap.render.excel import gaps_table

    table = gaps_table(ws, gap_table(ws, layer=layer, hub_type=hub_type, radius=radius,
                                     with_planned=with_planned))
    body = table.to_csv() if kind == "csv" else table.to_xlsx()
    label = catalogue_of(ws.get("hub_types")).get(hub_type).label
    return (body, f"{label}の不足_{ws.scheme.layer(layer).label}.{kind}",
            f"gaps-{hub_type}-{layer}.{kind}")


def _map_options(hub_type: str, radius: float | None) -> Any:
    from kenmap.maps.page import MapOptions

    return MapOptions(hub_type=hub_type, radius=radius)


def _handout(ws: Workspace, layer: str, hub_type: str, radius: float | None
             ) -> tuple[bytes, str, str]:
    from kenmap.maps.printable import render_print

    with tempfile.TemporaryDirectory(prefix="kenmap-download-") as folder:
        path = Path(folder) / "handout.pdf"
        render_print(ws, layer, _map_options(hub_type, radius), path)
        body = path.read_bytes()
    label = catalogue_of(ws.get("hub_types")).get(hub_type).label
    return (body, f"地図_{ws.scheme.layer(layer).label}_{label}.pdf",
            f"handout-{layer}-{hub_type}.pdf")


def _page(ws: Workspace, layer: str, hub_type: str, radius: float | None
          ) -> tuple[bytes, str, str]:
    from kenmap.maps.page import build_map

    html, _ = build_map(ws, layer, _map_options(hub_type, radius))
    label = catalogue_of(ws.get("hub_types")).get(hub_type).label
    return (html.encode("utf-8"), f"地図_{ws.scheme.layer(layer).label}_{label}.html",
            f"map-{layer}-{hub_type}.html")


def _sheets(ws: Workspace, layer: str, codes: tuple[str, ...]) -> tuple[bytes, str, str]:
    from kenmap.maps.sheets import write_sheets

    with tempfile.TemporaryDirectory(prefix="kenmap-download-") as folder:
        path = Path(folder) / "sheets.pdf"
        write_sheets(ws, layer, list(codes), pdf=path)
        body = path.read_bytes()
    return body, f"地域カルテ_{ws.scheme.layer(layer).label}.pdf", f"sheets-{layer}.pdf"


def _report(ws: Workspace, targets: Path, year: int) -> tuple[bytes, str, str]:
    from kenmap.maps.report import write_report

    with tempfile.TemporaryDirectory(prefix="kenmap-download-") as folder:
        path = Path(folder) / "report.pdf"
        write_report(ws, targets, year, path)
        body = path.read_bytes()
    return body, f"報告書_{year}年度.pdf", f"report-{year}.pdf"
