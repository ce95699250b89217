"""Writing result files atomically, and formatting figures for people."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from kenmap.errors import KenmapError


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file completely or not at all."""
    path = Path(path)
    if not path.parent.exists():
        raise KenmapError("folder does not exist", file=path.parent)
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


def fmt_count(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{int(value):,}"  # type: ignore[call-overload]


def fmt_rate(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):.1f}%"  # type: ignore[arg-type]
