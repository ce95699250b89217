"""Siting candidates from the workbench: a grid inside a drawn area, an uploaded list of
places (Japanese headers; the GSI shelters of 米子 as real points), each refused with a
message naming the field (and file and row) and nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from conftest import digest
from fastapi.testclient import TestClient

TOKEN = "kenmap-candidates-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SHELTERS = Path("/work/shared/data/real/gsi_shelters/evacuation_312029.geojson")


@pytest.fixture
def client(demo_copy_ws: Path) -> Iterator[TestClient]:
    from kenmap.api.app import create_app

    with TestClient(create_app(demo_copy_ws, token=TOKEN),
                    base_url="https://localhost") as c:
        yield c


def _places(c: TestClient, hub_type: str, n: int) -> list[dict[str, Any]]:
    """Places of hubs of a type (集会所: where new サロン could meet) as lon/lat."""
    features = c.get("/api/hubs", params={"type": hub_type}).json()["features"]
    return [{"name": f["properties"]["name"], "lon": f["geometry"]["coordinates"][0],
             "lat": f["geometry"]["coordinates"][1]} for f in features[:n]]


def _square(lon: float, lat: float, d: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d],
                                                [lon + d, lat + d], [lon - d, lat + d],
                                                [lon - d, lat - d]]]}


def test_siting_on_the_grid_of_a_drawn_area(client: TestClient, demo_copy_ws: Path) -> None:
    before = digest(demo_copy_ws)
    centre = _places(client, "shukaijo", 1)[0]
    area = _square(centre["lon"], centre["lat"], 0.012)
    r = client.post("/api/siting", headers=BEARER, json={
        "hub_type": "salon", "k": 3, "candidate_area": area, "candidate_grid": 200})
    assert r.status_code == 200, r.text
    body = r.json()
    # Candidates: points 200 m apart inside the square (about 2.2 × 2.7 km) and the city.
    assert 50 < body["candidates"] <= (2_200 * 2_700) / 200 ** 2 + 30
    assert body["sites"], body
    drawn = shapely.Polygon(area["coordinates"][0])
    for site in body["sites"]:
        assert drawn.contains(shapely.Point(site["lon"], site["lat"]))
        assert site["name"].endswith("格子点")
    assert digest(demo_copy_ws) == before  # nothing written


@pytest.mark.parametrize(("area", "status", "message"), [
    (_square(140.0, 40.0, 0.01), 400, "市域の外"),
    ({"type": "Point", "coordinates": [134.8, 35.5]}, 422, ""),
    ({"type": "Polygon", "coordinates": [[[134.8, 35.5], [134.81, 35.5], [134.8, 35.5]]]},
     422, ""),
])
def test_a_bad_drawn_area_is_refused_naming_the_field(
        client: TestClient, demo_copy_ws: Path, area: dict[str, Any], status: int,
        message: str) -> None:
    before = digest(demo_copy_ws)
    r = client.post("/api/siting", headers=BEARER, json={
        "hub_type": "salon", "k": 3, "candidate_area": area})
    assert r.status_code == status, r.text
    assert r.json()["field"].startswith("candidate_area"), r.json()
    assert message in r.json()["error"]
    assert digest(demo_copy_ws) == before


def test_an_uploaded_list_becomes_the_candidates(client: TestClient,
                                                 demo_copy_ws: Path) -> None:
    before = digest(demo_copy_ws)
    places = _places(client, "shukaijo", 12)
    csv = "名称,経度,緯度\n" + "".join(f"{p['name']},{p['lon']},{p['lat']}\n" for p in places)
    r = client.post("/api/siting/candidates", headers=BEARER,
                    files={"file": ("候補地.csv", csv.encode("utf-8-sig"), "text/csv")})
    assert r.status_code == 200, r.text
    points = r.json()
    assert [p["name"] for p in points] == [p["name"] for p in places]
    assert all(abs(a["lon"] - b["lon"]) < 1e-6 for a, b in zip(points, places))
    r = client.post("/api/siting", headers=BEARER, json={
        "hub_type": "salon", "k": 3, "candidate_points": points})
    assert r.status_code == 200, r.text
    names = {p["name"] for p in places}
    assert r.json()["candidates"] == len(places)
    assert r.json()["sites"] and all(s["name"] in names for s in r.json()["sites"])
    assert digest(demo_copy_ws) == before


@pytest.mark.parametrize(("name", "content", "row", "field"), [
    ("bad.csv", "名称,経度,緯度\nA,134.82,35.54\nB,東経134度,35.5\n", 3, "経度"),
    ("swapped.csv", "名称,経度,緯度\nA,35.54,134.82\n", 2, "lon"),
    ("nocoords.csv", "名称,住所\nA,豊岡市\n", None, "lon"),
    ("empty.txt", "x", None, "file"),
])
def test_a_bad_list_is_refused_naming_file_row_and_field(
        client: TestClient, demo_copy_ws: Path, name: str, content: str, row: int | None,
        field: str) -> None:
    before = digest(demo_copy_ws)
    r = client.post("/api/siting/candidates", headers=BEARER,
                    files={"file": (name, content.encode(), "text/csv")})
    assert 400 <= r.status_code < 500, r.text
    body = r.json()
    assert body["row"] == row and body["field"] == field, body
    if field != "file":
        assert body["file"] == name
    assert "/tmp" not in body["error"]
    assert digest(demo_copy_ws) == before


@pytest.mark.skipif(not SHELTERS.exists(), reason="the GSI shelters of 米子 are not here")
def test_real_shelters_of_another_city_are_refused_at_their_row(client: TestClient,
                                                                demo_copy_ws: Path) -> None:
    """The GSI's 指定緊急避難場所 of 米子 (real points, 施設・場所名 as the name) are read, and
    refused in the demo city (豊岡 area) at the first one: it is outside the city."""
    from kenmap.access.candidates import from_file
    from kenmap.workspace import Workspace

    r = client.post("/api/siting/candidates", headers=BEARER,
                    files={"file": (SHELTERS.name, SHELTERS.read_bytes(),
                                    "application/geo+json")})
    assert r.status_code == 400, r.text
    assert "市域の外" in r.json()["error"] and r.json()["row"] == 1
    assert r.json()["file"] == SHELTERS.name
    # Read as a list they are 米子's places, named.
    cands = from_file(Workspace.open(demo_copy_ws), SHELTERS)
    assert "湊山中学校" in cands.names and len(cands) > 100
