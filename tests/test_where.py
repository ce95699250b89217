import pandas as pd
import pytest

from kenmap.errors import KenmapError
from kenmap.geo.where import filter_rows

FRAME = pd.DataFrame({"CITY": ["201", "202", "202"], "MOJI": ["立川町", "淀江町西原", "中町"],
                      "JINKO": [5, 0, 12]})


def test_equality_with_text_or_number() -> None:
    assert len(filter_rows(FRAME, "CITY == '202'")) == 2
    assert len(filter_rows(FRAME, "CITY == 202")) == 2


def test_combinations() -> None:
    got = filter_rows(FRAME, "CITY == '202' and not MOJI.startswith('淀江町')")
    assert got["MOJI"].tolist() == ["中町"]
    assert len(filter_rows(FRAME, "JINKO > 0 or CITY in ('202',)")) == 3


@pytest.mark.parametrize("expr", ["__import__('os').system('true')", "CITY == MOJI",
                                  "CITY +", "len(CITY) > 1"])
def test_rejects_anything_but_comparisons(expr: str) -> None:
    with pytest.raises(KenmapError):
        filter_rows(FRAME, expr)


def test_unknown_field_is_named() -> None:
    with pytest.raises(KenmapError, match="その項目はありません") as info:
        filter_rows(FRAME, "KEN == '31'")
    assert info.value.field == "KEN"
