import numpy as np
import pandas as pd
import pytest

from kenmap.errors import KenmapError
from kenmap.people.counts import band_coverage, find_bands, parse_counts, reaggregated


def _parse(cells: list[object]) -> tuple[list[float], int]:
    series = pd.Series(cells, dtype=object)
    values, missing = parse_counts(series, file="t.csv", field="f",
                                   rows=pd.Series(range(2, 2 + len(cells))))
    return values.tolist(), missing


def test_census_marks() -> None:
    values, missing = _parse(["12", "-", "X", "*", "…", "", "1,234", "３４", "－", None])
    assert values[:2] == [12.0, 0.0]
    assert all(np.isnan(v) for v in values[2:6])  # suppressed stays missing, never 0
    assert values[6:9] == [1234.0, 34.0, 0.0]
    assert np.isnan(values[9])
    assert missing == 5


@pytest.mark.parametrize(("cell", "needle"), [("-3", "負の値"), ("abc", "人数ではありません"),
                                              ("2.5", "整数ではありません")])
def test_bad_cells_name_the_row(cell: str, needle: str) -> None:
    with pytest.raises(KenmapError, match=needle) as info:
        _parse(["1", cell])
    assert info.value.row == 3 and info.value.field == "f"


def test_band_headers_as_tables_write_them() -> None:
    cols = ["地域", "総数", "0～4歳", "5-9", "10〜14",
            *[f"{a}～{a + 4}歳" for a in range(15, 100, 5)],
            "100歳  以上", "（再掲）65歳以上", "（再掲）75歳以上", "年齢不詳"]
    bands = find_bands(cols)
    assert [b.start for b in bands] == list(range(0, 105, 5))
    assert bands[-1].end is None and bands[-1].column == "100歳  以上"
    assert band_coverage(bands, 0) and band_coverage(bands, 65) and band_coverage(bands, 75)
    assert reaggregated(cols, 65) == "（再掲）65歳以上"


def test_two_row_headers_and_gaps() -> None:
    cols = ["年齢（5歳階級） / 65～69歳", "年齢（5歳階級） / 70～74歳",
            "年齢（5歳階級） / 75歳以上"]
    bands = find_bands(cols)
    assert [b.start for b in bands] == [65, 70, 75]
    assert band_coverage(bands, 65)
    assert not band_coverage(find_bands(["65～69歳", "75～79歳", "80歳以上"]), 65)
    assert not band_coverage(find_bands(["65～69歳", "70～74歳"]), 65)  # no open top band
    grouped = find_bands(["0～14歳 / 0～4歳", "0～14歳 / 5～9歳", "0～14歳 / 10～14歳"])
    assert [b.start for b in grouped] == [0, 5, 10]
