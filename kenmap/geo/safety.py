"""Checks on files from outside before anything reads them in earnest: zip archives that lie
about their size or escape their folder, GeoPackages whose layers are views (an SQL view can
compute forever), and files with more rows than an import may hold.
"""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path, PurePosixPath

from kenmap.errors import KenmapError, TooLargeError

#: A zip may expand to at most this many bytes in all.
ZIP_MAX_TOTAL = 4 * 1024**3
#: No entry may expand more than this many times its compressed size.
ZIP_MAX_RATIO = 200
_CHUNK = 1024 * 1024


def check_zip(path: Path, *, max_total: int = ZIP_MAX_TOTAL) -> list[str]:
    """Names inside a zip archive, refusing unsafe paths and zip bombs.

    The sizes the archive declares are checked first; then every entry is inflated as a
    stream and counted, so an archive whose headers understate what it holds is caught by the
    bytes it really produces (and by its CRC) without ever holding them.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = 0
            for info in infos:
                name = info.filename
                parts = PurePosixPath(name.replace("\\", "/")).parts
                if name.startswith(("/", "\\")) or ".." in parts or \
                        (len(name) > 1 and name[1] == ":"):
                    raise KenmapError(f"zip の中の「{name}」のパスが安全ではないため、受け付けませ"
                                      "ん", file=path)
                total += info.file_size
                if info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO:
                    raise KenmapError(
                        f"zip の中の「{name}」は展開すると {info.file_size // info.compress_size}× "
                        "に"
                        "なります（zip 爆弾？）。受け付けません", file=path)
            if total > max_total:
                raise TooLargeError(f"zip を展開すると {total:,} バイトになります。受け付けません",
                                    file=path)
            inflated = 0
            for info in infos:
                if info.is_dir():
                    continue
                seen = 0
                with zf.open(info) as stream:
                    while chunk := stream.read(_CHUNK):
                        seen += len(chunk)
                        inflated += len(chunk)
                        if seen > info.file_size or inflated > max_total:
                            raise TooLargeError(f"zip の中の「{info.filename}」は申告より"
                                                "大きな中身を持っています（zip 爆弾？）。受け付けま"
                                                "せん", file=path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError,
            NotImplementedError, RuntimeError) as exc:
        raise KenmapError(f"正しい zip ではありません（{str(exc)[:80]}）", file=path) from exc
    return [i.filename for i in infos if not i.is_dir()]


def check_geopackage(path: Path, *, max_seconds: float = 10.0) -> None:
    """Refuse a GeoPackage whose layers are SQL views (which can run without end) or that is
    not a SQLite database; opened read-only, with a time limit on the check itself."""
    import time

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error as exc:
        raise KenmapError("読み込めるベクタファイルではありません（GeoPackage ではありません）",
                          file=path) from exc
    deadline = time.monotonic() + max_seconds
    con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        views = {str(r[0]) for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'view'")}
        layers = [str(r[0]) for r in con.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type IN ('features', "
            "'attributes')")]
    except sqlite3.Error as exc:
        raise KenmapError("読み込めるベクタファイルではありません（GeoPackage ではありません）",
                          file=path) from exc
    finally:
        con.close()
    bad = [name for name in layers if name in views]
    if bad:
        raise KenmapError(f"レイヤ「{bad[0]}」はテーブルではなく SQL ビューです。ビューは"
                          "受け付けません（レイヤをテーブルとして書き出してください）", file=path)


def count_rows(path: Path) -> int:
    """Rows (features) in a vector file or a CSV/Excel table, without reading them all."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        with open(path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(_CHUNK), b""))
    if suffix in (".xlsx", ".xlsm"):
        check_zip(path, max_total=512 * 1024**2)
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        try:
            return max((sheet.max_row or 0) for sheet in book.worksheets)
        finally:
            book.close()
    import pyogrio

    from kenmap.geo.vector_io import gdal_paths

    total = 0
    for gdal_path in gdal_paths(path):
        try:
            for layer, _ in pyogrio.list_layers(gdal_path):
                total += max(0, int(pyogrio.read_info(gdal_path, layer=str(layer))["features"]))
        except Exception as exc:
            raise KenmapError(f"読み込めるベクタファイルではありません（{str(exc)[:80]}）",
                              file=path.name) from exc
    return total
