"""Admins manage the catalogue of hub types over HTTP: anyone reads it; changes need an admin,
are checked (the field named), logged with who, and a type hubs still use is not removed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import digest
from fastapi.testclient import TestClient

TOKEN = "kenmap-catalogue-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(demo_copy_ws: Path) -> Iterator[TestClient]:
    from kenmap.api.app import create_app

    with TestClient(create_app(demo_copy_ws, token=TOKEN),
                    base_url="https://localhost") as c:
        yield c


def _type(c: TestClient, key: str) -> dict[str, Any]:
    return next(t for t in c.get("/api/catalogue").json()["types"] if t["key"] == key)


def test_anyone_reads_the_catalogue(client: TestClient) -> None:
    body = client.get("/api/catalogue").json()
    salon = next(t for t in body["types"] if t["key"] == "salon")
    assert salon["label"] == "サロン" and salon["radius_m"] == 500
    assert salon["expected_layer"] == "gyoseiku" and salon["hubs"] > 100
    assert salon["glyph"] == "サ"
    assert {"key": "gyoseiku", "label": "行政区"} in body["layers"]


def test_an_admin_changes_a_radius_and_coverage_follows(client: TestClient) -> None:
    before = client.get("/api/coverage").json()
    salon = _type(client, "salon")
    change = {k: salon[k] for k in ("label", "colour", "icon", "expected_layer")}
    r = client.put("/api/catalogue/salon", headers=BEARER, json={**change, "radius_m": 900})
    assert r.status_code == 200, r.text
    assert r.json()["radius_m"] == 900
    assert _type(client, "salon")["radius_m"] == 900
    # Reach is measured with the type's radius: the cached answer is not served again.
    after = client.get("/api/coverage").json()
    assert after != before
    assert before["types"]["salon"]["radius_m"] == 500
    assert after["types"]["salon"]["radius_m"] == 900
    audit = client.get("/api/audit", headers=BEARER).json()
    entries = audit["entries"] if isinstance(audit, dict) else audit
    top = entries[0]
    assert top["action"] == "type_update" and top["by"] == "token"
    assert top["details"]["changes"]["radius_m"] == [500.0, 900.0]


def test_a_renamed_type_is_named_in_the_gaps(client: TestClient) -> None:
    """The reasons of the gaps name the type: a new label is not answered from a gap table
    computed under the old one."""
    params = {"layer": "gyoseiku", "hub_type": "salon"}
    before = client.get("/api/gaps", params=params).json()
    assert any("サロンがありません" in a["reason"] for a in before["areas"])
    salon = _type(client, "salon")
    change = {k: salon[k] for k in ("colour", "icon", "expected_layer", "radius_m")}
    r = client.put("/api/catalogue/salon", headers=BEARER, json={**change,
                                                                 "label": "いきいきサロン"})
    assert r.status_code == 200, r.text
    after = client.get("/api/gaps", params=params,
                       headers={"Cache-Control": "no-cache"}).json()
    lacking = [a["reason"] for a in after["areas"] if a["lacking"]]
    assert lacking and all("いきいきサロンがありません" in reason for reason in lacking)


@pytest.mark.parametrize(("body", "field"), [
    ({"label": "", "colour": "#123456"}, "label"),
    ({"label": "サロン", "colour": "red"}, "colour"),
    ({"label": "サロン", "radius_m": -5}, "radius_m"),
    ({"label": "サロン", "expected_layer": "nowhere"}, "expected_layer"),
])
def test_bad_values_are_refused_naming_the_field(client: TestClient, demo_copy_ws: Path,
                                                 body: dict[str, Any], field: str) -> None:
    before = digest(demo_copy_ws)
    r = client.put("/api/catalogue/salon", headers=BEARER, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert digest(demo_copy_ws) == before


def test_add_and_remove_a_type_but_not_one_in_use(client: TestClient,
                                                  demo_copy_ws: Path) -> None:
    new = {"key": "shelter", "label": "避難所", "colour": "#123456", "icon": "避",
           "radius_m": 300}
    r = client.post("/api/catalogue", headers=BEARER, json=new)
    assert r.status_code == 201, r.text
    assert _type(client, "shelter")["glyph"] == "避"
    r = client.post("/api/catalogue", headers=BEARER, json=new)
    assert r.status_code == 400 and "すでにあります" in r.json()["error"]
    before = digest(demo_copy_ws)
    r = client.delete("/api/catalogue/salon", headers=BEARER)
    assert r.status_code == 409 and r.json()["field"] == "key"
    assert "削除できません" in r.json()["error"]
    assert digest(demo_copy_ws) == before
    assert client.delete("/api/catalogue/nothere", headers=BEARER).status_code == 404
    assert client.delete("/api/catalogue/shelter", headers=BEARER).status_code == 204
    assert all(t["key"] != "shelter" for t in client.get("/api/catalogue").json()["types"])


def test_without_a_sign_in_nothing_changes(client: TestClient, demo_copy_ws: Path) -> None:
    before = digest(demo_copy_ws)
    r = client.put("/api/catalogue/salon", json={"label": "x"})
    assert r.status_code == 401
    assert client.delete("/api/catalogue/shukaijo").status_code == 401
    assert digest(demo_copy_ws) == before
