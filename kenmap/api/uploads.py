"""Uploaded files: streamed to a private folder under a size limit, checked for what they
really are (zip bombs, GeoPackage views, too many rows), and always removed afterwards."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import BinaryIO

from kenmap.errors import KenmapError, TooLargeError
from kenmap.geo.safety import check_zip, count_rows

UPLOAD_SUFFIXES = {".zip", ".gpkg", ".geojson", ".json", ".topojson", ".fgb", ".csv",
                   ".xlsx"}
_CHUNK = 1024 * 1024


def safe_name(filename: str | None) -> str:
    """The upload's base name, safe for the local disk: no folders, no control characters,
    at most 100 characters (the suffix is kept)."""
    name = PurePath((filename or "").replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f/:*?\"<>|]", "_", name).strip(" .")
    suffix = PurePath(name).suffix.lower() if name else ""
    if len(suffix) > 10:
        suffix = ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    stem = stem.encode("utf-8")[:150].decode("utf-8", "ignore") or "upload"
    return stem + suffix


@contextmanager
def saved_upload(stream: BinaryIO, filename: str | None, *, limit: int, max_expanded: int,
                 max_rows: int | None) -> Iterator[Path]:
    """The upload as a file in a private temporary folder, removed on every way out (the
    checks are those of :func:`store_upload`)."""
    folder = tempfile.mkdtemp(prefix="kenmap-upload-")
    try:
        yield store_upload(stream, filename, Path(folder), limit=limit,
                           max_expanded=max_expanded, max_rows=max_rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def store_upload(stream: BinaryIO, filename: str | None, folder: Path, *, limit: int,
                 max_expanded: int, max_rows: int | None) -> Path:
    """Save the upload into ``folder`` (a private one of the caller's) under its safe name.

    Refused: unknown suffixes, more than ``limit`` bytes (counted while streaming), empty
    files, zips (and .xlsx, which are zips) that expand past ``max_expanded`` or lie about
    their size, and files with more than ``max_rows`` rows. On refusal the caller removes
    the folder.
    """
    name = safe_name(filename)
    suffix = PurePath(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise KenmapError(f"アップロード「{name}」は {', '.join(sorted(UPLOAD_SUFFIXES))} "
                          "のいずれかにしてください（シェープファイルは zip にまとめます）",
                          field="file")
    target = folder / name
    size = 0
    with open(target, "wb") as out:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLargeError(f"アップロードが {limit:,} バイトを超えています", file=name,
                                    field="file")
            out.write(chunk)
    if size == 0:
        raise KenmapError("アップロードが空です", file=name, field="file")
    if suffix in (".zip", ".xlsx"):
        check_zip(target, max_total=max_expanded)
    if max_rows is not None:
        rows = count_rows(target)
        if rows > max_rows:
            raise TooLargeError(f"{rows:,}行あり、1回の取り込みの上限"
                                f"（{max_rows:,}行）を超えます。ファイルを分けてください",
                                file=name,
                                field="file")
    return target
