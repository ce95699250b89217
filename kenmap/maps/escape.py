"""The one way text reaches a page: escaped for HTML, or as JSON that is safe inside <script>.

Names come from users' files (area and city names, hub names, catalogue labels, sources, the
scheme's name), so any of them may hold ``</script>`` or a quote. Every module that writes
HTML or JavaScript goes through these two functions.
"""

from __future__ import annotations

import html
import json
from typing import Any

_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                  "\u2029": "\\u2029"}


def text(value: object) -> str:
    """Text for HTML content or a quoted attribute (``&``, ``<``, ``>``, quotes escaped)."""
    return html.escape(str(value), quote=True)


def script_json(value: Any) -> str:
    """Compact JSON to paste into a ``<script>`` element: ``<``, ``>``, ``&`` and the JavaScript
    line separators U+2028/U+2029 are written as ``\\uXXXX``, so no string can end the element
    or break the script."""
    out = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _SCRIPT_UNSAFE.items():
        out = out.replace(char, escaped)
    return out
