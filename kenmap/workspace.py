"""The workspace: one GeoPackage holding every layer, the scheme and metadata.

Each layer is its own table named by its key (QGIS opens them directly). Writes are
all-or-nothing: a :meth:`Workspace.transaction` works on a copy beside the file and replaces the
original atomically only when everything succeeded, so an error or a killed process leaves the
previous file byte-identical.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from kenmap.errors import KenmapError
from kenmap.layers.scheme import Scheme

META_TABLE = "kenmap_meta"
AREA_COLUMNS = ["code", "name", "parent_code"]
_TMP_PREFIX = ".kenmap-tmp-"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Workspace:
    """A kenmap workspace file (GeoPackage)."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        self._meta = meta

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, scheme: Scheme, preset: str | None = None) -> Workspace:
        """Create a new workspace; refuses to overwrite an existing file."""
        path = Path(path)
        if path.suffix.lower() != ".gpkg":
            raise KenmapError("a workspace is a GeoPackage: give a name ending in .gpkg",
                              file=path)
        if path.exists():
            raise KenmapError("already exists; choose another name or delete it first",
                              file=path)
        if not path.parent.exists():
            raise KenmapError("folder does not exist", file=path.parent)
        meta = {"kenmap_version": 1, "scheme": scheme.to_dict(), "scheme_preset": preset,
                "crs_epsg": None,
                "created": _now(), "layers": {}, "history": []}
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".gpkg", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
        try:
            _write_meta(Path(tmp), meta)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return cls(path, meta)

    @classmethod
    def open(cls, path: str | Path) -> Workspace:
        """Open an existing workspace."""
        path = Path(path)
        if not path.exists():
            raise KenmapError("workspace not found (create it with 'kenmap init')", file=path)
        try:
            meta_df = pyogrio.read_dataframe(path, layer=META_TABLE, read_geometry=False)
        except Exception as exc:
            raise KenmapError("not a kenmap workspace (no kenmap_meta table)", file=path) from exc
        meta = {str(k): json.loads(v) for k, v in zip(meta_df["key"], meta_df["value"])}
        return cls(path, meta)

    # -- metadata ----------------------------------------------------------------------------
    @property
    def scheme(self) -> Scheme:
        return Scheme.from_dict(self._meta["scheme"])

    @property
    def crs_epsg(self) -> int | None:
        value = self._meta.get("crs_epsg")
        return int(value) if value is not None else None

    def set_crs(self, epsg: int) -> None:
        self._meta["crs_epsg"] = epsg

    def layer_info(self, key: str) -> dict[str, Any]:
        return dict(self._meta.get("layers", {}).get(key, {}))

    def set_layer_info(self, key: str, info: dict[str, Any]) -> None:
        self._meta.setdefault("layers", {})[key] = info

    def get(self, key: str, default: Any = None) -> Any:
        return self._meta.get(key, default)

    def put(self, key: str, value: Any) -> None:
        self._meta[key] = value

    def record(self, action: str, **details: Any) -> None:
        """Append an entry to the workspace history (what was imported or derived, when)."""
        self._meta.setdefault("history", []).append({"at": _now(), "action": action, **details})

    # -- tables ------------------------------------------------------------------------------
    def tables(self) -> list[str]:
        return [str(name) for name, _ in pyogrio.list_layers(self.path)]

    def has_layer(self, key: str) -> bool:
        return key in self.tables()

    def read_layer(self, key: str) -> gpd.GeoDataFrame:
        """Areas of a layer (empty frame with the area columns when it has none yet)."""
        self.scheme.layer(key)
        if not self.has_layer(key):
            return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in AREA_COLUMNS},
                                    geometry=gpd.GeoSeries([], crs=self.crs_epsg))
        frame = pyogrio.read_dataframe(self.path, layer=key, use_arrow=True)
        for col in AREA_COLUMNS:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return frame

    def read_attributes(self, key: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A layer's attributes without geometry (fast: codes, names, parent links)."""
        self.scheme.layer(key)
        cols = columns or AREA_COLUMNS
        if not self.has_layer(key):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        frame = pyogrio.read_dataframe(self.path, layer=key, columns=cols, read_geometry=False,
                                       use_arrow=True)
        for col in cols:
            if col in AREA_COLUMNS:
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return frame

    def read_table(self, name: str) -> pd.DataFrame:
        if name not in self.tables():
            return pd.DataFrame()
        return pyogrio.read_dataframe(self.path, layer=name, read_geometry=False, use_arrow=True)

    def write_layer(self, key: str, frame: gpd.GeoDataFrame) -> None:
        """Replace a layer's table. Call inside :meth:`transaction`."""
        self._require_tx()
        out = frame.copy()
        if out.crs is None or out.crs.to_epsg() != self.crs_epsg:
            out = out.to_crs(self.crs_epsg)
        pyogrio.write_dataframe(out, self.path, layer=key, driver="GPKG",
                                geometry_type="MultiPolygon", promote_to_multi=True)

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Replace a non-spatial or point table. Call inside :meth:`transaction`."""
        self._require_tx()
        pyogrio.write_dataframe(frame, self.path, layer=name, driver="GPKG")

    def drop_table(self, name: str) -> None:
        self._require_tx()
        if name in self.tables():
            with sqlite3.connect(self.path) as con:
                con.execute(f'DROP TABLE IF EXISTS "{name}"')
                for table in ("gpkg_contents", "gpkg_geometry_columns"):
                    con.execute(f"DELETE FROM {table} WHERE table_name = ?", (name,))

    # -- transactions ------------------------------------------------------------------------
    _in_tx = False

    def _require_tx(self) -> None:
        if not self._in_tx:
            raise RuntimeError("workspace writes must happen inside Workspace.transaction()")

    @contextmanager
    def transaction(self) -> Iterator[Workspace]:
        """Work on a copy; replace the workspace only if the block completes.

        Writers take an exclusive lock beside the file, so a CLI command and the server (or two
        server requests) never interleave; the metadata is re-read under the lock, so a change
        committed meanwhile is not lost.
        """
        with _exclusive(self.path):
            self._meta = Workspace.open(self.path)._meta
            with self._transaction() as work:
                yield work

    @contextmanager
    def _transaction(self) -> Iterator[Workspace]:
        for stale in self.path.parent.glob(_TMP_PREFIX + "*"):
            # Left by a process killed mid-write; the workspace itself is intact.
            if stale.name.endswith(self.path.name):
                stale.unlink(missing_ok=True)
        tmp = self.path.parent / f"{_TMP_PREFIX}{os.getpid()}-{self.path.name}"
        shutil.copyfile(self.path, tmp)
        work = Workspace(tmp, json.loads(json.dumps(self._meta)))
        work._in_tx = True
        try:
            yield work
            _write_meta(tmp, work._meta)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            self._meta = work._meta
        finally:
            work._in_tx = False
            tmp.unlink(missing_ok=True)


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    import fcntl

    lock = path.parent / f".{path.name}.lock"
    with open(lock, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _write_meta(path: Path, meta: dict[str, Any]) -> None:
    frame = pd.DataFrame(
        {"key": list(meta), "value": [json.dumps(v, ensure_ascii=False) for v in meta.values()]})
    pyogrio.write_dataframe(frame, path, layer=META_TABLE, driver="GPKG")
