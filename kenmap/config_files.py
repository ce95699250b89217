"""Reading the small files users write by hand (schemes, type catalogues, results)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from kenmap.errors import KenmapError


def read_toml(path: Path) -> dict[str, Any]:
    """A UTF-8 TOML file (a BOM is fine), or one clear error naming it."""
    if not path.exists():
        raise KenmapError("file not found", file=path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KenmapError(f"not a valid UTF-8 TOML file ({exc})", file=path) from exc


def read_json(path: Path, what: str) -> Any:
    """A UTF-8 JSON file, or one clear error naming it and what it should have been."""
    if not path.exists():
        raise KenmapError("file not found", file=path)
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KenmapError(f"not a {what} JSON ({exc})", file=path) from exc
