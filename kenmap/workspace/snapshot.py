"""The workspace as a snapshot: metadata and tables read once, versions, and writes."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from kenmap.errors import KenmapError
from kenmap.model.files import share_mode
from kenmap.model.scheme import Scheme
from kenmap.workspace.edit import Edit
from kenmap.workspace.gpkg import (
    AREA_COLUMNS,
    CACHE_TABLE,
    GDAL_GATE,
    HISTORY_TABLE,
    META_TABLE,
    POINT_TYPES,
    TMP_PREFIX,
    connect,
    exclusive,
    geometry_column,
    now,
    os_user,
    point_xy,
    query_rows,
    read_catalogue,
    read_rows,
    select,
    session,
    stamp,
    wkb_of,
    write_meta,
)

#: Workspaces holding derived results to store when the command succeeds (held until then).
_KEEPING: dict[int, Workspace] = {}


class Workspace:
    """A kenmap workspace file (GeoPackage), read as a snapshot."""

    def __init__(self, path: Path, meta: dict[str, Any],
                 tables: dict[str, str | None] | None = None) -> None:
        self.path = path
        self._meta = meta
        self._tables: dict[str, str | None] | None = tables
        self._frames: dict[tuple[Any, ...], Any] = {}
        self._in_tx = False
        self._touched: set[str] = set()
        self._pending: dict[str, tuple[str, bytes]] = {}
        #: Table names read as other tables (a view at another date; see :meth:`viewed`).
        self._aliases: dict[str, str] = {}
        #: Who writes through this object (a signed-in user's name, ``token``), recorded as
        #: ``by`` in the history and the edit log; None: the operating-system user.
        self.actor: str | None = None

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, scheme: Scheme, preset: str | None = None) -> Workspace:
        """Create a new workspace; refuses to overwrite an existing file."""
        path = Path(path)
        if path.suffix.lower() != ".gpkg":
            raise KenmapError("ワークスペースは GeoPackage です: .gpkg で終わる名前を指定してくださ"
                              "い",
                              file=path)
        if path.exists():
            raise KenmapError("すでにあります。別の名前にするか、先に削除してください",
                              file=path)
        if not path.parent.exists():
            raise KenmapError("フォルダがありません", file=path.parent)
        meta = {"kenmap_version": 1, "uid": uuid.uuid4().hex, "scheme": scheme.to_dict(),
                "scheme_preset": preset, "crs_epsg": None, "created": now(), "layers": {},
                "history": [], "versions": {}}
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".gpkg", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
        try:
            write_meta(Path(tmp), meta)
            share_mode(Path(tmp))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return cls.open(path)

    @classmethod
    def open(cls, path: str | Path) -> Workspace:
        """Open an existing workspace: its metadata and table list are read here, once."""
        path = Path(path)
        if not path.exists():
            raise KenmapError("ワークスペースが見つかりません（'kenmap init' で作成してください）",
                              file=path)
        meta, tables = read_catalogue(path)
        return cls(path, meta, tables)

    def viewed(self, aliases: dict[str, str], meta: dict[str, Any]) -> Workspace:
        """A read-only view of this snapshot in which table ``name`` reads as
        ``aliases[name]`` (absent when that table is) and the metadata keys in ``meta`` have
        other values: the workspace as it was at another date, for every figure at once.
        Frames already read are shared; writing through the view is refused."""
        view = Workspace(self.path, {**self._meta, **meta}, self._tables)
        view._frames = self._frames
        view._aliases = dict(aliases)
        view._in_tx = False
        return view

    def _resolve(self, name: str) -> str:
        return self._aliases.get(name, name)

    def refreshed(self) -> Workspace:
        """A new snapshot of the same file that keeps the frames whose tables did not change.

        The server calls this when the file changed: after one hub edit only the hubs table is
        read again.
        """
        fresh = Workspace.open(self.path)
        if fresh.uid == self.uid:
            for key, frame in self._frames.items():
                if fresh.version(key[0]) == self.version(key[0]) and key[0] in fresh.tables():
                    fresh._frames[key] = frame
        return fresh

    def copy_to(self, target: str | Path) -> Workspace:
        """A copy of the file at ``target`` (a dry run works on it), taken under the writers'
        lock so no write is half in it; the workspace itself is only read. The copy has an
        identity of its own, so nothing cached for it is ever taken for the original's."""
        target = Path(target)
        with exclusive(self.path):
            shutil.copyfile(self.path, target)
        with session(target) as con:
            con.execute(f'UPDATE "{META_TABLE}" SET value = ? WHERE key = ?',
                        (json.dumps(uuid.uuid4().hex), "uid"))
        return Workspace.open(target)

    # -- metadata ----------------------------------------------------------------------------
    @property
    def uid(self) -> str:
        """Identity of this workspace (stable across writes; differs between files)."""
        return str(self._meta.get("uid") or f"{self.path.resolve()}:{self._meta.get('created')}")

    @property
    def scheme(self) -> Scheme:
        """The layer scheme the workspace was created with."""
        return Scheme.from_dict(self._meta["scheme"])

    @property
    def crs_epsg(self) -> int | None:
        """EPSG code of the workspace CRS (None until the first areas are imported)."""
        value = self._meta.get("crs_epsg")
        return int(value) if value is not None else None

    def set_crs(self, epsg: int) -> None:
        """Set the workspace CRS (an EPSG code); saved when the transaction or edit commits."""
        self._meta["crs_epsg"] = epsg

    def layer_info(self, key: str) -> dict[str, Any]:
        """A copy of what is recorded about a layer (source, how it was derived); {} if none."""
        return dict(self._meta.get("layers", {}).get(key, {}))

    def set_layer_info(self, key: str, info: dict[str, Any]) -> None:
        """Record what is known about a layer, replacing what was recorded before.

        Parameters
        ----------
        key
            The layer key.
        info
            JSON-ready facts (source, how it was derived …); saved when the transaction or
            edit commits.
        """
        self._meta.setdefault("layers", {})[key] = info

    def get(self, key: str, default: Any = None) -> Any:
        """A metadata value of the workspace.

        Parameters
        ----------
        key
            The metadata key (``hub_types``, ``population``, ``scheme_preset`` …).
        default
            Returned when the key is not set.

        Returns
        -------
        Any
            The stored JSON value, or ``default``.
        """
        return self._meta.get(key, default)

    def put(self, key: str, value: Any) -> None:
        """Set a metadata value of the workspace.

        Parameters
        ----------
        key
            The metadata key.
        value
            Any JSON-ready value; saved when the transaction or edit commits.
        """
        self._meta[key] = value

    def record(self, action: str, **details: Any) -> None:
        """Append an entry to the workspace history (what was imported or derived, when, and
        by whom: ``by`` when given, else the :attr:`actor` or the operating-system user)."""
        by = details.pop("by", None) or self.actor or os_user()
        self._meta.setdefault("history", []).append(
            {"at": stamp(), "action": action, "by": by, **details})

    def version(self, table: str) -> int:
        """How many times ``table`` has been written (0 if never, or before versions)."""
        return int(self._meta.get("versions", {}).get(self._resolve(table), 0))

    def state_of(self, tables: Iterable[str]) -> tuple[Any, ...]:
        """A key for caches of results that depend on exactly these tables."""
        names = sorted(set(tables))
        present = set(self.tables())  # a view's tables are named as read (another date's)
        return (self.uid, self._meta.get("viewed_as_of"),
                *((self._resolve(name), self.version(name), name in present) for name in names))

    # -- tables ------------------------------------------------------------------------------
    def tables(self) -> list[str]:
        """Names of the tables in the file (listed once per snapshot)."""
        if self._tables is None:
            self._tables = read_catalogue(self.path)[1]
        names = list(self._tables)
        for name, target in self._aliases.items():
            if target in self._tables and name not in names:
                names.append(name)
            elif target not in self._tables and name in names:
                names.remove(name)
        return names

    def point_tables(self) -> list[str]:
        """Tables whose geometry is points (hubs and any other located points)."""
        self.tables()
        assert self._tables is not None
        return [name for name, kind in self._tables.items() if kind in POINT_TYPES]

    def has_layer(self, key: str) -> bool:
        """Whether the layer has a table yet (it may still be empty)."""
        return key in self.tables()

    def _cached(self, key: tuple[Any, ...], read: Any) -> Any:
        if key not in self._frames:
            self._frames[key] = read()
        return self._frames[key].copy()

    def read_layer(self, key: str) -> Any:
        """Areas of a layer (empty frame with the area columns when it has none yet)."""
        import geopandas as gpd

        self.scheme.layer(key)
        if not self.has_layer(key):
            return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in AREA_COLUMNS},
                                    geometry=gpd.GeoSeries([], crs=self.crs_epsg))

        def read() -> Any:
            import pyogrio

            with GDAL_GATE.reading():
                frame = pyogrio.read_dataframe(self.path, layer=key, use_arrow=True)
            for col in AREA_COLUMNS:
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
            return frame
        return self._cached((key, "layer"), read)

    def read_attributes(self, key: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A layer's attributes without geometry (fast: codes, names, parent links)."""
        self.scheme.layer(key)
        cols = columns or AREA_COLUMNS
        if not self.has_layer(key):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        whole = self._frames.get((key, "layer"))
        if whole is not None:
            return pd.DataFrame(whole[cols])

        def read() -> pd.DataFrame:
            frame = select(self.path, key, cols)
            for col in cols:
                if col in AREA_COLUMNS:
                    frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
            return frame
        return pd.DataFrame(self._cached((key, "attributes", tuple(cols)), read))

    def read_table(self, name: str) -> Any:
        """A table (a GeoDataFrame for point tables); an empty frame if there is none."""
        if name not in self.tables():
            return pd.DataFrame()
        name = self._resolve(name)

        def read() -> Any:
            assert self._tables is not None
            if self._tables.get(name):
                import pyogrio

                with GDAL_GATE.reading():
                    return pyogrio.read_dataframe(self.path, layer=name, use_arrow=True)
            return read_rows(self.path, name)[0]  # attributes only: no GDAL needed
        return self._cached((name, "table"), read)

    def read_points(self, name: str) -> pd.DataFrame:
        """A point table's attributes with ``x`` and ``y`` (workspace CRS) instead of a
        geometry: what reach needs, read without GDAL or geopandas."""
        if name not in self.tables():
            return pd.DataFrame({"x": pd.Series(dtype=float), "y": pd.Series(dtype=float)})
        whole = self._frames.get((name, "table"))
        if whole is not None and hasattr(whole, "geometry"):
            out = pd.DataFrame(whole.drop(columns=whole.geometry.name))
            out["x"], out["y"] = whole.geometry.x.to_numpy(), whole.geometry.y.to_numpy()
            return out

        def read() -> pd.DataFrame:
            frame, blobs = read_rows(self.path, name)
            frame["x"], frame["y"] = point_xy(blobs or [None] * len(frame))
            return frame
        return pd.DataFrame(self._cached((name, "points"), read))

    def row_where(self, table: str, column: str, value: int) -> dict[str, Any] | None:
        """The first row of a table whose integer ``column`` equals ``value``, as a dict with
        its shape under ``geometry`` (None if there is none). One SQL query, no frame: it costs
        the same in a city and in a country."""
        import shapely

        if table not in self.tables():
            return None
        with session(self.path) as con:
            geometry = geometry_column(con, table)
            cursor = con.execute(f'SELECT * FROM "{table}" WHERE "{column}" = ? LIMIT 1',
                                 (int(value),))
            names = [d[0] for d in cursor.description]
            found = cursor.fetchone()
        if found is None:
            return None
        row = dict(zip(names, found, strict=True))
        row.pop("fid", None)
        if geometry is not None:
            blob = row.pop(geometry)
            row["geometry"] = shapely.from_wkb(wkb_of(blob)) if blob is not None else None
        return row

    def read_log(self, actions: tuple[str, ...] | None = None, *, limit: int | None = None
                 ) -> list[dict[str, Any]]:
        """The entries of the edit log with these actions (all without ``actions``), oldest
        first; with ``limit``, only the newest ``limit`` of them (read each time: the log is
        not a cached frame)."""
        if HISTORY_TABLE not in self.tables():
            return []
        marks = ", ".join("?" for _ in actions or ())
        where = f" WHERE action IN ({marks})" if actions is not None else ""
        last = " ORDER BY fid DESC" + (f" LIMIT {int(limit)}" if limit is not None else "")
        with session(self.path) as con:
            rows = con.execute(f'SELECT at, action, details FROM "{HISTORY_TABLE}"{where}'
                               f"{last}", tuple(actions or ())).fetchall()
        return [{"at": at, "action": action, "details": json.loads(details or "{}")}
                for at, action, details in reversed(rows)]

    def records(self, table: str, where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows of an attribute table whose columns equal ``where``'s values, read from
        the file now (not cached; none when the table does not exist)."""
        with session(self.path) as con:
            return query_rows(con, table, where)

    def areas_holding(self, layers: list[str], x: float, y: float) -> dict[str, str | None]:
        """For each layer, the code of the area holding the point (x, y) in the workspace CRS,
        found through the GeoPackage's R-trees in one connection: the first area in table
        order on a shared edge, None outside every area."""
        import shapely

        point = shapely.Point(x, y)
        out: dict[str, str | None] = {}
        with session(self.path) as con:
            for layer in layers:
                out[layer] = None
                if layer not in self.tables():
                    continue
                geometry = geometry_column(con, layer)
                if geometry is None:
                    continue
                try:
                    rows = con.execute(
                        f'SELECT t.code, t."{geometry}" FROM "{layer}" t JOIN '
                        f'"rtree_{layer}_{geometry}" r ON t.fid = r.id WHERE r.minx <= ? AND '
                        "r.maxx >= ? AND r.miny <= ? AND r.maxy >= ? ORDER BY t.fid",
                        (x, x, y, y)).fetchall()
                except sqlite3.Error:  # no spatial index: read the layer
                    frame = self.read_layer(layer)
                    hits = frame[frame.intersects(point)]
                    out[layer] = str(hits["code"].iloc[0]) if len(hits) else None
                    continue
                for code, blob in rows:
                    if blob is not None and shapely.intersects(
                            shapely.from_wkb(wkb_of(blob)), point):
                        out[layer] = None if code is None else str(code)
                        break
        return out

    def read_blob(self, key: str) -> tuple[str, bytes] | None:
        """A cached derived result stored in the workspace: ``(digest, data)`` or None."""
        if CACHE_TABLE not in self.tables():
            return None
        with session(self.path) as con:
            row = con.execute(f'SELECT digest, data FROM "{CACHE_TABLE}" WHERE key = ?',
                              (key,)).fetchone()
        return (str(row[0]), bytes(row[1])) if row else None

    def keep_blob(self, key: str, digest: str, data: bytes) -> None:
        """Hold a derived result (e.g. demand cells) to store with the next successful write
        or :meth:`store_kept`: a command that fails never leaves a cache behind."""
        self._pending[key] = (digest, data)
        _KEEPING[id(self)] = self

    def store_kept(self) -> bool:
        """Store the results held by :meth:`keep_blob` in the file, as their own small
        transaction; a read-only or busy file just goes without (they are caches)."""
        if not self._pending or self._in_tx or not os.access(self.path, os.W_OK):
            return False
        pending, self._pending = self._pending, {}
        _KEEPING.pop(id(self), None)
        try:
            with Workspace.open(self.path).edit() as change:
                for key, (digest, data) in pending.items():
                    change.put_blob(key, digest, data)
        except (OSError, sqlite3.Error, KenmapError):
            return False
        return True

    # -- bulk writes (inside transaction) ----------------------------------------------------
    def _wrote(self, name: str) -> None:
        versions = self._meta.setdefault("versions", {})
        if name not in self._touched:
            versions[name] = int(versions.get(name, 0)) + 1
            self._touched.add(name)
        for key in [k for k in self._frames if k[0] == name]:
            del self._frames[key]

    def write_layer(self, key: str, frame: Any) -> None:
        """Replace a layer's table. Call inside :meth:`transaction`."""
        import pyogrio

        self._require_tx()
        out = frame.copy()
        if out.crs is None or out.crs.to_epsg() != self.crs_epsg:
            out = out.to_crs(self.crs_epsg)
        pyogrio.write_dataframe(out, self.path, layer=key, driver="GPKG",
                                geometry_type="MultiPolygon", promote_to_multi=True)
        self._set_kind(key, "MULTIPOLYGON")
        self._wrote(key)

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Replace a non-spatial or point table. Call inside :meth:`transaction`."""
        import geopandas as gpd
        import pyogrio

        self._require_tx()
        # Attribute tables through Arrow (about 3× faster for a country's population); columns
        # Arrow cannot type (all empty) go the classic way.
        plain = not isinstance(frame, gpd.GeoDataFrame) and not any(
            frame[c].dtype == object and frame[c].isna().all() for c in frame.columns)
        pyogrio.write_dataframe(frame, self.path, layer=name, driver="GPKG", use_arrow=plain)

        kind = None
        if isinstance(frame, gpd.GeoDataFrame):
            kinds = set(frame.geometry.geom_type.dropna().str.upper())
            kind = kinds.pop() if len(kinds) == 1 else "GEOMETRY"
        self._set_kind(name, kind)
        self._wrote(name)

    def drop_table(self, name: str) -> None:
        """Remove a table if it exists. Call inside :meth:`transaction`."""
        self._require_tx()
        if name in self.tables():
            with session(self.path) as con:
                con.execute(f'DROP TABLE IF EXISTS "{name}"')
                for table in ("gpkg_contents", "gpkg_geometry_columns"):
                    con.execute(f"DELETE FROM {table} WHERE table_name = ?", (name,))
            assert self._tables is not None
            self._tables.pop(name, None)
            self._wrote(name)

    def _set_kind(self, name: str, kind: str | None) -> None:
        self.tables()
        assert self._tables is not None
        self._tables[name] = kind

    # -- transactions ------------------------------------------------------------------------
    def _require_tx(self) -> None:
        if self._aliases:
            raise RuntimeError("a view of the workspace at another date is read-only")
        if not self._in_tx:
            raise RuntimeError("workspace writes must happen inside Workspace.transaction()")

    @contextmanager
    def transaction(self) -> Iterator[Workspace]:
        """Work on a copy; replace the workspace only if the block completes.

        Writers take an exclusive lock beside the file, so a CLI command and the server (or two
        server requests) never interleave; the metadata is re-read under the lock, so a change
        committed meanwhile is not lost, and every read inside the block sees the file as it is
        under the lock.
        """
        if self._aliases:
            raise RuntimeError("a view of the workspace at another date is read-only")
        with exclusive(self.path):
            current = Workspace.open(self.path)
            self._adopt(current)
            for stale in self.path.parent.glob(TMP_PREFIX + "*"):
                # Left by a process killed mid-write; the workspace itself is intact.
                if stale.name.endswith(self.path.name):
                    stale.unlink(missing_ok=True)
            tmp = self.path.parent / f"{TMP_PREFIX}{os.getpid()}-{self.path.name}"
            shutil.copyfile(self.path, tmp)
            work = Workspace(tmp, json.loads(json.dumps(self._meta)), dict(self._tables or {}))
            work._frames = dict(self._frames)
            work._in_tx = True
            work.actor = self.actor
            try:
                yield work
                write_meta(tmp, work._meta)
                with open(tmp, "rb+") as fh:
                    os.fsync(fh.fileno())
                share_mode(tmp)
                os.replace(tmp, self.path)
                self._meta = work._meta
                self._tables = work._tables
                self._frames = work._frames
            finally:
                work._in_tx = False
                tmp.unlink(missing_ok=True)

    @contextmanager
    def edit(self) -> Iterator[Edit]:
        """A small change as one SQLite transaction in the file itself (no copy).

        Takes the same exclusive lock as :meth:`transaction`; metadata is re-read under it.
        Either every statement and the metadata update commit, or none does.
        """
        if self._aliases:
            raise RuntimeError("a view of the workspace at another date is read-only")
        with exclusive(self.path), GDAL_GATE.editing():
            current = Workspace.open(self.path)
            self._adopt(current)
            con = connect(self.path)
            try:
                con.execute("BEGIN IMMEDIATE")
                change = Edit(self, con)
                yield change
                for blob, (digest, data) in self._pending.items():
                    change.put_blob(blob, digest, data)
                change._finish()
                con.execute("COMMIT")
                self._pending = {}
            except BaseException:
                con.execute("ROLLBACK")
                self._adopt(Workspace.open(self.path))
                raise
            finally:
                con.close()
            for name in change.touched:
                for key in [k for k in self._frames if k[0] == name]:
                    del self._frames[key]

    def _adopt(self, current: Workspace) -> None:
        """Take the metadata of ``current`` and drop frames of tables that changed since."""
        for key in list(self._frames):
            if current.version(key[0]) != self.version(key[0]) or \
                    key[0] not in current.tables():
                del self._frames[key]
        self._meta = current._meta
        self._tables = current._tables


def open_workspace(path: str | Path) -> Workspace:
    """Open a kenmap workspace (a GeoPackage made by ``kenmap init``) for reading and writing.

    Parameters
    ----------
    path
        The ``.gpkg`` file.

    Returns
    -------
    Workspace
        A snapshot: tables are listed once and each frame is read once.
    """
    return Workspace.open(path)


def store_all_kept() -> None:
    """Store what every open workspace holds by :meth:`Workspace.keep_blob` (the command
    line calls this when a command succeeded)."""
    for ws in list(_KEEPING.values()):
        ws.store_kept()
    _KEEPING.clear()
