"""Normalising Japanese place names so tables can be joined to areas by name.

NFKC (full-/half-width), kanji numerals before 条/丁目/番/号/線/区/組 → arabic, ケ/ヶ/が/ガ/ヵ
variants folded, spaces (including 全角) removed.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMBER = re.compile(
    r"([〇零一二三四五六七八九十百千]+)(?=(条|丁目|丁|番町|番地|番|号|線|区|組|地割))")
_GA = re.compile(r"[ケヶがガヵカ](?=[丘岡崎谷原浜森沢島関瀬窪台尾坂堤淵])")


def kanji_to_int(text: str) -> int:
    """``二十三`` → 23, ``百五`` → 105, ``二〇`` → 20 (digit-by-digit form)."""
    if all(ch in _DIGITS for ch in text):
        value = 0
        for ch in text:
            value = value * 10 + _DIGITS[ch]
        return value
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        else:
            total += (current or 1) * _UNITS[ch]
            current = 0
    return total + current


def normalise_name(name: object) -> str:
    """A key for matching names: ``'北１条西　二丁目'`` and ``'北1条西2丁目'`` give the same."""
    if name is None:
        return ""
    text = unicodedata.normalize("NFKC", str(name))
    text = re.sub(r"\s+", "", text)
    text = _KANJI_NUMBER.sub(lambda m: str(kanji_to_int(m.group(1))), text)
    text = _GA.sub("ケ", text)
    return text
