"""Reading plain tables (CSV, Excel) as Japanese offices deliver them."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from kenmap.errors import KenmapError


def decode_text(raw: bytes, encoding: str | None, path: str | Path) -> tuple[str, str]:
    """Decode bytes: the given encoding, else strict UTF-8 (BOM or not), else cp932."""
    candidates = [encoding] if encoding else ["utf-8-sig", "cp932"]
    for cand in candidates:
        try:
            return raw.decode(cand), cand
        except (UnicodeDecodeError, LookupError):
            continue
    raise KenmapError("文字コードが UTF-8 でも cp932（Shift_JIS）でもありません。--encoding を指定"
                      "してください"
                      if not encoding else f"文字列が {encoding} として正しくありません", file=path)


def read_table(path: str | Path, *, encoding: str | None = None, header_rows: int = 1,
               sheet: str | int = 0) -> pd.DataFrame:
    """A CSV or Excel table with every cell as text (counts are parsed by the caller)."""
    path = Path(path)
    if not path.exists():
        raise KenmapError("ファイルが見つかりません", file=path)
    suffix = path.suffix.lower()
    header = list(range(header_rows)) if header_rows > 1 else 0
    try:
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=sheet, dtype=str, header=header)
        if suffix in (".csv", ".txt", ".tsv"):
            text, _ = decode_text(path.read_bytes(), encoding, path)
            sep = "\t" if suffix == ".tsv" else ","
            return pd.read_csv(io.StringIO(text), dtype=str, header=header, sep=sep,
                               keep_default_na=False, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise KenmapError(f"表を読み込めません（{str(exc).splitlines()[0]}）", file=path) from exc
    raise KenmapError("対応していない表の形式です（.csv か .xlsx）", file=path)
