"""The import wizard's backend on real files: the e-Stat small areas of Tottori (cp932 DBF, no
.cpg, JGD2000), a population table made from their census counts, and the GSI shelters of
米子市 as a hub list. Upload, detection, dry runs on a throw-away copy, commit, history, and
hostile uploads."""

from __future__ import annotations

import io
import json
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pyogrio
import pytest
from conftest import ESTAT, N03, SHELTERS, copy_of, digest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.real  # every test reads ../shared/data/real

TOKEN = "kenmap-wizard-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
YONAGO = "CITY == '202'"
SHELTER_FILE = SHELTERS / "evacuation_312029.geojson"


@pytest.fixture(scope="module")
def estat_zip() -> bytes:
    """The real e-Stat shapefile of Tottori, zipped as a GIS officer would (no .cpg)."""
    assert ESTAT.exists(), f"real data missing: {ESTAT}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for ext in ("shp", "shx", "dbf", "prj"):
            zf.write(ESTAT.with_suffix(f".{ext}"), f"h27/31-tottori-all.{ext}")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def population_csv() -> bytes:
    """米子市's census counts per small area (JINKO, SETAI of the real DBF, enclave parts
    summed), as an office's CSV saved by Excel: cp932, Japanese headers."""
    table = pyogrio.read_dataframe(ESTAT, encoding="cp932", read_geometry=False,
                                   columns=["CITY", "KEY_CODE", "MOJI", "JINKO", "SETAI"])
    yonago = table[table["CITY"] == "202"].groupby("KEY_CODE", as_index=False, sort=True).agg(
        {"MOJI": "first", "JINKO": "sum", "SETAI": "sum"})
    yonago.columns = ["KEY_CODE", "町丁字名", "人口総数", "世帯数"]
    assert len(yonago) == 258 and yonago["人口総数"].sum() == 149_313
    return yonago.to_csv(index=False).encode("cp932")


@pytest.fixture(scope="module")
def yonago_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """米子市's 258 small areas as the 近隣・自治会 layer of a yonago workspace."""
    from kenmap.layers.areas import import_areas
    from kenmap.model.scheme import PRESETS
    from kenmap.workspace import Workspace

    ws = Workspace.create(tmp_path_factory.mktemp("wizard") / "yonago.gpkg",
                          PRESETS["yonago"], "yonago")
    import_areas(ws, [ESTAT], layer="jichikai", code_field="KEY_CODE", name_field="MOJI",
                 where=YONAGO)
    return ws.path


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder of this test alone, so what the server leaves there is its own."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _client(ws: Path) -> TestClient:
    from kenmap.api.app import create_app

    return TestClient(create_app(ws, token=TOKEN, max_upload=20_000_000))


@pytest.fixture
def empty(tmp_path: Path, private_tmp: Path) -> Iterator[tuple[TestClient, Path]]:
    from kenmap.model.scheme import PRESETS
    from kenmap.workspace import Workspace

    ws = Workspace.create(tmp_path / "yonago.gpkg", PRESETS["yonago"], "yonago").path
    with _client(ws) as c:
        yield c, ws


@pytest.fixture
def yonago(yonago_master: Path, tmp_path: Path, private_tmp: Path
           ) -> Iterator[tuple[TestClient, Path]]:
    ws = copy_of(yonago_master, tmp_path, "yonago.gpkg")
    with _client(ws) as c:
        yield c, ws


def _upload(c: TestClient, kind: str, name: str, data: bytes, **form: str) -> dict[str, Any]:
    r = c.post("/api/wizard/uploads", data={"kind": kind, **form}, headers=AUTH,
               files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"upload_id", "kind", "file", "expires_at", "detected"}
    assert set(body["detected"]) == {"encoding", "encoding_detected", "crs_epsg", "crs_note",
                                     "count", "fields", "rows", "suggested", "fits", "notes",
                                     "municipalities"}
    return dict(body)


def _error(r: Any, status: int) -> dict[str, Any]:
    """An ApiError body, never a traceback nor a server path."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "file", "row", "field"}
    assert "Traceback" not in r.text and "/tmp" not in r.text and "kenmap-" not in r.text
    return dict(body)


def _wizard_folders(folder: Path, prefix: str = "kenmap-") -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(prefix)]


# -- detection ------------------------------------------------------------------------------

def test_estat_upload_detects_cp932_jgd2000_and_key_fields(
        empty: tuple[TestClient, Path], estat_zip: bytes, private_tmp: Path) -> None:
    c, ws = empty
    before = digest(ws)
    body = _upload(c, "areas", "tottori.zip", estat_zip)
    assert body["kind"] == "areas" and body["file"] == "tottori.zip"
    found = body["detected"]
    # The DBF is cp932 without a .cpg: detected, not assumed.
    assert found["encoding"] == "cp932" and found["encoding_detected"] is True
    assert found["crs_epsg"] == 4612 and "JGD2000" in found["crs_note"]
    assert found["count"] == 2504
    fields = {f["name"]: f for f in found["fields"]}
    assert {"KEY_CODE", "MOJI", "JINKO", "SETAI", "HCODE", "KIGO_E", "CITY"} <= set(fields)
    assert fields["JINKO"]["numeric"] is True and fields["MOJI"]["numeric"] is False
    assert fields["MOJI"]["sample"][0] == "立川町３丁目"  # decoded, no mojibake
    assert len(fields["KEY_CODE"]["sample"]) == 5
    assert len(found["rows"]) == 5 and found["rows"][0]["GST_NAME"] == "鳥取市"
    assert found["suggested"] == {"layer": "jichikai", "code_field": "KEY_CODE",
                                  "name_field": "MOJI"}
    assert found["fits"][0]["layer"] == "jichikai" and found["fits"][0]["matched"] > 0
    assert all(set(f) == {"layer", "label", "matched", "note"} for f in found["fits"])
    yonago = next(m for m in found["municipalities"] if m["code"] == "31202")
    assert yonago == {"code": "31202", "name": "米子市", "count": 259, "where": YONAGO}
    assert any("水面の2行" in n for n in found["notes"])  # the import's own e-Stat rules
    # Kept in a private folder of its own; the workspace is untouched.
    (folder,) = _wizard_folders(private_tmp, "kenmap-wizard-")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / "tottori.zip").read_bytes() == estat_zip
    assert digest(ws) == before
    listed = c.get("/api/wizard/uploads", headers=AUTH).json()
    assert [u["upload_id"] for u in listed] == [body["upload_id"]]
    again = c.get(f"/api/wizard/uploads/{body['upload_id']}", headers=AUTH).json()
    assert again["detected"] == found


def test_detection_matches_the_import(yonago: tuple[TestClient, Path], estat_zip: bytes
                                      ) -> None:
    """Re-uploading the areas of a workspace: the city is suggested and the layer it replaces
    fits, by its codes."""
    c, _ = yonago
    body = _upload(c, "areas", "tottori.zip", estat_zip)
    found = body["detected"]
    assert found["suggested"]["where"] == YONAGO
    assert found["fits"][0] == {"layer": "jichikai", "label": "近隣・自治会", "matched": 1.0,
                                "note": found["fits"][0]["note"]}
    assert "100% 一致" in found["fits"][0]["note"]
    assert "取り込むと 258区域になります" in found["notes"]
    assert found["crs_note"].endswith(
        "EPSG:6673 (JGD2011 / Japan Plane Rectangular CS V) に変換します）")
    # Told the encoding, the detection says so and keeps it among the options to send back.
    r = c.post(f"/api/wizard/uploads/{body['upload_id']}/detect", headers=AUTH,
               json={"encoding": "Shift_JIS"})
    assert r.status_code == 200, r.text
    told = r.json()["detected"]
    assert told["encoding"] == "cp932" and told["encoding_detected"] is False
    assert told["suggested"]["encoding"] == "Shift_JIS"
    assert told["fields"] == found["fields"]
    r = c.post(f"/api/wizard/uploads/{body['upload_id']}/detect", headers=AUTH,
               json={"layer_name": "nope"})
    assert _error(r, 400)["field"] == "layer_name"


# -- dry runs -------------------------------------------------------------------------------

def test_wrong_field_then_corrected_dry_run_leaves_the_workspace_as_it_was(
        empty: tuple[TestClient, Path], estat_zip: bytes, private_tmp: Path) -> None:
    c, ws = empty
    before = digest(ws)
    upload_id = _upload(c, "areas", "tottori.zip", estat_zip)["upload_id"]
    url = f"/api/wizard/uploads/{upload_id}/dry-run"
    good = {"layer": "jichikai", "code_field": "KEY_CODE", "name_field": "MOJI",
            "where": YONAGO}

    wrong = _error(c.post(url, json={**good, "code_field": "CITY"}, headers=AUTH), 400)
    assert wrong["field"] == "code_field"
    assert "重複" in wrong["error"] and "CITY" in wrong["error"] and "ほか" in wrong["error"]
    missing = _error(c.post(url, json={**good, "name_field": "名前"}, headers=AUTH), 400)
    assert missing["field"] == "name_field" and "項目がありません" in missing["error"]
    assert "--" not in missing["error"]  # options named as the wizard names them
    assert _error(c.post(url, json={**good, "layer": "gyoseiku"}, headers=AUTH),
                  422)["field"] == "layer"
    assert _error(c.post(url, json={**good, "colour": "red"}, headers=AUTH),
                  422)["field"] == "colour"
    assert _error(c.post(url, json={"layer": "jichikai"}, headers=AUTH),
                  422)["field"] == "code_field"
    assert _error(c.post(url, json={**good, "where": "CITY = 202"}, headers=AUTH),
                  400)["field"] == "where"

    r = c.post(url, json=good, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"report", "changes", "would_write"} and body["would_write"] is True
    assert body["report"]["count"] == 258 and body["report"]["layer"] == "jichikai"
    assert body["report"]["crs_epsg"] == 6673
    assert any("cp932（自動判定）" in n for n in body["report"]["notes"])
    assert body["changes"]["before"]["areas"] == {}
    assert body["changes"]["after"]["areas"] == {"jichikai": 258}
    assert body["changes"]["codes"] == {"layer": "jichikai", "kept": 0, "added": 258,
                                        "removed": 0, "removed_sample": []}
    assert "/tmp" not in r.text and "kenmap-wizard" not in r.text
    # Nothing was written: the workspace is byte for byte the same, its copy is gone.
    assert digest(ws) == before
    assert _wizard_folders(private_tmp, "kenmap-dryrun-") == []
    assert {x["key"]: x["count"] for x in c.get("/api/layers").json()["layers"]
            }["jichikai"] == 0


def test_commit_imports_and_is_in_the_history(
        empty: tuple[TestClient, Path], estat_zip: bytes, private_tmp: Path) -> None:
    from kenmap.layers.areas import import_areas
    from kenmap.workspace import Workspace

    c, ws = empty
    assert c.get("/api/imports/history", headers=AUTH).json() == {"imports": []}
    upload_id = _upload(c, "areas", "tottori.zip", estat_zip)["upload_id"]
    options = {"layer": "jichikai", "code_field": "KEY_CODE", "name_field": "MOJI",
               "where": YONAGO}
    before = digest(ws)
    r = c.post(f"/api/wizard/uploads/{upload_id}/commit", headers=AUTH,
               json={**options, "code_field": "KEN"})
    assert _error(r, 400)["field"] == "code_field"
    assert digest(ws) == before  # refused: nothing written, the upload kept to try again
    assert len(_wizard_folders(private_tmp, "kenmap-wizard-")) == 1
    r = c.post(f"/api/wizard/uploads/{upload_id}/commit", json=options, headers=AUTH)
    assert r.status_code == 200, r.text
    done = r.json()
    assert set(done) == {"report", "entry"} and done["report"]["count"] == 258
    layers = {x["key"]: x["count"] for x in c.get("/api/layers").json()["layers"]}
    assert layers["jichikai"] == 258
    # The upload is gone once imported.
    assert _wizard_folders(private_tmp, "kenmap-wizard-") == []
    assert _error(c.post(f"/api/wizard/uploads/{upload_id}/commit", json=options,
                         headers=AUTH), 404)["field"] == "upload_id"

    # An import made elsewhere (the command line) is in the history too, without a name.
    import_areas(Workspace.open(ws), [N03], layer="shi", code_field="N03_007", name_field="N03_004",
                 where="N03_007 == '31202'")
    history = c.get("/api/imports/history", headers=AUTH).json()["imports"]
    assert [(h["kind"], h["layer"], h["via"]) for h in history] == [
        ("areas", "shi", "other"), ("areas", "jichikai", "wizard")]
    mine = history[1]
    assert set(mine) == {"at", "by", "kind", "file", "layer", "title", "summary", "notes",
                         "warnings", "via"}
    assert mine["by"] == "token" and mine["file"] == "tottori.zip"
    assert mine["summary"]["count"] == 258 and mine["warnings"] == []
    assert mine["title"] == "近隣・自治会（jichikai）に258区域を取り込みました"
    assert history[0]["by"] is None and history[0]["file"] == "N03-21_31_210101_s0010.geojson"
    assert history[0]["at"] >= mine["at"]
    assert "/tmp" not in json.dumps(history)
    assert len(c.get("/api/imports/history?limit=1", headers=AUTH).json()["imports"]) == 1


def test_population_csv_is_detected_fitted_and_joined(
        yonago: tuple[TestClient, Path], population_csv: bytes) -> None:
    c, ws = yonago
    before = digest(ws)
    body = _upload(c, "population", "米子市_人口.csv", population_csv)
    found = body["detected"]
    assert body["file"] == "米子市_人口.csv"
    assert found["encoding"] == "cp932" and found["encoding_detected"] is True
    assert found["crs_epsg"] is None and found["count"] == 258
    assert found["suggested"] == {"layer": "jichikai", "code_field": "KEY_CODE",
                                  "total_field": "人口総数", "households_field": "世帯数"}
    assert found["fits"] == [{"layer": "jichikai", "label": "近隣・自治会", "matched": 1.0,
                              "note": "258行のうち258行が近隣・自治会の区域（258区域）に一致"}]
    assert any("65歳以上の人数が見つかりません" in n for n in found["notes"])
    url = f"/api/wizard/uploads/{body['upload_id']}"

    wrong = _error(c.post(f"{url}/dry-run", json={**found["suggested"],
                                                  "code_field": "人口総数"}, headers=AUTH), 400)
    assert wrong["field"] == "code_field" and "一致する行がありません" in wrong["error"]
    both = _error(c.post(f"{url}/dry-run", json={**found["suggested"],
                                                 "name_field": "町丁字名"}, headers=AUTH), 400)
    assert both["field"] == "code_field" and "どちらか一方" in both["error"]

    r = c.post(f"{url}/dry-run", json=found["suggested"], headers=AUTH)
    assert r.status_code == 200, r.text
    dry = r.json()
    assert dry["report"]["matched_share"] == 1.0 and dry["report"]["matched_rows"] == 258
    assert dry["report"]["file"] == "米子市_人口.csv"
    assert dry["changes"]["before"]["population"] == {}
    assert dry["changes"]["after"]["population"] == {"jichikai": 258}
    assert digest(ws) == before

    r = c.post(f"{url}/commit", json=found["suggested"], headers=AUTH)
    assert r.status_code == 200, r.text
    entry, first = c.get("/api/imports/history", headers=AUTH).json()["imports"]
    assert first["kind"] == "areas" and first["via"] == "other"  # the workspace's areas
    assert entry["kind"] == "population" and entry["layer"] == "jichikai"
    assert entry["summary"]["matched_share"] == 1.0 and entry["by"] == "token"
    stats = c.get("/api/areas/jichikai/312020010").json()["area"]
    assert stats["population"] == 474 and stats["households"] == 226


def test_shelters_are_detected_as_hubs_and_fitted(yonago: tuple[TestClient, Path]) -> None:
    c, ws = yonago
    before = digest(ws)
    body = _upload(c, "hubs", SHELTER_FILE.name, SHELTER_FILE.read_bytes())
    found = body["detected"]
    assert found["encoding"] == "utf-8" and found["crs_epsg"] == 4326
    assert found["count"] == 146
    assert "施設・場所名" in {f["name"] for f in found["fields"]}
    # No type column: the catalogue's labels found in the names (29 公民館, 18 集会所).
    assert found["suggested"] == {
        "name_field": "施設・場所名", "type_field": "施設・場所名",
        "type_map": [{"value": "公民館", "type": "kominkan", "match": "contains"},
                     {"value": "集会所", "type": "shukaijo", "match": "contains"}]}
    assert any("公民館 29件, 集会所 18件" in n and "99行は取り込みません" in n
               for n in found["notes"])
    assert found["fits"][0]["layer"] == "jichikai"
    assert found["fits"][0]["matched"] >= 0.95
    url = f"/api/wizard/uploads/{body['upload_id']}"

    wrong = _error(c.post(f"{url}/dry-run", json={"type": "karaoke"}, headers=AUTH), 400)
    assert wrong["field"] == "type" and "karaoke" in wrong["error"]
    wrong = _error(c.post(f"{url}/dry-run", json={**found["suggested"], "name_field": "名前"},
                          headers=AUTH), 400)
    assert wrong["field"] == "name_field"
    assert _error(c.post(f"{url}/dry-run", json={**found["suggested"], "status": "maybe"},
                         headers=AUTH), 422)["field"] == "status"

    r = c.post(f"{url}/dry-run", json=found["suggested"], headers=AUTH)
    assert r.status_code == 200, r.text
    dry = r.json()
    assert dry["report"]["count"] == 47
    assert dry["report"]["by_type"] == {"kominkan": 29, "shukaijo": 18}
    assert any("99行を除きました" in w for w in dry["report"]["warnings"])
    assert dry["changes"]["before"]["hubs"] == 0 and dry["changes"]["after"]["hubs"] == 47
    assert digest(ws) == before
    r = c.post(f"{url}/commit", json=found["suggested"], headers=AUTH)
    assert r.status_code == 200, r.text
    hubs = c.get("/api/hubs", params={"type": "kominkan"}).json()["features"]
    assert len(hubs) == 29 and all("公民館" in h["properties"]["name"] for h in hubs)
    entry = c.get("/api/imports/history", headers=AUTH).json()["imports"][0]
    assert entry["kind"] == "hubs" and entry["layer"] is None
    assert any("99行を除きました" in w for w in entry["warnings"])


# -- who, how long, how many ------------------------------------------------------------------

def test_writes_need_an_editor_and_readers_see_nothing(
        yonago: tuple[TestClient, Path], yonago_master: Path, tmp_path: Path) -> None:
    from kenmap.api.app import create_app

    c, ws = yonago
    r = c.post("/api/wizard/uploads", data={"kind": "hubs"},
               files={"file": (SHELTER_FILE.name, SHELTER_FILE.read_bytes())})
    assert _error(r, 401)["field"] == "Authorization"
    assert c.get("/api/imports/history").status_code == 401
    upload_id = _upload(c, "hubs", SHELTER_FILE.name, SHELTER_FILE.read_bytes())["upload_id"]
    for method, url in (("post", f"/api/wizard/uploads/{upload_id}/dry-run"),
                        ("post", f"/api/wizard/uploads/{upload_id}/commit"),
                        ("get", f"/api/wizard/uploads/{upload_id}"),
                        ("delete", f"/api/wizard/uploads/{upload_id}")):
        assert getattr(c, method)(url).status_code == 401, url
    assert c.delete(f"/api/wizard/uploads/{upload_id}", headers=AUTH).status_code == 204
    assert c.get(f"/api/wizard/uploads/{upload_id}", headers=AUTH).status_code == 404
    with TestClient(create_app(copy_of(yonago_master, tmp_path / "ro"))) as ro:
        r = ro.post("/api/wizard/uploads", data={"kind": "hubs"}, headers=AUTH,
                    files={"file": (SHELTER_FILE.name, SHELTER_FILE.read_bytes())})
        assert _error(r, 403)["error"].startswith("このサーバーは読み取り専用です")
    assert digest(ws) == digest(yonago_master)


def test_the_signed_in_user_is_recorded(yonago_master: Path, tmp_path: Path,
                                        private_tmp: Path) -> None:
    """With accounts, the first editor dependency returns the user: its name is ``by``."""
    import anyio
    from fastapi import Depends, FastAPI

    from kenmap.api.guards import install_error_handlers
    from kenmap.api.views import Views
    from kenmap.api.wizard import wizard_router

    ws = copy_of(yonago_master, tmp_path)
    views = Views(ws)

    async def write(function: Any, *args: Any) -> Any:
        return await anyio.to_thread.run_sync(lambda: function(views.writer(), *args))

    def editor() -> SimpleNamespace:
        return SimpleNamespace(name="tanaka", role="editor")

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(wizard_router(views, write, [Depends(editor)]))
    with TestClient(app) as c:
        upload = _upload(c, "hubs", SHELTER_FILE.name, SHELTER_FILE.read_bytes())
        r = c.post(f"/api/wizard/uploads/{upload['upload_id']}/commit",
                   json=upload["detected"]["suggested"])
        assert r.status_code == 200, r.text
        assert r.json()["entry"]["by"] == "tanaka"
        entry = c.get("/api/imports/history").json()["imports"][0]
        assert entry["by"] == "tanaka" and entry["kind"] == "hubs"


def test_at_most_five_uploads_kept_and_removed_on_stop(
        yonago_master: Path, tmp_path: Path, private_tmp: Path) -> None:
    with _client(copy_of(yonago_master, tmp_path)) as c:
        ids = [_upload(c, "hubs", f"shelters{i}.geojson",
                       SHELTER_FILE.read_bytes())["upload_id"] for i in range(6)]
        assert len(_wizard_folders(private_tmp, "kenmap-wizard-")) == 5
        assert c.get(f"/api/wizard/uploads/{ids[0]}", headers=AUTH).status_code == 404
        kept = [u["upload_id"] for u in c.get("/api/wizard/uploads", headers=AUTH).json()]
        assert kept == ids[1:]
    # The server stopped: its uploads went with it.
    assert _wizard_folders(private_tmp, "kenmap-wizard-") == []


def test_uploads_expire_an_hour_after_their_last_use(private_tmp: Path) -> None:
    from kenmap.api.staging import Uploads
    from kenmap.errors import NotFoundError

    now = [0.0]
    store = Uploads(limit=5, ttl_s=3600, clock=lambda: now[0])

    def add(name: str) -> str:
        staged = store.add(io.BytesIO(b"name,lon,lat\nx,133.3,35.4\n"), name, kind="hubs",
                           owner="token", limit=1000, max_expanded=1000, max_rows=10)
        return staged.id

    first, second = add("a.csv"), add("b.csv")
    now[0] = 3000.0
    with store.using(second, "token"):
        pass  # used: its hour starts again
    with pytest.raises(NotFoundError):
        with store.using(first, "other-user"):
            pass  # not the uploader's: as if it did not exist
    now[0] = 3601.0
    assert [s.id for s in store.list("token")] == [second]
    with pytest.raises(NotFoundError):
        with store.using(first, "token"):
            pass
    assert len(_wizard_folders(private_tmp, "kenmap-wizard-")) == 1
    now[0] = 6601.0
    assert store.list("token") == []
    assert _wizard_folders(private_tmp, "kenmap-wizard-") == []


# -- hostile uploads --------------------------------------------------------------------------

def _zip_with(members: dict[str, bytes], estat: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        if estat:
            for ext in ("shp", "shx", "dbf", "prj"):
                zf.write(ESTAT.with_suffix(f".{ext}"), f"h27/31-tottori-all.{ext}")
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data", "status", "needle"), [
    ("evil.zip", "traversal", 400, "パスが安全ではない"),
    ("bomb.zip", "bomb", 400, "zip 爆弾"),
    ("areas.exe", b"MZ\x90\x00", 400, "のいずれかにしてください"),
    ("areas.shp", b"\x00\x00\x27\x0a", 400, "のいずれかにしてください"),
    ("empty.geojson", b"", 400, "空です"),
    ("areas.gpkg", b"not a GeoPackage\n" * 10, 400, "読み込めるベクタファイルではありません"),
    ("big.zip", "big", 413, "を超えています"),
], ids=["zip-traversal", "zip-bomb", "exe", "bare-shp", "empty", "fake-gpkg", "too-big"])
def test_hostile_uploads_are_refused_and_leave_nothing(
        yonago: tuple[TestClient, Path], private_tmp: Path, name: str, data: Any,
        status: int, needle: str) -> None:
    c, ws = yonago
    if data == "traversal":
        data = _zip_with({"../../etc/evil.shp": b"x"})
    elif data == "bomb":
        data = _zip_with({"areas.geojson": b" " * 20_000_000}, estat=False)
    elif data == "big":
        data = b"PK" + b"\0" * 21_000_000
    before = digest(ws)
    r = c.post("/api/wizard/uploads", data={"kind": "areas"}, headers=AUTH,
               files={"file": (name, data, "application/octet-stream")})
    error = _error(r, status)
    assert needle in error["error"]
    assert error["field"] in ("file", None)
    assert digest(ws) == before
    assert _wizard_folders(private_tmp) == []
    assert not (private_tmp.parent / "etc").exists()


def test_traversal_file_names_stay_in_their_folder(yonago: tuple[TestClient, Path],
                                                    private_tmp: Path) -> None:
    c, _ = yonago
    body = _upload(c, "hubs", "../../../etc/shelters.geojson", SHELTER_FILE.read_bytes())
    assert body["file"] == "shelters.geojson"
    (folder,) = _wizard_folders(private_tmp, "kenmap-wizard-")
    assert sorted(os.listdir(folder)) == ["shelters.geojson"]
    assert not (private_tmp / "etc").exists() and not (private_tmp.parent / "etc").exists()
    r = c.post("/api/wizard/uploads", data={"kind": "nonsense"}, headers=AUTH,
               files={"file": ("a.csv", b"a\n1\n")})
    assert _error(r, 422)["field"] == "kind"
    r = c.post("/api/wizard/uploads/..%2F..%2Fetc/dry-run", json={}, headers=AUTH)
    assert r.status_code in (404, 422)
    assert c.get("/api/wizard/uploads/AAAAAAAAAAAAAAAAAAAAAAAA", headers=AUTH
                 ).status_code == 404


def test_an_undecodable_table_asks_for_the_encoding(yonago: tuple[TestClient, Path],
                                                    private_tmp: Path) -> None:
    c, _ = yonago
    # Western European text (é followed by a comma is no cp932): neither UTF-8 nor cp932.
    latin = "KEY_CODE,lieu,total\n312020010,Café,474\n312020020,Crème,358\n".encode("cp1252")
    r = c.post("/api/wizard/uploads", data={"kind": "population"}, headers=AUTH,
               files={"file": ("pop.csv", latin)})
    error = _error(r, 400)
    assert error["field"] == "encoding" and "--" not in error["error"]
    assert _wizard_folders(private_tmp) == []
    body = _upload(c, "population", "pop.csv", latin, encoding="cp1252")
    assert body["detected"]["encoding"] == "cp1252"
    assert body["detected"]["encoding_detected"] is False
    assert body["detected"]["suggested"]["encoding"] == "cp1252"
    assert body["detected"]["rows"][0]["lieu"] == "Café"
    assert body["detected"]["suggested"]["code_field"] == "KEY_CODE"


def test_population_from_the_estat_shapefile_picks_the_city(
        yonago: tuple[TestClient, Path], estat_zip: bytes) -> None:
    """The boundary file's own counts (JINKO, SETAI) as a population table: the rows of the
    workspace's city are chosen, water dropped and enclaves summed as the import does."""
    c, _ = yonago
    found = _upload(c, "population", "tottori.zip", estat_zip)["detected"]
    assert found["encoding"] == "cp932" and found["suggested"]["where"] == YONAGO
    assert found["suggested"]["code_field"] == "KEY_CODE"
    assert found["suggested"]["total_field"] == "JINKO"
    assert found["fits"][0]["layer"] == "jichikai" and found["fits"][0]["matched"] == 1.0
    assert pd.Series([f["name"] for f in found["fields"]]).is_unique
