"""Names of the workspace tables that hold people (kept apart so readers need no importers)."""

from __future__ import annotations

#: Tables of imported grids (a raster or a JIS mesh) by the value they hold.
GRID_TABLES = {"total": "grid_total", "pop65": "grid_pop65"}


def table_name(layer: str) -> str:
    """The workspace table holding the population of ``layer``'s areas."""
    return f"population_{layer}"
