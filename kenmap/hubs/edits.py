"""Editing single hubs (add, change, move, delete) with optimistic versioning.

Each hub carries a ``version``; a change names the version it was based on, and a change based
on an old version is refused, so two planners editing at once never overwrite each other.
Every edit is one SQLite transaction in the workspace (no copy of the file), and the version
check happens inside it, under the workspace lock, so an acknowledged edit is never lost.
Hub ids are never reused: the next id is kept in the workspace metadata. Every edit is logged
with who made it (``by``: the signed-in user through the server, else the workspace's actor or
the operating-system user).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from kenmap.errors import ConflictError, KenmapError, NotFoundError
from kenmap.geo.crs import transformer
from kenmap.hubs.table import EDITABLE, HUBS, STATUSES, hub_record
from kenmap.layers.locate import locate_point
from kenmap.model.catalogue import catalogue_of
from kenmap.model.dates import parse_date
from kenmap.workspace import Edit, Workspace

#: Kept for callers of the first version; both are the errors of :mod:`kenmap.errors`.
VersionConflict = ConflictError
NotFound = NotFoundError


def _check(ws: Workspace, values: dict[str, Any]) -> None:
    catalogue = catalogue_of(ws.get("hub_types"))
    if "type" in values:
        catalogue.get(str(values["type"]))
    if "status" in values and values["status"] not in STATUSES:
        raise KenmapError(f"status は {', '.join(STATUSES)} のいずれかにしてください",
                          field="status")
    if "name" in values and not str(values["name"] or "").strip():
        raise KenmapError("拠点には名前が必要です", field="name")
    for fld in ("opened", "closed"):
        if fld in values:
            try:
                values[fld] = parse_date(values[fld])
            except ValueError as exc:
                raise KenmapError(str(exc), field=fld) from None


def _point(ws: Workspace, lon: float, lat: float) -> tuple[shapely.Point, dict[str, Any]]:
    """The point in the workspace CRS and its area codes; refused outside the city."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise KenmapError(f"({lon}, {lat}) は経度・緯度ではありません", field="lon")
    assert ws.crs_epsg is not None
    point = shapely.Point(*transformer(4326, ws.crs_epsg).transform(lon, lat))
    return point, _areas_of(ws, point, lon=lon, lat=lat)


def _areas_of(ws: Workspace, point: shapely.Point, *, lon: float | None = None,
              lat: float | None = None) -> dict[str, Any]:
    located = locate_point(ws, point.x, point.y)
    if all(code is None for code in located.values()):
        where = f"({lon}, {lat})" if lon is not None else "その地点"
        raise KenmapError(f"{where} は市域の外です（経度と緯度が入れ替わっていませんか？）",
                          field="lon")
    return dict(located)


def _next_id(change: Edit) -> int:
    """A hub id never used before in this workspace (deleted ids are not reused)."""
    row = change.con.execute(f'SELECT MAX(id) FROM "{HUBS}"').fetchone()
    highest = int(row[0]) if row and row[0] is not None else 0
    return max(highest + 1, int(change.ws.get("next_hub_id", 1)))


def _record(ws: Workspace, hub_id: int) -> dict[str, Any]:
    row = ws.row_where(HUBS, "id", hub_id)
    assert row is not None
    return hub_record(pd.Series(row), ws.crs_epsg)


def add_hub(ws: Workspace, values: dict[str, Any], point: shapely.Point | None = None, *,
            by: str | None = None) -> dict[str, Any]:
    """Add one hub (``type``, ``name``, ``lon``, ``lat`` and optional fields).

    ``point`` (in the workspace CRS) overrides lon/lat when the exact position is known;
    ``by`` is who adds it, for the edit log.
    """
    return add_hubs(ws, [(values, point)], by=by)[0]


def add_hubs(ws: Workspace, hubs: list[tuple[dict[str, Any], shapely.Point | None]], *,
             by: str | None = None) -> list[dict[str, Any]]:
    """Add several hubs all-or-nothing (one transaction): each ``(values, point)`` as for
    :func:`add_hub`."""
    if ws.crs_epsg is None:
        raise KenmapError("拠点を追加する前に区域を取り込んでください")
    if not hubs:
        return []
    rows = []
    for values, point in hubs:
        for key in ("type", "name", "lon", "lat"):
            if values.get(key) is None:
                raise KenmapError("必須です", field=key)
        values = {**values, "status": values.get("status") or "existing"}
        _check(ws, values)
        if point is None:
            point, areas = _point(ws, float(values["lon"]), float(values["lat"]))
        else:
            areas = _areas_of(ws, point)
        row = {k: values.get(k) for k in EDITABLE}
        row.update({"version": 1, "source": "api", "source_row": None, **areas})
        rows.append((row, point))
    if HUBS not in ws.tables():
        with ws.transaction() as tx:  # the first hub creates the table
            first = max(1, int(tx.get("next_hub_id", 1)))
            ids = list(range(first, first + len(rows)))
            frame = gpd.GeoDataFrame([{"id": i, **row} for i, (row, _) in zip(ids, rows)],
                                     geometry=[p for _, p in rows], crs=tx.crs_epsg)
            tx.write_table(HUBS, frame)
            tx.put("next_hub_id", ids[-1] + 1)
            for i in ids:
                tx.record("add hub", id=i, by=by)
    else:
        with ws.edit() as change:
            first = _next_id(change)
            ids = list(range(first, first + len(rows)))
            for i, (row, point) in zip(ids, rows):
                change.insert(HUBS, {"id": i, **row}, point=(point.x, point.y))
                change.log("add hub", id=i, by=by)
            ws.put("next_hub_id", ids[-1] + 1)
    return [_record(ws, i) for i in ids]


def _current_version(change: Edit, hub_id: int, version: int | None) -> int:
    row = change.con.execute(f'SELECT version FROM "{HUBS}" WHERE id = ?', (hub_id,)
                             ).fetchone() if HUBS in change.ws.tables() else None
    if row is None:
        raise NotFoundError(f"id {hub_id} の拠点はありません", field="id")
    current = int(row[0])
    if version is None:
        raise KenmapError("変更の元になった version を指定してください", field="version")
    if version != current:
        raise ConflictError(f"拠点 {hub_id} は version {current} ですが、変更は "
                            f"version {version} に基づいています: 読み込み直してもう一度お試しくだ"
                            "さい", field="version")
    return current


def update_hub(ws: Workspace, hub_id: int, version: int | None, changes: dict[str, Any], *,
               by: str | None = None) -> dict[str, Any]:
    """Change fields of a hub, or move it (``lon``/``lat``), if ``version`` is current;
    ``by`` is who changes it, for the edit log."""
    _check(ws, changes)
    moved = "lon" in changes or "lat" in changes
    located: tuple[shapely.Point, dict[str, Any]] | None = None
    if moved and changes.get("lon") is not None and changes.get("lat") is not None:
        # Located before taking the lock: areas do not move under a hub edit, and the lock
        # is held only for the change itself.
        located = _point(ws, float(changes["lon"]), float(changes["lat"]))
    with ws.edit() as change:
        current = _current_version(change, hub_id, version)
        values = {key: changes[key] for key in EDITABLE if key in changes}
        xy = None
        if moved:
            if located is None:  # one of lon/lat given: the other is the hub's own
                row = ws.row_where(HUBS, "id", hub_id)
                assert row is not None  # _current_version found it
                old = row["geometry"]
                assert ws.crs_epsg is not None
                old_lon, old_lat = transformer(ws.crs_epsg, 4326).transform(old.x, old.y)
                lon = float(changes["lon"]) if changes.get("lon") is not None else old_lon
                lat = float(changes["lat"]) if changes.get("lat") is not None else old_lat
                located = _point(ws, lon, lat)
            point, areas = located
            values.update(areas)
            xy = (point.x, point.y)
        values["version"] = current + 1
        have = [k for k in EDITABLE if k in change.columns(HUBS)]
        cols = ", ".join(f'"{k}"' for k in have)
        found = change.con.execute(f'SELECT {cols} FROM "{HUBS}" WHERE id = ?', (hub_id,)
                                   ).fetchone() if have else None
        before = dict(zip(have, found or []))
        change.update(HUBS, "id", hub_id, values, point=xy)
        changed = {k: [before.get(k), values[k]] for k in EDITABLE
                   if k in values and before.get(k) != values[k]}
        change.log("update hub", id=hub_id, version=current + 1, changes=changed,
                   moved=xy is not None, by=by)
    return _record(ws, hub_id)


def delete_hub(ws: Workspace, hub_id: int, version: int | None, *, by: str | None = None
               ) -> None:
    """Delete a hub if ``version`` is current; ``by`` is who deletes it, for the edit log."""
    with ws.edit() as change:
        _current_version(change, hub_id, version)
        change.delete(HUBS, "id", hub_id)
        ws.put("next_hub_id", max(_next_id(change), hub_id + 1))
        change.log("delete hub", id=hub_id, by=by)


def hub_history(ws: Workspace, hub_id: int) -> list[dict[str, Any]]:
    """What happened to one hub, oldest first: added, each change (field: [before, after],
    and whether it moved) with its version, deleted; each with when (``at``) and who
    (``by``, None for edits made before it was recorded)."""
    actions = ("add hub", "update hub", "delete hub")
    # The first hubs of a workspace create the table in a bulk transaction, which records
    # them in the metadata history rather than the edit log.
    first = [{"at": e.get("at"), "action": e.get("action"),
              "details": {k: v for k, v in e.items() if k not in ("at", "action")}}
             for e in ws.get("history", []) if e.get("action") in actions]
    out = []
    for entry in [*first, *ws.read_log(actions)]:
        details = entry["details"]
        if int(details.get("id", -1)) == hub_id:
            out.append({"at": entry["at"], "action": entry["action"],
                        "by": details.get("by"),
                        **{k: v for k, v in details.items() if k not in ("id", "by")}})
    if not out and ws.row_where(HUBS, "id", hub_id) is None:
        raise NotFoundError(f"id {hub_id} の拠点はありません", field="id")
    return out
