"""The GeoPackage underneath: SQLite connections, geometry blobs, the lock, journals, metadata.

Everything here is about the file as SQLite and GeoPackage define it; nothing about kenmap's
domain.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kenmap.errors import KenmapError

META_TABLE = "kenmap_meta"
CACHE_TABLE = "kenmap_cache"
#: The edit log: one row per hub edit, user change or sign-in, with who did it (``by``).
HISTORY_TABLE = "kenmap_history"
AREA_COLUMNS = ["code", "name", "parent_code"]
TMP_PREFIX = ".kenmap-tmp-"
POINT_TYPES = {"POINT", "MULTIPOINT"}


def now() -> str:
    """The current UTC time in ISO 8601, to the second (for metadata and history)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def stamp() -> str:
    """The current UTC time in ISO 8601 to the millisecond, for the history and the edit log:
    entries of the two, merged in the audit trail, keep their order within a second."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def os_user() -> str:
    """Who runs this command, for the edit log of changes made outside the server: the
    operating-system user, or ``cli`` where the system cannot say (a container without one)."""
    import getpass

    try:
        return getpass.getuser() or "cli"
    except (OSError, KeyError, ImportError):
        return "cli"


def gpkg_time() -> str:
    """The current UTC time as GeoPackage timestamps want it (milliseconds and ``Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def sql_value(value: Any) -> Any:
    """A value SQLite can bind: NaN becomes NULL, numpy scalars plain Python values."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def gpkg_point(point: tuple[float, float], srs: int) -> bytes:
    """A GeoPackage geometry blob for a point: header (no envelope) + little-endian WKB."""
    return b"GP\x00\x01" + struct.pack("<i", srs) + struct.pack("<BIdd", 1, 1, *point)


def envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """Bounds of a GeoPackage geometry blob (for the R-tree triggers GDAL installs)."""
    if blob is None or len(blob) < 8:
        return None
    flags = blob[3]
    if flags & 0x10:
        return None
    endian = "<" if flags & 1 else ">"
    indicator = (flags >> 1) & 7
    if indicator:
        minx, maxx, miny, maxy = struct.unpack(endian + "4d", blob[8:40])
        return minx, maxx, miny, maxy
    import shapely

    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get(indicator, 0)
    geom = shapely.from_wkb(bytes(blob[8 + size:]))
    if geom.is_empty:
        return None
    x0, y0, x1, y1 = geom.bounds
    return x0, x1, y0, y1


class _GdalGate:
    """Keeps GDAL's reads of a workspace apart from our own SQLite edits *in this process*.

    GDAL carries its own copy of SQLite. POSIX file locks belong to the process, so two SQLite
    libraries in one process cannot see each other's locks, and GDAL closing its handle would
    even drop the locks of an edit in flight. Edits take the gate alone; GDAL reads share it.
    The thread holding it for an edit may read (a hub edit may need an area layer).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer: int | None = None

    @contextmanager
    def reading(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            if self._writer == me:
                nested = True
            else:
                nested = False
                while self._writer is not None:
                    self._cond.wait()
                self._readers += 1
        try:
            yield
        finally:
            if not nested:
                with self._cond:
                    self._readers -= 1
                    self._cond.notify_all()

    @contextmanager
    def editing(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            while self._writer is not None or self._readers:
                self._cond.wait()
            self._writer = me
        try:
            yield
        finally:
            with self._cond:
                self._writer = None
                self._cond.notify_all()


#: The one gate of this process (see :class:`_GdalGate`).
GDAL_GATE = _GdalGate()


def wkb_of(blob: bytes) -> bytes:
    """The WKB inside a GeoPackage geometry blob (after its header and envelope)."""
    indicator = (blob[3] >> 1) & 7
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get(indicator, 0)
    return bytes(blob[8 + size:])


def geometry_column(con: sqlite3.Connection, table: str) -> str | None:
    """The geometry column of a GeoPackage table (None for attribute tables)."""
    row = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                      (table,)).fetchone()
    return str(row[0]) if row else None


def connect(path: Path) -> sqlite3.Connection:
    """An autocommit connection with the spatial functions GDAL's R-tree triggers call."""
    con = sqlite3.connect(path, timeout=60, isolation_level=None)
    # GDAL's R-tree triggers call these spatial functions; plain SQLite does not have them.
    con.create_function("ST_IsEmpty", 1, lambda b: 1 if envelope(b) is None else 0,
                        deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        con.create_function(name, 1, lambda b, i=i: (e[i] if (e := envelope(b)) else None),
                            deterministic=True)
    return con


@contextmanager
def session(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode, closed on leaving (a hot journal rolls back here)."""
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


def clean_journal(path: Path) -> None:
    """Remove a rollback journal that a killed writer left behind.

    Taking SQLite's write lock first rolls back a journal that still matters (a hot one); one
    that is left after that belongs to no transaction (a writer killed before it changed the
    file), and no other writer can be using it while we hold the lock.
    """
    journal = Path(f"{path}-journal")
    if not journal.exists() or not os.access(path.parent, os.W_OK):
        return
    # No wait: a lock held now means a writer is busy and its journal is live.
    con = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            journal.unlink(missing_ok=True)
        finally:
            con.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # another program is writing: its journal is live, leave it
    finally:
        con.close()


def read_catalogue(path: Path) -> tuple[dict[str, Any], dict[str, str | None]]:
    """Metadata and the table list (name → geometry type or None), in one connection."""
    clean_journal(path)
    try:
        with session(path) as con:
            rows = con.execute(f'SELECT key, value FROM "{META_TABLE}"').fetchall()
            contents = con.execute("SELECT c.table_name, g.geometry_type_name FROM "
                                   "gpkg_contents c LEFT JOIN gpkg_geometry_columns g "
                                   "ON g.table_name = c.table_name").fetchall()
    except sqlite3.Error as exc:
        raise KenmapError("kenmap のワークスペースではありません（kenmap_meta の表がありません）",
                          file=path) from exc
    meta = {str(k): json.loads(v) for k, v in rows}
    tables = {str(name): (str(kind).upper() if kind else None) for name, kind in contents}
    return meta, tables


def select(path: Path, table: str, columns: list[str]) -> pd.DataFrame:
    """Some columns of a table in row order, read with plain SQLite (no geometry)."""
    cols = ", ".join(f'"{c}"' for c in columns)
    with session(path) as con:
        rows = con.execute(f'SELECT {cols} FROM "{table}" ORDER BY rowid').fetchall()
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if not rows:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return frame


def table_exists(con: sqlite3.Connection, table: str) -> bool:
    """Whether the file holds ``table`` now (the snapshot's list may be older)."""
    return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (table,)).fetchone() is not None


def query_rows(con: sqlite3.Connection, table: str, where: dict[str, Any] | None = None
               ) -> list[dict[str, Any]]:
    """The rows of an attribute table whose columns equal ``where``'s values, as dicts in
    row order; none when the table does not exist."""
    if not table_exists(con, table):
        return []
    where = where or {}
    clause = " AND ".join(f'"{name}" = ?' for name in where)
    cursor = con.execute(f'SELECT * FROM "{table}"' + (f" WHERE {clause}" if clause else "")
                         + " ORDER BY rowid", [sql_value(v) for v in where.values()])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_FLOAT_TYPES = ("REAL", "FLOAT", "DOUBLE")
_INT_TYPES = ("INTEGER", "INT", "MEDIUMINT", "SMALLINT", "TINYINT", "BOOLEAN")


def read_rows(path: Path, table: str) -> tuple[pd.DataFrame, list[bytes | None] | None]:
    """Every column of a table but its FID, typed by its declaration (REAL as float, INTEGER
    as int where no value is missing), and the geometry blobs apart (None for attribute
    tables). Plain SQLite: no GDAL and no geopandas for tables that need neither."""
    with session(path) as con:
        geometry = geometry_column(con, table)
        info = [(str(r[1]), str(r[2]).upper(), int(r[5])) for r in
                con.execute(f'PRAGMA table_info("{table}")')]
        columns = [name for name, _, pk in info if not pk]
        rows = con.execute(
            f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)} FROM "{table}" '
            "ORDER BY rowid").fetchall()
    frame = pd.DataFrame.from_records(rows, columns=columns)
    blobs = None
    if geometry is not None and geometry in frame.columns:
        blobs = frame.pop(geometry).tolist()
    for name, kind, pk in info:
        if pk or name not in frame.columns:
            continue
        if kind.startswith(_FLOAT_TYPES):
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
        elif kind.startswith(_INT_TYPES) and frame[name].notna().all():
            frame[name] = frame[name].astype("int64")
        elif kind.startswith(_INT_TYPES):
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
        elif kind.startswith(("TEXT", "VARCHAR", "DATE")):
            frame[name] = frame[name].astype(pd.StringDtype(na_value=float("nan")))
    return frame, blobs


def point_xy(blobs: list[bytes | None]) -> tuple[np.ndarray, np.ndarray]:
    """x and y of GeoPackage point blobs (NaN where empty or not a point)."""
    xs = np.full(len(blobs), np.nan)
    ys = np.full(len(blobs), np.nan)
    for i, blob in enumerate(blobs):
        if blob is None or len(blob) < 8 or blob[3] & 0x10:
            continue
        wkb = wkb_of(blob)
        endian = "<" if wkb[0] == 1 else ">"
        kind = struct.unpack(endian + "I", wkb[1:5])[0] % 1000
        if kind == 1 and len(wkb) >= 21:
            xs[i], ys[i] = struct.unpack(endian + "dd", wkb[5:21])
    return xs, ys


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file beside ``path`` for the block, so writers take turns."""
    import fcntl

    lock = path.parent / f".{path.name}.lock"
    with open(lock, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def write_meta(path: Path, meta: dict[str, Any]) -> None:
    """Write the metadata table of the GeoPackage at ``path``, each value as JSON."""
    import pyogrio

    frame = pd.DataFrame(
        {"key": list(meta), "value": [json.dumps(v, ensure_ascii=False) for v in meta.values()]})
    pyogrio.write_dataframe(frame, path, layer=META_TABLE, driver="GPKG")
