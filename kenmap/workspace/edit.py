"""Small changes to a workspace as one SQLite transaction inside the GeoPackage."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from kenmap.errors import KenmapError
from kenmap.workspace.gpkg import (
    CACHE_TABLE,
    HISTORY_TABLE,
    META_TABLE,
    gpkg_point,
    gpkg_time,
    os_user,
    query_rows,
    sql_value,
    stamp,
    table_exists,
)

if TYPE_CHECKING:
    from kenmap.workspace.snapshot import Workspace


class Edit:
    """The statements of one :meth:`Workspace.edit`, against the live file."""

    def __init__(self, ws: Workspace, con: sqlite3.Connection) -> None:
        self.ws = ws
        self.con = con
        self.touched: set[str] = set()

    def columns(self, table: str) -> dict[str, str]:
        """Column names and SQL types of a table."""
        return {str(r[1]): str(r[2]) for r in self.con.execute(f'PRAGMA table_info("{table}")')}

    def _geometry_column(self, table: str) -> tuple[str, int]:
        row = self.con.execute("SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE "
                               "table_name = ?", (table,)).fetchone()
        if row is None:
            raise KenmapError(f"表 {table} に形状がありません")
        return str(row[0]), int(row[1])

    def _ensure_columns(self, table: str, values: dict[str, Any]) -> None:
        have = self.columns(table)
        for name, value in values.items():
            if name not in have:
                kind = "INTEGER" if isinstance(value, (bool, int)) else \
                    "REAL" if isinstance(value, float) else "TEXT"
                self.con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {kind}')

    def insert(self, table: str, values: dict[str, Any], point: tuple[float, float] | None = None
               ) -> None:
        """Insert one row; ``point`` (x, y in the workspace CRS) for a point table."""
        values = {k: sql_value(v) for k, v in values.items()}
        self._ensure_columns(table, values)
        names = list(values)
        params = [values[n] for n in names]
        if point is not None:
            column, srs = self._geometry_column(table)
            names.append(column)
            params.append(gpkg_point(point, srs))
        cols = ", ".join(f'"{n}"' for n in names)
        marks = ", ".join("?" for _ in names)
        self.con.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', params)
        self.touched.add(table)

    def update(self, table: str, key: str, value: Any, values: dict[str, Any],
               point: tuple[float, float] | None = None) -> int:
        """Update the rows where ``key = value``; returns how many changed."""
        values = {k: sql_value(v) for k, v in values.items()}
        self._ensure_columns(table, values)
        sets = [f'"{n}" = ?' for n in values]
        params = list(values.values())
        if point is not None:
            column, srs = self._geometry_column(table)
            sets.append(f'"{column}" = ?')
            params.append(gpkg_point(point, srs))
        if not sets:
            return 0
        cur = self.con.execute(f'UPDATE "{table}" SET {", ".join(sets)} WHERE "{key}" = ?',
                               [*params, sql_value(value)])
        self.touched.add(table)
        return int(cur.rowcount)

    def delete(self, table: str, key: str, value: Any) -> int:
        """Delete the rows where ``key = value``; returns how many were deleted."""
        cur = self.con.execute(f'DELETE FROM "{table}" WHERE "{key}" = ?', (sql_value(value),))
        self.touched.add(table)
        return int(cur.rowcount)

    def ensure_table(self, name: str, columns: str, description: str) -> None:
        """Create the attribute table ``name`` (``columns`` as in CREATE TABLE) if the file
        lacks it, listed in the GeoPackage's contents so QGIS and GDAL see it."""
        if table_exists(self.con, name):
            return
        self.con.execute(f'CREATE TABLE "{name}" ({columns})')
        self.con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, "
                         "identifier, description, last_change) VALUES (?, 'attributes', ?, "
                         "?, ?)", (name, name, description, gpkg_time()))
        assert self.ws._tables is not None
        self.ws._tables[name] = None

    def records(self, table: str, where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of an attribute table as they are inside this transaction (see
        :func:`~kenmap.workspace.gpkg.query_rows`)."""
        return query_rows(self.con, table, where)

    def log(self, action: str, **details: Any) -> None:
        """Append one line to the workspace's edit log (a table: the metadata does not grow
        with every hub edit). ``by`` (who) is the workspace's ``actor`` unless given, or the
        operating-system user for a command run on this machine."""
        self.ensure_table(HISTORY_TABLE, "fid INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT "
                          "NULL, action TEXT NOT NULL, details TEXT", "kenmap: the edit log")
        if details.get("by") is None:
            details["by"] = self.ws.actor or os_user()
        self.con.execute(f'INSERT INTO "{HISTORY_TABLE}" (at, action, details) VALUES (?, ?, ?)',
                         (stamp(), action, json.dumps(details, ensure_ascii=False)))

    def put_blob(self, key: str, digest: str, data: bytes) -> None:
        """Store a derived result (e.g. demand cells) keyed by a digest of its inputs."""
        self.ensure_table(CACHE_TABLE, "key TEXT PRIMARY KEY, digest TEXT NOT NULL, data BLOB "
                          "NOT NULL", "kenmap: derived results, rebuilt when their inputs "
                          "change")
        self.con.execute(f'INSERT OR REPLACE INTO "{CACHE_TABLE}" (key, digest, data) '
                         "VALUES (?, ?, ?)", (key, digest, sqlite3.Binary(data)))

    def _finish(self) -> None:
        versions = self.ws._meta.setdefault("versions", {})
        for name in sorted(self.touched):
            versions[name] = int(versions.get(name, 0)) + 1
            self.con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?",
                             (gpkg_time(), name))
        for key, value in self.ws._meta.items():
            text = json.dumps(value, ensure_ascii=False)
            done = self.con.execute(f'UPDATE "{META_TABLE}" SET value = ? WHERE key = ?',
                                    (text, key)).rowcount
            if not done:
                self.con.execute(f'INSERT INTO "{META_TABLE}" (key, value) VALUES (?, ?)',
                                 (key, text))
