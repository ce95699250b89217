"""The server's defences, pinned: host names, bearer tokens, error bodies, 405s, hostile uploads,
bounded siting, CSV for Excel, concurrent writers, and a busy server stopped by SIGTERM."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import pandas as pd
import pytest
from conftest import CliResult, copy_of, digest
from fastapi.testclient import TestClient
from shapely.geometry import box

from kenmap.model import settings

TOKEN = "kenmap-security-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
API_ERROR_KEYS = {"error", "file", "row", "field"}
#: A hub inside the demo city.
GOOD_HUB = {"type": "salon", "name": "安全テストのサロン", "lon": 134.82, "lat": 35.545}
AREAS = {"layer": "jichikai", "code_field": "KEY_CODE", "name_field": "MOJI"}


def _api_error(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON body, checked to be exactly an ApiError."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body, dict) and set(body) == API_ERROR_KEYS, body
    assert isinstance(body["error"], str) and body["error"]
    return body


def _no_paths(body: Any, *paths: Path) -> None:
    """No string anywhere in ``body`` names a temporary folder or the workspace's path."""
    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    for text in strings(body):
        assert "/tmp/" not in text, body
        assert tempfile.gettempdir() + "/" not in text, body
        for path in paths:
            assert str(path) not in text and str(path.parent) not in text, body


@pytest.fixture(scope="module")
def module_ws(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_of(demo_master, tmp_path_factory.mktemp("security"))


@pytest.fixture(scope="module")
def client(module_ws: Path) -> Iterator[TestClient]:
    """A token-protected server on a module-wide copy (for requests that must not write)."""
    from kenmap.api.app import create_app

    with TestClient(create_app(module_ws, token=TOKEN)) as c:
        yield c


@pytest.fixture
def upload_ws(tmp_path: Path) -> Path:
    """An empty workspace to upload areas into."""
    from kenmap.model.scheme import PRESETS
    from kenmap.workspace import Workspace

    return Workspace.create(tmp_path / "yonago.gpkg", PRESETS["yonago"], "yonago").path


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tempfile.gettempdir()`` as a folder of this test's own, so what the server leaves
    there is its doing alone (other processes may use the system's temp folder meanwhile)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    assert tempfile.gettempdir() == str(folder)
    return folder


def _uploads_left(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.startswith("kenmap-upload-")}


# -- 1. Host names and bearer tokens ---------------------------------------------------------

def test_host_check_refuses_other_names(module_ws: Path) -> None:
    from kenmap.api.app import create_app

    with TestClient(create_app(module_ws, token=TOKEN, host="127.0.0.1")) as c:
        r = c.get("/healthz")  # TestClient says Host: testserver
        assert r.status_code == 400
        assert _api_error(r)["field"] == "Host"
        r = c.get("/api/layers")
        assert r.status_code == 400 and "layers" not in r.json()
        assert c.post("/api/hubs", json=GOOD_HUB, headers=AUTH).status_code == 400
        for name in ("evil.example", "127.0.0.1.evil.example", "localhost.evil.example", ""):
            r = c.get("/healthz", headers={"Host": name})
            assert r.status_code == 400, name
            _api_error(r)
        for name in ("127.0.0.1", "127.0.0.1:8000", "localhost:8000", "[::1]:8000"):
            assert c.get("/healthz", headers={"Host": name}).status_code == 200, name
    with TestClient(create_app(module_ws, token=TOKEN, host="127.0.0.1",
                               extra_hosts=["testserver"])) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/healthz", headers={"Host": "evil.example"}).status_code == 400


@pytest.mark.parametrize("authorization", [
    TOKEN, "Bearer wrong", "Basic x", f"bearer{TOKEN}", f"Basic {TOKEN}", f"Bearer {TOKEN}x",
    f"Bearer {TOKEN[:-1]}", "Bearer ", None,
], ids=["no-scheme", "wrong", "basic", "no-space", "basic-token", "token-plus", "token-minus",
        "empty", "absent"])
def test_writes_need_the_bearer_token(demo_copy_ws: Path, authorization: str | None) -> None:
    from kenmap.api.app import create_app

    before = digest(demo_copy_ws)
    headers = {} if authorization is None else {"Authorization": authorization}
    with TestClient(create_app(demo_copy_ws, token=TOKEN)) as c:
        r = c.post("/api/hubs", json=GOOD_HUB, headers=headers)
        assert r.status_code == 401, r.text
        assert _api_error(r)["field"] == "Authorization"
        for method, url in (("PATCH", "/api/hubs/1"), ("DELETE", "/api/hubs/1?version=1")):
            r = c.request(method, url, json={"version": 1, "name": "x"} if method == "PATCH"
                          else None, headers=headers)
            assert r.status_code == 401, (method, r.text)
            _api_error(r)
    assert digest(demo_copy_ws) == before


def test_the_right_token_writes(demo_copy_ws: Path) -> None:
    from kenmap.api.app import create_app

    with TestClient(create_app(demo_copy_ws, token=TOKEN)) as c:
        r = c.post("/api/hubs", json=GOOD_HUB, headers=AUTH)
        assert r.status_code == 201, r.text
        hub = r.json()
        r = c.patch(f"/api/hubs/{hub['id']}", json={"version": 1, "name": "改名"}, headers=AUTH)
        assert r.status_code == 200 and r.json()["version"] == 2


def test_read_only_server_refuses_every_write(demo_copy_ws: Path) -> None:
    from kenmap.api.app import create_app

    before = digest(demo_copy_ws)
    with TestClient(create_app(demo_copy_ws)) as c:
        requests = [
            ("POST", "/api/hubs", {"json": GOOD_HUB}),
            ("PATCH", "/api/hubs/1", {"json": {"version": 1, "name": "x"}}),
            ("DELETE", "/api/hubs/1?version=1", {}),
            ("POST", "/api/siting", {"json": {"hub_type": "ibasho", "k": 1}}),
            ("POST", "/api/imports/hubs?type=salon",
             {"files": {"file": ("h.csv", b"name,lon,lat\nx,134.82,35.545\n")}}),
        ]
        for method, url, kwargs in requests:
            for headers in ({}, AUTH):
                r = c.request(method, url, headers=headers, **kwargs)
                assert r.status_code == 403, (method, url, r.status_code, r.text)
                assert "読み取り専用" in _api_error(r)["error"]
    assert digest(demo_copy_ws) == before


# -- 2. Error bodies ----------------------------------------------------------------------------

_JSON = {**AUTH, "content-type": "application/json"}


@pytest.mark.parametrize(("method", "url", "body"), [
    pytest.param("POST", "/api/hubs", '{"type":"salon",', id="malformed-json"),
    pytest.param("POST", "/api/hubs", "\xff\xfe{", id="not-utf8"),
    pytest.param("POST", "/api/hubs", "[]", id="array-body"),
    pytest.param("POST", "/api/hubs", '{"type":"salon","name":"x","lat":35.5}', id="missing-lon"),
    pytest.param("POST", "/api/hubs",
                 '{"type":"salon","name":"x","lon":134.82,"lat":35.545,"admin":true}',
                 id="unknown-field"),
    pytest.param("POST", "/api/hubs", '{"type":"salon","name":"x","lon":NaN,"lat":35.5}',
                 id="nan-lon"),
    pytest.param("POST", "/api/hubs", '{"type":"salon","name":"x","lon":Infinity,"lat":35.5}',
                 id="infinity-lon"),
    pytest.param("POST", "/api/hubs", '{"type":"salon","name":"x","lon":-Infinity,"lat":35.5}',
                 id="minus-infinity-lon"),
    pytest.param("POST", "/api/hubs", '{"type":"salon","name":"x","lon":1e400,"lat":35.5}',
                 id="1e400-lon"),
    pytest.param("POST", "/api/hubs", '{"type":"karaoke","name":"x","lon":134.82,"lat":35.545}',
                 id="unknown-hub-type"),
    pytest.param("POST", "/api/hubs", '{"type":"salon","name":"x","lon":139.7,"lat":35.68}',
                 id="outside-city"),
    pytest.param("PATCH", "/api/hubs/1", '{"version":1,"lat":NaN}', id="patch-nan"),
    pytest.param("PATCH", "/api/hubs/0", '{"version":1,"name":"x"}', id="patch-id-0"),
    pytest.param("PATCH", "/api/hubs/99999999999999999999", '{"version":1,"name":"x"}',
                 id="patch-id-huge"),
    pytest.param("PATCH", "/api/hubs/999999", '{"version":1,"name":"x"}', id="patch-no-hub"),
    pytest.param("DELETE", "/api/hubs/1?version=abc", None, id="delete-bad-version"),
    pytest.param("POST", "/api/siting", '{"hub_type":"ibasho","k":1,"time_limit":NaN}',
                 id="siting-nan"),
    pytest.param("GET", "/api/gaps?layer=gyoseiku&hub_type=salon&radius=abc", None,
                 id="gaps-radius-text"),
    pytest.param("GET", "/api/gaps?layer=gyoseiku&hub_type=salon&radius=-5", None,
                 id="gaps-radius-negative"),
    pytest.param("GET", "/api/gaps?layer=gyoseiku&hub_type=salon&radius=nan", None,
                 id="gaps-radius-nan"),
    pytest.param("GET", "/api/gaps?layer=gyoseiku&hub_type=salon&radius=inf", None,
                 id="gaps-radius-inf"),
    pytest.param("GET", "/api/gaps?layer=gyoseiku&hub_type=salon&radius=1e400", None,
                 id="gaps-radius-1e400"),
    pytest.param("GET", "/api/layers/nope/areas", None, id="unknown-layer"),
    pytest.param("GET", "/api/areas/chiku/" + "x" * 65, None, id="area-code-too-long"),
    pytest.param("GET", "/api/areas/chiku/%00", None, id="area-code-nul"),
    pytest.param("GET", "/maps/nope", None, id="maps-nope"),
    pytest.param("GET", "/maps/%00", None, id="maps-nul"),
    pytest.param("GET", "/maps/%0A", None, id="maps-newline"),
])
def test_bad_requests_get_clean_4xx_bodies(client: TestClient, module_ws: Path, method: str,
                                           url: str, body: str | None) -> None:
    before = digest(module_ws)
    if body is None:
        r = client.request(method, url, headers=AUTH)
    else:
        r = client.request(method, url, content=body.encode("latin-1"), headers=_JSON)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    error = _api_error(r)
    _no_paths(error, module_ws)
    assert digest(module_ws) == before


def test_bad_content_length_is_a_clean_400(client: TestClient) -> None:
    r = client.post("/api/hubs", content=b'{"type":"salon"}',
                    headers={**_JSON, "content-length": "abc"})
    assert r.status_code == 400
    assert _api_error(r)["field"] == "Content-Length"


# -- 3. 405 names every method --------------------------------------------------------------

@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "DELETE"])
def test_405_lists_every_allowed_method(client: TestClient, method: str) -> None:
    r = client.request(method, "/api/hubs", headers=AUTH)
    assert r.status_code == 405, r.text
    allowed = {m.strip() for m in r.headers.get("allow", "").split(",")}
    assert {"GET", "POST"} <= allowed, r.headers.get("allow")
    assert method not in allowed
    _api_error(r)


# -- 4. Hostile uploads -----------------------------------------------------------------------

def _lying_zip(declared: int = 1_000) -> bytes:
    """A zip whose one entry declares ``declared`` bytes in both headers but inflates to 5 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("areas.geojson", b" " * 5_000_000)
    data = bytearray(buffer.getvalue())
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    assert local == 0 and central > 0
    struct.pack_into("<I", data, local + 22, declared)  # uncompressed size, local header
    struct.pack_into("<I", data, central + 24, declared)  # uncompressed size, central entry
    return bytes(data)


def _view_geopackage(folder: Path) -> Path:
    """A real GeoPackage whose only feature layer has been replaced by an endless SQL view."""
    path = folder / "areas.gpkg"
    gpd.GeoDataFrame({"KEY_CODE": ["1"], "MOJI": ["a"]}, geometry=[box(0, 0, 100, 100)],
                     crs=6673).to_file(path, layer="areas", driver="GPKG")
    con = sqlite3.connect(path)
    try:
        con.execute("DROP TABLE areas")
        con.execute("CREATE VIEW areas AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                    "SELECT x+1 FROM c) SELECT x AS fid, NULL AS geom, 'k' AS KEY_CODE, "
                    "'n' AS MOJI FROM c")
        con.commit()
        assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'areas'"
                           ).fetchone() == ("features",)
        assert con.execute("SELECT type FROM sqlite_master WHERE name = 'areas'"
                           ).fetchone() == ("view",)
    finally:
        con.close()
    return path


def _multipart(filename: bytes, payload: bytes, boundary: bytes = b"kenmap-boundary"
               ) -> tuple[bytes, dict[str, str]]:
    """A multipart body whose file name is sent byte for byte (NUL included)."""
    body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="'
            + filename + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + payload
            + b"\r\n--" + boundary + b"--\r\n")
    return body, {**AUTH, "content-type": f"multipart/form-data; boundary={boundary.decode()}"}


def test_hostile_uploads_are_refused_and_leave_nothing(
        upload_ws: Path, private_tmp: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kenmap.api.app import create_app

    bomb = _lying_zip()
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf:  # the crafted zip opens, and lies
        (info,) = zf.infolist()
        assert info.file_size == 1_000 and info.compress_size < 10_000
    gpkg = _view_geopackage(tmp_path)
    before = digest(upload_ws)
    with TestClient(create_app(upload_ws, token=TOKEN, max_upload=20_000_000)) as c:
        r = c.post("/api/imports/areas", params=AREAS, headers=AUTH,
                   files={"file": ("areas.zip", bomb, "application/zip")})
        assert 400 <= r.status_code < 500, r.text
        error = _api_error(r)["error"]  # refused by the zip check, not by a parse failure
        assert any(s in error for s in ("zip 爆弾", "正しい zip ではありません", "申告より")), \
            error
        _no_paths(r.json(), upload_ws, private_tmp)
        assert digest(upload_ws) == before

        start = time.monotonic()
        r = c.post("/api/imports/areas", params=AREAS, headers=AUTH,
                   files={"file": ("areas.gpkg", gpkg.read_bytes(), "application/geopackage")})
        assert time.monotonic() - start < 5
        assert 400 <= r.status_code < 500, r.text
        assert "ビュー" in _api_error(r)["error"]
        _no_paths(r.json(), upload_ws, private_tmp)
        assert digest(upload_ws) == before

        monkeypatch.setattr(settings, "SERVER_MAX_HUB_ROWS", 10)
        rows = "\n".join(f"サロン{i},134.82{i:02d},35.545" for i in range(20))
        r = c.post("/api/imports/hubs", params={"type": "salon"}, headers=AUTH,
                   files={"file": ("hubs.csv", f"name,lon,lat\n{rows}\n".encode())})
        assert r.status_code == 413, r.text
        _no_paths(_api_error(r), upload_ws, private_tmp)

        collection = b'{"type":"FeatureCollection","features":[]}'
        for name in (b"a\x00b.geojson", b"\x00", b"x" * 292 + b".geojson",
                     "日本語".encode() * 40 + b".geojson", b"../../../etc/passwd.geojson",
                     b"..", b"con.zip"):
            body, headers = _multipart(name, collection)
            r = c.post("/api/imports/areas", params=AREAS, content=body, headers=headers)
            assert r.status_code != 500 and r.status_code < 500, (name, r.text)
            if r.status_code >= 400:
                _no_paths(_api_error(r), upload_ws, private_tmp)
        assert digest(upload_ws) == before
    assert _uploads_left(private_tmp) == set()
    assert not (private_tmp / "etc").exists()


@pytest.mark.parametrize(("url", "size"), [
    ("/api/imports/areas", 1_500_000),  # past max_upload: counted while saved, folder removed
    ("/api/imports/areas", 4_000_000),  # past the body limit: cut while streaming
    ("/api/hubs", 4_000_000),           # a JSON body: only the body limit stands in the way
])
def test_chunked_body_over_the_limit(upload_ws: Path, private_tmp: Path, url: str, size: int
                                     ) -> None:
    """No Content-Length: the size is counted as the body streams in."""
    from kenmap.api.app import create_app

    sent = 0
    multipart = url.startswith("/api/imports")

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield (b'--kb\r\nContent-Disposition: form-data; name="file"; filename="big.geojson"'
               b"\r\nContent-Type: application/octet-stream\r\n\r\n") if multipart \
            else b'{"type":"salon","lon":134.82,"lat":35.545,"name":"'
        for _ in range(size // 100_000):
            sent += 100_000
            yield (b" " if multipart else b"x") * 100_000
        yield b"\r\n--kb--\r\n" if multipart else b'"}'

    content_type = "multipart/form-data; boundary=kb" if multipart else "application/json"
    before = digest(upload_ws)
    with TestClient(create_app(upload_ws, token=TOKEN, max_upload=1_000_000)) as c:
        r = c.post(url, params=AREAS if multipart else None, content=body(),
                   headers={**AUTH, "content-type": content_type})
    assert "content-length" not in r.request.headers
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert sent == size
    assert r.status_code == 413, r.text
    _no_paths(_api_error(r), upload_ws, private_tmp)
    assert digest(upload_ws) == before
    assert _uploads_left(private_tmp) == set()


# -- 5. Siting is bounded -------------------------------------------------------------------

def test_siting_needs_the_token_and_bounds_k(client: TestClient) -> None:
    r = client.post("/api/siting", json={"hub_type": "ibasho", "k": 1})
    assert r.status_code == 401
    _api_error(r)
    r = client.post("/api/siting", json={"hub_type": "ibasho", "k": 51}, headers=AUTH)
    assert r.status_code == 422 and _api_error(r)["field"] == "k"
    r = client.post("/api/siting", json={"hub_type": "ibasho", "k": 3, "time_limit": 3600},
                    headers=AUTH)
    assert r.status_code == 422 and _api_error(r)["field"] == "time_limit"


def test_siting_refuses_too_many_candidates(client: TestClient,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # A 50 m grid over the demo city's lacking areas: 274,850 candidates > 5,000.
    r = client.post("/api/siting", json={"hub_type": "ibasho", "k": 3, "candidate_grid": 50,
                                         "radius": 500}, headers=AUTH)
    assert r.status_code == 413, r.text
    assert _api_error(r)["field"] == "candidate_grid"
    # The demo city has 120 candidate hubs: past a limit of 5.
    monkeypatch.setattr(settings, "SERVER_SITING_MAX_CANDIDATES", 5)
    r = client.post("/api/siting", json={"hub_type": "ibasho", "k": 3,
                                         "candidate_status": "candidate"}, headers=AUTH)
    assert r.status_code == 413, r.text
    assert "120" in _api_error(r)["error"]


def test_heavy_job_slot_is_exclusive(module_ws: Path) -> None:
    from kenmap.api.jobs import HeavyJobs
    from kenmap.errors import BusyError

    jobs = HeavyJobs(memory_mb=None, time_limit_s=5)
    assert jobs._slot.acquire(blocking=False)
    try:
        start = time.monotonic()
        with pytest.raises(BusyError) as caught:
            jobs.site(module_ws, {"hub_type": "ibasho", "k": 1})
        assert caught.value.http_status == 429
        assert time.monotonic() - start < 1  # refused at once, not queued
    finally:
        jobs._slot.release()


def test_second_siting_while_one_runs_is_429(module_ws: Path) -> None:
    from kenmap.api.app import create_app

    slow = {"hub_type": "ibasho", "k": 20, "candidate_grid": 400, "solver": "exact",
            "time_limit": 60}  # ~14 s of solving; the job limit cuts it at 4 s
    first: dict[str, Any] = {}
    with TestClient(create_app(module_ws, token=TOKEN, job_time_limit_s=4)) as c:
        def run_first() -> None:
            first["response"] = c.post("/api/siting", json=slow, headers=AUTH)

        thread = threading.Thread(target=run_first)
        thread.start()
        time.sleep(1.0)
        assert thread.is_alive()
        start = time.monotonic()
        r = c.post("/api/siting", json={"hub_type": "ibasho", "k": 1}, headers=AUTH)
        assert time.monotonic() - start < 2
        still_running = thread.is_alive()
        thread.join(timeout=60)
    assert still_running
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) > 0
    _api_error(r)
    assert first["response"].status_code == 503, first["response"].text  # cut at the limit
    assert "Retry-After" in first["response"].headers


# -- 6. CSV for Excel -------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1+1)",
            "\t=1"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_cells_never_run_as_formulas(demo_copy_ws: Path, tmp_path: Path,
                                         run: Callable[..., CliResult]) -> None:
    import kenmap

    ws = kenmap.open_workspace(demo_copy_ws)
    frame = ws.read_layer("gyoseiku")
    frame.loc[frame.index[:len(FORMULAS)], "name"] = FORMULAS
    with ws.transaction() as tx:
        tx.write_layer("gyoseiku", frame)
    assert set(FORMULAS) <= set(kenmap.open_workspace(demo_copy_ws).read_layer("gyoseiku")
                                ["name"])
    outputs = {"stats": tmp_path / "stats.csv", "gaps": tmp_path / "gaps.csv"}
    result = run("stats", demo_copy_ws, "--layer", "gyoseiku", "--format", "csv", "--out",
                 outputs["stats"])
    assert result.code == 0, result.err
    result = run("gaps", demo_copy_ws, "--layer", "gyoseiku", "--hub-type", "salon", "--format",
                 "csv", "--out", outputs["gaps"])
    assert result.code == 0, result.err
    for command, out in outputs.items():
        table = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        names = set(table["name"])
        for payload in FORMULAS:
            assert "'" + payload in names, (command, payload)
            assert payload not in names, (command, payload)
        text = out.read_bytes().decode("utf-8-sig")
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert len(cells) > 359
        for cell in cells:
            if not _is_number(cell):
                assert not cell.startswith(_FORMULA_START), (command, cell)
        for payload in FORMULAS:
            assert payload not in cells, (command, payload)
            # In the raw text the payload is never the start of a cell (after a separator, a
            # line break or an opening quote).
            quoted = payload.replace('"', '""')
            for before in (",", "\n", ',"', '\n"'):
                assert before + quoted not in text and before + payload not in text, \
                    (command, payload)


# -- 7. Concurrent writers lose nothing ---------------------------------------------------------

def _import_rows(demo_master: Path) -> dict[str, list[tuple[str, str, float, float]]]:
    """Two batches of 50 new hubs beside existing ones (a salon batch and an 居場所 batch), none
    within 20 m of a hub of its type, so none is a duplicate."""
    import numpy as np

    import kenmap

    hubs = kenmap.open_workspace(demo_master).read_table("hubs")
    lonlat = hubs.to_crs(4326)
    batches: dict[str, list[tuple[str, str, float, float]]] = {}
    for key, kind, (dlon, dlat) in (("A", "salon", (0.0005, 0.0003)),
                                    ("B", "ibasho", (-0.0005, -0.0003))):
        same = hubs[hubs["type"] == kind].geometry
        rows: list[tuple[str, str, float, float]] = []
        placed: list[Any] = []
        for point in lonlat.geometry:
            lon, lat = round(point.x + dlon, 7), round(point.y + dlat, 7)
            projected = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(
                hubs.crs).iloc[0]
            if same.distance(projected).min() < 20 or \
                    any(projected.distance(p) < 20 for p in placed):
                continue
            placed.append(projected)
            rows.append((kind, f"新{key}{len(rows):02d}", lon, lat))
            if len(rows) == 50:
                break
        assert len(rows) == 50
        batches[key] = rows
    assert not np.intersect1d([r[1] for r in batches["A"]], [r[1] for r in batches["B"]]).size
    return batches


def _trial(trial: int, ws_path: Path, csvs: dict[str, Path], patched_ids: list[int],
           first_versions: dict[int, int]
           ) -> tuple[list[tuple[int, int, str]], dict[str, dict[str, Any]], list[str]]:
    """Two imports and ten PATCHes started together: the acknowledged PATCHes, the reports of
    the imports that succeeded, and what failed."""
    import kenmap
    from kenmap.hubs.edits import update_hub
    from kenmap.hubs.imports import import_hubs

    barrier = threading.Barrier(3)
    errors: list[str] = []
    acks: list[tuple[int, int, str]] = []
    reports: dict[str, dict[str, Any]] = {}

    def importer(key: str) -> None:
        try:
            barrier.wait(timeout=30)
            reports[key] = import_hubs(kenmap.open_workspace(ws_path), csvs[key],
                                       type_field="type").to_dict()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(f"trial {trial}, import {key}: {type(exc).__name__}: {exc}")

    def patcher() -> None:
        try:
            versions = {i: first_versions[i] for i in patched_ids}
            barrier.wait(timeout=30)
            for n in range(10):
                hub_id = patched_ids[n % len(patched_ids)]
                name = f"改名-{trial}-{n}"
                record = update_hub(kenmap.open_workspace(ws_path), hub_id, versions[hub_id],
                                    {"name": name})
                assert record["version"] == versions[hub_id] + 1  # never goes back
                assert record["name"] == name
                versions[hub_id] = int(record["version"])
                acks.append((hub_id, int(record["version"]), str(record["name"])))
                time.sleep(0.05 + 0.03 * (n % 3))  # spread over the imports' run
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(f"trial {trial}, PATCH: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=importer, args=("A",)),
               threading.Thread(target=patcher),
               threading.Thread(target=importer, args=("B",))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), f"trial {trial}: a writer hung"
    return acks, reports, errors


def test_concurrent_imports_and_patches_lose_nothing(demo_master: Path, tmp_path: Path) -> None:
    """Every acknowledged write survives, and (separately) no write fails because another is
    running: failures are gathered over the trials and reported after the checks for lost
    updates, so one does not hide the other."""
    import kenmap

    batches = _import_rows(demo_master)
    csvs = {}
    for key, rows in batches.items():
        path = tmp_path / f"hubs-{key}.csv"
        path.write_text("type,name,lon,lat\n" + "".join(
            f"{t},{n},{lon},{lat}\n" for t, n, lon, lat in rows), encoding="utf-8")
        csvs[key] = path
    start = kenmap.open_workspace(demo_master).read_table("hubs")
    patched_ids = [int(i) for i in start["id"].iloc[[0, 7, 50, 200, 400]]]
    first_versions = {int(i): int(v) for i, v in zip(start["id"], start["version"])}

    failures: list[str] = []
    for trial in range(5):
        ws_path = copy_of(demo_master, tmp_path / f"trial{trial}")
        acks, reports, errors = _trial(trial, ws_path, csvs, patched_ids, first_versions)
        failures += errors

        final = kenmap.open_workspace(ws_path).read_table("hubs")
        assert final["id"].is_unique, f"trial {trial}: ids handed out twice"
        assert len(final) == len(start) + 50 * len(reports), (trial, len(final), reports)
        by_id = final.set_index("id")
        for hub_id, version, _ in acks:  # every acknowledged edit is there, or a later one
            assert int(by_id.loc[hub_id, "version"]) >= version, (trial, hub_id, version)
        last = {hub_id: (version, name) for hub_id, version, name in acks}
        for hub_id, (version, name) in last.items():
            assert (int(by_id.loc[hub_id, "version"]), by_id.loc[hub_id, "name"]) == \
                (version, name), f"trial {trial}: the PATCH of hub {hub_id} was lost"
        for hub_id, version in first_versions.items():
            assert int(by_id.loc[hub_id, "version"]) >= version  # no version went back
        names = set(final["name"])
        for key, rows in batches.items():
            present = [n for _, n, _, _ in rows if n in names]
            if key in reports:  # acknowledged: all there
                assert reports[key]["count"] == 50, reports[key]
                assert len(present) == 50, f"trial {trial}: import {key} lost hubs"
            else:  # failed: all or nothing
                assert not present, f"trial {trial}: failed import {key} left {present[:3]}"
        shutil.rmtree(ws_path.parent)
    assert not failures, "writes failed because another write ran at the same time:\n" + \
        "\n".join(failures)


def test_import_upload_during_patches_is_never_500(demo_master: Path, tmp_path: Path) -> None:
    """The same race through the server: an uploaded hub list imported while PATCHes land."""
    from kenmap.api.app import create_app

    rows = _import_rows(demo_master)["A"]
    text = "type,name,lon,lat\n" + "".join(f"{t},{n},{lon},{lat}\n" for t, n, lon, lat in rows)
    statuses: list[tuple[str, int, str]] = []
    for trial in range(5):
        ws_path = copy_of(demo_master, tmp_path / f"trial{trial}")
        uploading = threading.Event()
        uploading.set()
        with TestClient(create_app(ws_path, token=TOKEN), raise_server_exceptions=False) as c:
            def patch(hub_id: int, c: TestClient = c, uploading: threading.Event = uploading
                      ) -> None:
                version = 1
                for n in range(60):  # PATCH after PATCH while the upload is imported
                    if not uploading.is_set():
                        break
                    r = c.patch(f"/api/hubs/{hub_id}", json={"version": version,
                                                             "name": f"n{n}"}, headers=AUTH)
                    statuses.append(("PATCH", r.status_code, r.text[:200]))
                    if r.status_code == 200:
                        version = int(r.json()["version"])

            def upload(c: TestClient = c, uploading: threading.Event = uploading) -> None:
                try:
                    r = c.post("/api/imports/hubs", params={"type_field": "type"},
                               headers=AUTH, files={"file": ("hubs.csv", text.encode())})
                    statuses.append(("import", r.status_code, r.text[:200]))
                finally:
                    uploading.clear()

            threads = [threading.Thread(target=patch, args=(1,)),
                       threading.Thread(target=patch, args=(8,)),
                       threading.Thread(target=upload)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
    bad = [s for s in statuses if s[1] >= 500]
    assert not bad, f"{len(bad)} of {len(statuses)} requests failed with 5xx: {bad[:3]}"
    assert all(code == 200 for _, code, _ in statuses)


# -- 8. Stopping a busy server ------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        os.kill(pid, 0)
        status = Path(f"/proc/{pid}/status").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
    state = next((line for line in status.splitlines() if line.startswith("State:")), "")
    return "Z" not in state.split()[1:2]


@pytest.mark.slow
def test_sigterm_stops_a_busy_server_and_its_jobs(demo_copy_ws: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    port = _free_port()
    log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-c", "from kenmap.cli import main; main()", "serve", str(demo_copy_ws),
         "--port", str(port), "--token-file", str(token_file)],
        stdout=subprocess.DEVNULL, stderr=log)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, "server did not start"
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        result: dict[str, Any] = {}

        def ask() -> None:
            try:
                result["response"] = httpx.post(
                    f"http://127.0.0.1:{port}/api/siting", headers=AUTH, timeout=120,
                    json={"hub_type": "ibasho", "k": 20, "candidate_grid": 400,
                          "solver": "exact", "time_limit": 60})  # ~14 s of solving
            except httpx.HTTPError as exc:
                result["error"] = exc

        thread = threading.Thread(target=ask, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not children and time.monotonic() < deadline:
            children = [pid for pid in _children(server.pid) if "multiprocessing" in
                        Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
            time.sleep(0.1)
        assert children, "the siting job never started"
        time.sleep(2)
        children = _children(server.pid)  # the job and any helper (resource tracker)
        assert thread.is_alive() and "response" not in result  # still busy
        stopped = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        assert time.monotonic() - stopped < 10
        while any(_alive(pid) for pid in children) and time.monotonic() - stopped < 10:
            time.sleep(0.1)
        survivors = [pid for pid in children if _alive(pid)]
        assert not survivors, f"children of the stopped server still run: {survivors}"
        thread.join(timeout=20)
        response = result.get("response")
        assert response is None or response.status_code != 200  # the job did not finish
    finally:
        log.close()
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
