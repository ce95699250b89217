"""Small files in and out: the ones users write by hand (schemes, catalogues, results), and
result files written completely or not at all."""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from kenmap.errors import KenmapError


def read_toml(path: Path) -> dict[str, Any]:
    """A UTF-8 TOML file (a BOM is fine), or one clear error naming it."""
    if not path.exists():
        raise KenmapError("ファイルが見つかりません", file=path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KenmapError(f"正しい UTF-8 の TOML ファイルではありません（{exc}）",
                          file=path) from exc


def read_json(path: Path, what: str) -> Any:
    """A UTF-8 JSON file, or one clear error naming it and what it should have been."""
    if not path.exists():
        raise KenmapError("ファイルが見つかりません", file=path)
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KenmapError(f"{what} の JSON ではありません（{exc}）", file=path) from exc

def share_mode(path: Path) -> None:
    """Give a new file the permissions the user's umask allows (mkstemp makes it 0600), so
    maps, tables and workspaces can be shared from a drive or a web server."""
    os.chmod(path, 0o666 & ~_umask())


@cache
def _umask() -> int:
    """The process's umask, read once (setting it to read it is not safe among threads)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file completely or not at all, readable as the umask allows."""
    path = Path(path)
    if not path.parent.exists():
        raise KenmapError("フォルダがありません", file=path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        share_mode(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
