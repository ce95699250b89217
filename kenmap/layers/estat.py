"""Conventions of e-Stat 小地域 (census small-area) boundary files.

``KEY_CODE`` = pref(2) + city(3) + 町字(4) + 丁目(2); ``HCODE`` 8154 marks water areas;
``KIGO_E`` (E1, E2, …) marks parts of one small area split into enclaves, which share a
``KEY_CODE``. Counts (``JINKO``, ``SETAI``) sit on one part or another — not always the part
flagged ``AREA_MAX_F == 'M'`` (Tottori 2015: summing all parts gives the published 573,441,
the 'M' rows alone 572,285) — so counts are summed over the parts.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

WATER_HCODE = 8154
COUNT_FIELDS = ("JINKO", "SETAI", "AREA")


def is_estat(frame: pd.DataFrame) -> bool:
    """True when a frame carries the e-Stat small-area fields."""
    return {"KEY_CODE", "HCODE"}.issubset(frame.columns)


def water_mask(frame: pd.DataFrame) -> pd.Series:
    """Rows that are water areas (HCODE 8154)."""
    if "HCODE" not in frame.columns:
        return pd.Series(False, index=frame.index)
    return pd.to_numeric(frame["HCODE"], errors="coerce").eq(WATER_HCODE)


def dissolve_enclaves(
    frame: gpd.GeoDataFrame, code: str
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Merge the enclave parts (``KIGO_E``) sharing a code into one area.

    Returns
    -------
    frame, parts
        The frame with one row per code among the enclave rows, and the number of parts merged
        for each such code.
    """
    if "KIGO_E" not in frame.columns:
        return frame, {}
    enclave = frame["KIGO_E"].notna() & frame["KIGO_E"].astype(str).str.strip().ne("")
    shared = frame[code].duplicated(keep=False) & enclave
    if not shared.any():
        return frame, {}
    parts = frame[shared]
    merged_rows = []
    counts: dict[str, int] = {}
    for key, group in parts.groupby(code, sort=False):
        main = group[group.get("AREA_MAX_F", pd.Series("", index=group.index)).eq("M")]
        row = (main if len(main) else group).iloc[[0]].copy()
        for field in COUNT_FIELDS:
            if field in group.columns and pd.api.types.is_numeric_dtype(group[field]):
                row[field] = group[field].sum()
        row["geometry"] = shapely.union_all(group.geometry.to_numpy())
        counts[str(key)] = len(group)
        merged_rows.append(row)
    merged = pd.concat(merged_rows)
    out = pd.concat([frame[~shared], merged]).sort_values("_row")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs), counts
