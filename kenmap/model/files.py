"""Small files in and out: the ones users write by hand (schemes, catalogues, results), and
result files written completely or not at all."""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
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

def write_atomic(path: Path, data: bytes) -> None:
    """Write a file completely or not at all."""
    path = Path(path)
    if not path.parent.exists():
        raise KenmapError("フォルダがありません", file=path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
