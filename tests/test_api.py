"""The kenmap server: read endpoints, versioned hub edits, uploads and hostile input."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ESTAT, SHELTERS, copy_of, digest
from fastapi.testclient import TestClient

TOKEN = "kenmap-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def demo_copy(demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_of(demo_master, tmp_path_factory.mktemp("api"))


@pytest.fixture
def client(demo_copy: Path, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    from kenmap.api.app import create_app

    ws = tmp_path / "demo.gpkg"
    shutil.copy(demo_copy, ws)
    with TestClient(create_app(ws, token=TOKEN, max_upload=5_000_000)) as c:
        yield c, ws


def test_read_endpoints(client: tuple[TestClient, Path]) -> None:
    c, _ = client
    assert c.get("/healthz").json()["ok"] is True
    layers = {x["key"]: x for x in c.get("/api/layers").json()["layers"]}
    assert layers["gyoseiku"]["count"] == 359 and layers["gyoseiku"]["label"] == "行政区"
    areas = c.get("/api/layers/gyoseiku/areas")
    assert areas.headers["content-type"].startswith("application/geo+json")
    data = areas.json()
    assert len(data["features"]) == 359
    props = data["features"][0]["properties"]
    assert list(props)[:11] == ["code", "name", "parent_code", "population", "pop65", "pop75",
                                "households", "aging_rate", "late_aging_rate", "area_km2",
                                "hubs"]
    coords = data["features"][0]["geometry"]["coordinates"]
    while isinstance(coords[0], list):
        coords = coords[0]
    lon, lat = coords
    assert 134 < lon < 136 and 35 < lat < 36  # EPSG:4326
    full = c.get("/api/layers/gyoseiku/areas?full=true").json()
    assert len(json.dumps(full)) > len(json.dumps(data))  # simplified unless full
    profile = c.get(f"/api/areas/chiku/{props['parent_code']}").json()
    assert profile["area"]["code"] == props["parent_code"]
    assert profile["parent"]["name"] in {"中央町", "北浜町", "東谷町", "西山町", "南原町", "奥野町"}
    assert profile["city"]["population"] == 80_000
    assert profile["children_lacking"]["layer"] == "gyoseiku"
    assert all(a["reason"].endswith("ありません") for a in profile["children_lacking"]["areas"])
    gaps = c.get("/api/gaps", params={"layer": "gyoseiku", "hub_type": "salon",
                                      "radius": 500}).json()["areas"]
    assert list(gaps[0]) == ["code", "name", "hub_type", "lacking", "reason", "hubs_inside",
                             "pop65", "pop65_reached", "reach_rate", "nearest_hub_m"]
    assert c.get("/api/coverage").json()["types"]["salon"]["layers"]["gyoseiku"]["areas"] == 359
    hubs = c.get("/api/hubs", params={"type": "hokatsu"}).json()["features"]
    assert len(hubs) == 6 and hubs[0]["properties"]["type"] == "hokatsu"
    assert "デモ市" in c.get("/maps/").text
    page = c.get("/maps/kyushicho").text
    assert "km-area" in page and '<script src="http' not in page
    docs = c.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in docs and "cdn" not in docs
    assert c.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


@pytest.mark.parametrize("url", ["/api/layers/nope/areas", "/api/areas/chiku/none",
                                 "/api/gaps?layer=chiku&hub_type=karaoke",
                                 "/api/gaps?layer=chiku&hub_type=salon&radius=-5",
                                 "/maps/nope", "/api/hubs/1"])
def test_bad_reads_are_4xx_json(client: tuple[TestClient, Path], url: str) -> None:
    c, _ = client
    r = c.get(url)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/json")


def test_hub_edits_with_versions(client: tuple[TestClient, Path]) -> None:
    c, ws = client
    before = digest(ws)
    new = {"type": "ibasho", "name": "駅前みんなの居場所", "lon": 134.82, "lat": 35.545,
           "status": "planned", "schedule": "週3回"}
    assert c.post("/api/hubs", json=new).status_code == 401
    assert c.post("/api/hubs", json=new, headers={"Authorization": "Bearer wrong"}
                  ).status_code == 401
    assert digest(ws) == before
    r = c.post("/api/hubs", json=new, headers=AUTH)
    assert r.status_code == 201, r.text
    hub = r.json()
    assert hub["version"] == 1 and hub["areas"]["gyoseiku"] is not None
    planned = c.get("/api/hubs", params={"status": "planned", "type": "ibasho"}).json()
    assert hub["id"] in [f["id"] for f in planned["features"]]
    # The what-if: with planned hubs, the 行政区 it stands in no longer lacks a 居場所.
    code = hub["areas"]["gyoseiku"]
    gaps = c.get("/api/gaps", params={"layer": "gyoseiku", "hub_type": "ibasho",
                                      "with_planned": True}).json()["areas"]
    assert next(a for a in gaps if a["code"] == code)["lacking"] is False
    # Two planners edit from version 1: the second is refused, nothing is overwritten.
    first = c.patch(f"/api/hubs/{hub['id']}", json={"version": 1, "status": "existing"},
                    headers=AUTH)
    assert first.status_code == 200 and first.json()["version"] == 2
    second = c.patch(f"/api/hubs/{hub['id']}", json={"version": 1, "name": "別名"},
                     headers=AUTH)
    assert second.status_code == 409 and "version 2" in second.json()["error"]
    after = next(f for f in c.get("/api/hubs").json()["features"] if f["id"] == hub["id"])
    assert after["properties"]["name"] == "駅前みんなの居場所"
    assert after["properties"]["status"] == "existing"
    far = c.get("/api/hubs", params={"type": "hokatsu"}).json()["features"][0]["properties"]
    moved = c.patch(f"/api/hubs/{hub['id']}", json={"version": 2, "lon": far["lon"] + 0.001,
                                                    "lat": far["lat"]}, headers=AUTH).json()
    assert moved["version"] == 3 and moved["areas"]["gyoseiku"] != code
    stale = c.delete(f"/api/hubs/{hub['id']}", params={"version": 2}, headers=AUTH)
    assert stale.status_code == 409
    assert c.delete(f"/api/hubs/{hub['id']}", params={"version": 3}, headers=AUTH
                    ).status_code == 204
    assert c.delete(f"/api/hubs/{hub['id']}", params={"version": 3}, headers=AUTH
                    ).status_code == 404


def test_figures_computed_in_their_own_process(client: tuple[TestClient, Path],
                                               demo_copy: Path, tmp_path: Path) -> None:
    """``kenmap serve`` computes figures in a child process: the same bytes as computed in
    the server's threads, errors with their own status, and an edit seen by the next fresh
    read."""
    from kenmap.api.app import create_app

    threads, _ = client
    ws = tmp_path / "process" / "demo.gpkg"
    ws.parent.mkdir()
    shutil.copy(demo_copy, ws)
    urls = ["/api/layers", "/api/layers/chiku/areas", "/api/areas/chiku/" + threads.get(
        "/api/layers/chiku/areas").json()["features"][0]["properties"]["code"],
        "/api/gaps?layer=gyoseiku&hub_type=salon&radius=500", "/api/coverage",
        "/api/hubs?type=salon", "/maps/"]
    with TestClient(create_app(ws, token=TOKEN, figure_process=True)) as c:
        for url in urls:
            mine, theirs = c.get(url), threads.get(url)
            assert mine.status_code == 200, (url, mine.text)
            assert mine.content == theirs.content, url
        page = c.get("/maps/chiku")  # folium names its elements at random: not bytewise
        assert page.status_code == 200 and "km-area" in page.text
        missing = c.get("/api/areas/chiku/none")
        assert missing.status_code == 404 and "区域 none" in missing.json()["error"]
        hub = c.get("/api/hubs?type=salon").json()["features"][0]["properties"]
        fresh = {"Cache-Control": "no-cache"}
        r = c.patch(f"/api/hubs/{hub['id']}", headers=AUTH,
                    json={"version": hub["version"], "status": "planned"})
        assert r.status_code == 200, r.text
        after = c.get("/api/hubs?type=salon", headers=fresh).json()["features"]
        assert next(f for f in after if f["id"] == hub["id"])["properties"]["status"] == \
            "planned"


@pytest.mark.parametrize(("body", "needle"), [
    ({"type": "karaoke", "name": "x", "lon": 134.82, "lat": 35.545}, "'karaoke' は使えない値"),
    ({"type": "salon", "name": "x", "lon": 35.545, "lat": 134.82}, None),  # swapped: 422
    ({"type": "salon", "name": "x", "lon": 139.7, "lat": 35.68}, "市域の外"),
])
def test_bad_hubs_change_nothing(client: tuple[TestClient, Path], body: dict[str, Any],
                                 needle: str | None) -> None:
    c, ws = client
    before = digest(ws)
    r = c.post("/api/hubs", json=body, headers=AUTH)
    assert 400 <= r.status_code < 500
    if needle:
        assert needle in r.json()["error"]
    assert digest(ws) == before


def test_read_only_without_token(demo_copy: Path) -> None:
    from kenmap.api.app import create_app

    with TestClient(create_app(demo_copy)) as c:
        r = c.post("/api/hubs", json={"type": "salon", "name": "x", "lon": 134.82,
                                      "lat": 35.545}, headers=AUTH)
        assert r.status_code == 403 and "読み取り専用" in r.json()["error"]


def _zip_estat(members: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for ext in ("shp", "shx", "dbf", "prj"):
            zf.write(ESTAT.with_suffix(f".{ext}"), f"h27/31-tottori-all.{ext}")
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def empty_ws(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    from kenmap.api.app import create_app
    from kenmap.model.scheme import PRESETS
    from kenmap.workspace import Workspace

    ws = Workspace.create(tmp_path / "yonago.gpkg", PRESETS["yonago"], "yonago").path
    with TestClient(create_app(ws, token=TOKEN, max_upload=20_000_000)) as c:
        yield c, ws


AREAS = {"layer": "jichikai", "code_field": "KEY_CODE", "name_field": "MOJI",
         "where": "CITY == '202'"}


def test_upload_zipped_shapefile(empty_ws: tuple[TestClient, Path]) -> None:
    c, _ = empty_ws
    r = c.post("/api/imports/areas", params=AREAS, headers=AUTH,
               files={"file": ("tottori.zip", _zip_estat(), "application/zip")})
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 258
    layers = {x["key"]: x["count"] for x in c.get("/api/layers").json()["layers"]}
    assert layers["jichikai"] == 258  # reflected at once
    hubs = c.post("/api/imports/hubs", params={"type": "kominkan", "name_field": "施設・場所名"},
                  headers=AUTH, files={"file": ("shelters.geojson", (
                      SHELTERS / "evacuation_312029.geojson").read_bytes())})
    assert hubs.status_code == 200 and hubs.json()["count"] == 146


@pytest.mark.parametrize(("name", "data", "status", "needle"), [
    ("evil.zip", "traversal", 400, "パスが安全ではない"),
    ("bomb.zip", "bomb", 400, "zip 爆弾"),
    ("areas.gpkg", b"this is a text file, not a GeoPackage\n" * 10, 400,
     "読み込めるベクタファイルではありません"),
    ("areas.exe", b"MZ\x90\x00", 400, "のいずれかにしてください"),
    ("empty.geojson", b"", 400, "空です"),
    ("big.zip", "big", 413, "を超えています"),
])
def test_hostile_uploads(empty_ws: tuple[TestClient, Path], name: str, data: Any, status: int,
                         needle: str) -> None:
    c, ws = empty_ws
    if data == "traversal":
        data = _zip_estat({"../../etc/evil.shp": b"x"})
    elif data == "bomb":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("areas.geojson", b" " * 300_000_000)
        data = buffer.getvalue()
    elif data == "big":
        data = b"PK" + b"\0" * 21_000_000
    before = digest(ws)
    r = c.post("/api/imports/areas", params=AREAS, headers=AUTH,
               files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]
    assert digest(ws) == before


def test_upload_needs_the_token(empty_ws: tuple[TestClient, Path]) -> None:
    c, ws = empty_ws
    before = digest(ws)
    r = c.post("/api/imports/areas", params=AREAS,
               files={"file": ("tottori.zip", _zip_estat(), "application/zip")})
    assert r.status_code == 401 and digest(ws) == before
