"""Optional parts of kenmap: a clear message naming the extra to install when one is missing.

``pip install kenmap`` brings everything the planners' main job needs (import, figures, maps,
the server); printing, the exact siting solver and rasters come with extras
(``pip install 'kenmap[print]'`` …, or ``kenmap[all]``).
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from kenmap.errors import KenmapError


def has(module: str) -> bool:
    """Whether ``module`` can be imported."""
    return importlib.util.find_spec(module) is not None


def need(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module``, or refuse with what to install for ``purpose``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise KenmapError(f"{purpose}には追加のパッケージ {module} が必要です"
                          f"（pip install 'kenmap[{extra}]' で入ります）") from exc
