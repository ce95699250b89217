"""What the API returns, computed once per state of what it depends on, and cached.

Each answer is keyed by the versions of the workspace tables it depends on (a list of layers
does not change when a hub moves; gaps do), so an edit or import invalidates exactly the
answers it can change. Underneath, the workspace snapshot keeps every table whose version did
not change, simplified outlines are kept per layer version, and demand cells and nearest
distances are cached by their own inputs in :mod:`kenmap.access`, so the answers after a hub
edit are recomputed incrementally.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from kenmap.access.gaps import coverage, gap_table
from kenmap.errors import KenmapError, NotFoundError
from kenmap.geo.simplify import display_tolerance, simplify_coverage
from kenmap.hubs.table import hub_features, hub_record, layer_hub_type, read_hubs
from kenmap.layers.hierarchy import area_layers, child_layer, filled_layers, parent_layer
from kenmap.layers.locate import area_column
from kenmap.maps.page import MapOptions, build_map
from kenmap.maps.pages import index_entries, index_html
from kenmap.people.stats import layer_stats, records, total_row
from kenmap.render.gaps import gap_records
from kenmap.workspace import Workspace

#: Answers kept (each is small but for pages and outlines).
_CACHE_ENTRIES = 256


class Raw(bytes):
    """Bytes that :meth:`Views.encoded` stores as they are (pages, GeoJSON built as text)."""


class Views:
    """Cached views of one workspace file."""

    def __init__(self, path: os.PathLike[str] | str) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._latest: OrderedDict[Any, Any] = OrderedDict()
        self._snapshot: Workspace | None = None
        self._snapshot_state: tuple[int, int, int] | None = None

    def state_of(self, key: Any, *, refresh: bool = True) -> tuple[Any, ...]:
        """The versions of the tables the answer ``key`` depends on; without ``refresh``, in
        the snapshot taken last (no reading of the file: safe on the event loop)."""
        ws = self.workspace() if refresh else self.snapshot()
        kind = key[0] if isinstance(key, tuple) else key
        if kind == "json":
            kind = key[1][0] if isinstance(key[1], tuple) else key[1]
        tables = ws.tables()
        layers = filled_layers(ws)
        areas = [*layers, *(t for t in tables if t.startswith(("population_", "grid_")))]
        if kind == "hubs":
            deps = ["hubs"]
        elif kind in ("layers", "geometry"):
            deps = areas
        else:
            deps = [*areas, "hubs"]
        if kind in ("layers", "geometry"):
            return ws.state_of(deps)
        # Colours, labels and radii come from the catalogue (admins change it): part of the
        # state of every answer that shows hubs or reach.
        return (*ws.state_of(deps), repr(ws.get("hub_types")))

    def _state(self) -> tuple[int, int, int]:
        stat = os.stat(self.path)
        return (stat.st_size, stat.st_mtime_ns, stat.st_ino)

    def workspace(self) -> Workspace:
        """The current snapshot for reading (frames of unchanged tables are kept)."""
        state = self._state()
        with self._lock:
            if self._snapshot is None or state != self._snapshot_state:
                self._snapshot = Workspace.open(self.path) if self._snapshot is None \
                    else self._snapshot.refreshed()
                self._snapshot_state = state
            return self._snapshot

    def changed(self) -> bool:
        """Whether the file changed since the snapshot was taken (one ``stat``)."""
        return self._snapshot is None or self._state() != self._snapshot_state

    def snapshot(self) -> Workspace:
        """The snapshot taken last, without looking at the file again."""
        return self._snapshot if self._snapshot is not None else self.workspace()

    def writer(self) -> Workspace:
        """A workspace object of its own for one write (readers keep their snapshot)."""
        return Workspace.open(self.path)

    def peek(self, key: Any) -> Any:
        """The cached value for ``key`` if what it depends on is unchanged in the last
        snapshot, else None (reads no file)."""
        full = (key, self.state_of(key, refresh=False))
        with self._lock:
            return self._cache.get(full)

    def encoded(self, key: Any, compute: Callable[[], Any]) -> bytes:
        """``compute()`` as JSON bytes, cached: repeated requests skip serialisation too."""
        def encode() -> bytes:
            value = compute()
            if isinstance(value, bytes):  # already a page or a GeoJSON text
                return bytes(value)
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return bytes(self.cached(("json", key), encode))

    def compute_for(self, key: Any) -> Callable[[], Any]:
        """The computation of the answer named ``key`` (what the API routes ask for)."""
        kind, args = (key, ()) if isinstance(key, str) else (key[0], tuple(key[1:]))
        computations: dict[str, Callable[[], Any]] = {
            "layers": self.layers,
            "areas": lambda: Raw(self.areas_geojson(*args)),
            "profile": lambda: self.profile(*args),
            "gaps": lambda: self.gaps(*args),
            "coverage": lambda: self.coverage(*args),
            "hubs": lambda: self.hubs(*args),
            "map-index": lambda: Raw(self.map_index().encode()),
            "map": lambda: Raw(self.map_page(*args).encode()),
        }
        return computations[kind]

    def answer(self, key: Any) -> tuple[Any, bytes]:
        """The answer ``key`` as JSON (or page) bytes, with the state it was computed for."""
        state = self.state_of(("json", key))
        return state, self.encoded(key, self.compute_for(key))

    def store(self, key: Any, state: Any, body: bytes) -> None:
        """Keep ``body``, computed elsewhere, as the answer ``key`` for ``state``."""
        self._keep(("json", key), state, body)

    def _keep(self, key: Any, state: Any, value: Any) -> None:
        with self._lock:
            self._cache[(key, state)] = value
            self._latest[key] = value
            self._latest.move_to_end(key)
            while len(self._latest) > _CACHE_ENTRIES:
                self._latest.popitem(last=False)
            while len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)

    def latest(self, key: Any) -> Any:
        """The most recent answer for ``key`` whatever state it was computed for, or None."""
        with self._lock:
            return self._latest.get(key)

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, cached under ``key`` until a table it depends on changes."""
        full = (key, self.state_of(key))
        with self._lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
        value = compute()
        if self._snapshot is not None:
            self._snapshot.store_kept()  # demand cells, for the next start of the server
        self._keep(key, full[1], value)
        return value

    # -- figures ---------------------------------------------------------------------------
    def layers(self) -> dict[str, Any]:
        """The scheme's layers with their area counts, the CRS and the population sources."""
        def compute() -> dict[str, Any]:
            ws = self.workspace()
            filled = set(area_layers(ws))
            out = []
            for layer in ws.scheme.layers:
                count = len(ws.read_attributes(layer.key)) if layer.key in filled else 0
                out.append({"key": layer.key, "label": layer.label, "expected": layer.expected,
                            "nested": layer.nested, "count": count})
            # Sources as the user named them; the server's own paths stay on the server.
            population = {layer: {**info, "file": os.path.basename(str(info.get("file", "")))}
                          for layer, info in ws.get("population", {}).items()}
            return {"scheme": ws.scheme.name, "crs_epsg": ws.crs_epsg, "layers": out,
                    "population": population}
        return dict(self.cached("layers", compute))

    def _check_layer(self, ws: Workspace, layer: str) -> None:
        ws.scheme.layer(layer)
        if layer not in area_layers(ws):
            raise NotFoundError(f"レイヤ {layer} に区域がありません")

    def areas_geojson(self, layer: str, full: bool) -> bytes:
        """The areas of ``layer`` with their stats as GeoJSON (EPSG:4326), simplified for
        display unless ``full``."""
        def compute() -> bytes:
            ws = self.workspace()
            self._check_layer(ws, layer)
            stats = records(layer_stats(ws, layer))
            geometries = self.cached(("geometry", layer, full),
                                     lambda: self._outlines(ws, layer, full))
            features = [
                '{"type":"Feature","id":' + json.dumps(rec["code"], ensure_ascii=False)
                + ',"properties":' + json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
                + ',"geometry":' + geom + "}"
                for rec, geom in zip(stats, geometries)]
            return ('{"type":"FeatureCollection","features":[' + ",".join(features)
                    + "]}").encode("utf-8")
        return bytes(self.cached(("areas", layer, full), compute))

    def _outlines(self, ws: Workspace, layer: str, full: bool) -> list[str]:
        """The GeoJSON geometry of every area (lon/lat; simplified for display unless full):
        the costly part of the areas answer, kept while the layer is unchanged."""
        import geopandas as gpd
        import shapely

        areas = ws.read_layer(layer)
        geoms = areas.geometry.to_numpy()
        if not full:
            geoms = simplify_coverage(geoms, display_tolerance(float(areas.geometry.area.sum()),
                                                               len(areas)))
        lonlat = gpd.GeoSeries(geoms, crs=areas.crs).to_crs(4326).to_numpy()
        single = shapely.get_num_geometries(lonlat) == 1
        lonlat[single] = shapely.get_geometry(lonlat[single], 0)
        if not full:
            lonlat = shapely.transform(lonlat, lambda xy: np.round(xy, 6))
        return [str(g) for g in shapely.to_geojson(lonlat)]

    def profile(self, layer: str, code: str) -> dict[str, Any]:
        """One area's stats beside its parent's and the city's, its hubs, and the child
        areas lacking a hub of the type expected on the child layer."""
        def compute() -> dict[str, Any]:
            ws = self.workspace()
            self._check_layer(ws, layer)
            stats = layer_stats(ws, layer)
            match = stats[stats["code"] == code]
            if len(match) == 0:
                raise NotFoundError(f"レイヤ {layer} に区域 {code} はありません")
            mine = records(match)[0]
            upper = parent_layer(ws, layer)
            parent = None
            if upper is not None and mine.get("parent_code") is not None:
                pstats = layer_stats(ws, upper)
                prow = pstats[pstats["code"] == mine["parent_code"]]
                parent = records(prow)[0] if len(prow) else None
            top = filled_layers(ws)[0]
            city = records(pd.DataFrame([total_row(layer_stats(ws, top))]))[0]
            hubs = read_hubs(ws)
            inside = []
            if len(hubs) and area_column(layer) in hubs.columns:
                here = hubs[hubs[area_column(layer)] == code]
                inside = [hub_record(row, hubs.crs.to_epsg()) for _, row in here.iterrows()]
            lacking: list[dict[str, Any]] = []
            child_type = None
            lower = child_layer(ws, layer)
            if lower is not None:
                child_type = layer_hub_type(ws, lower)
                children = ws.read_attributes(lower)
                mine_children = set(children.loc[children["parent_code"] == code, "code"])
                try:
                    table = gap_table(ws, layer=lower, hub_type=child_type)
                    table = table[table["code"].isin(mine_children) & table["lacking"]]
                    lacking = [{"code": r["code"], "name": r["name"], "reason": r["reason"]}
                               for r in gap_records(table)]
                except KenmapError:
                    lacking = []
            from kenmap.access.netreach import walk_minutes

            walking = walk_minutes(ws, layer).get(str(code), {})
            return {"layer": layer, "area": mine, "parent": parent, "city": city,
                    "hubs_inside": inside,
                    # minutes along the streets to the nearest hub of each type (with a network)
                    "walk_minutes": walking,
                    "children_lacking": {"layer": lower, "hub_type": child_type,
                                         "areas": lacking}}
        return dict(self.cached(("profile", layer, code), compute))

    def gaps(self, layer: str, hub_type: str, radius: float | None, with_planned: bool
             ) -> dict[str, Any]:
        """The ``gaps`` rows of ``layer`` for ``hub_type`` (``radius`` in walking metres)."""
        def compute() -> dict[str, Any]:
            ws = self.workspace()
            self._check_layer(ws, layer)
            table = gap_table(ws, layer=layer, hub_type=hub_type, radius=radius,
                              with_planned=with_planned)
            return {"layer": layer, "hub_type": hub_type, "radius_m": radius,
                    "with_planned": with_planned, "areas": gap_records(table)}
        return dict(self.cached(("gaps", layer, hub_type, radius, with_planned), compute))

    def coverage(self, with_planned: bool) -> dict[str, Any]:
        """The :func:`~kenmap.access.gaps.coverage` summary of the workspace."""
        return dict(self.cached(("coverage", with_planned),
                                lambda: coverage(self.workspace(), with_planned=with_planned)))

    def hubs(self, hub_type: str | None, status: str | None) -> dict[str, Any]:
        """Hubs as a GeoJSON FeatureCollection (lon/lat), optionally of one type or status."""
        def compute() -> dict[str, Any]:
            ws = self.workspace()
            hubs = ws.read_points("hubs")
            if len(hubs) and hub_type:
                hubs = hubs[hubs["type"] == hub_type]
            if len(hubs) and status:
                hubs = hubs[hubs["status"] == status]
            return {"type": "FeatureCollection", "features": hub_features(hubs, ws.crs_epsg)}
        return dict(self.cached(("hubs", hub_type, status), compute))

    def map_page(self, layer: str) -> str:
        """The HTML map page of ``layer``."""
        def compute() -> str:
            ws = self.workspace()
            self._check_layer(ws, layer)
            page, _ = build_map(ws, layer, MapOptions())
            return page
        return str(self.cached(("map", layer), compute))

    def map_index(self) -> str:
        """The HTML index page linking the map of every layer that has areas, with the same
        counts as the index ``map --all`` writes."""
        def compute() -> str:
            ws = self.workspace()
            return index_html(ws, index_entries(ws, MapOptions(), lambda key: f"/maps/{key}"))
        return str(self.cached("map-index", compute))
