import pytest

from kenmap.layers.names import kanji_to_int, normalise_name


@pytest.mark.parametrize(("a", "b"), [
    ("北１条西　二丁目", "北1条西2丁目"),
    ("東　区", "東区"),
    ("旗ケ崎", "旗ヶ崎"),
    ("旗が崎", "旗ヶ崎"),
    ("自由ヶ丘三丁目", "自由が丘3丁目"),
    ("美園十二条五丁目", "美園12条5丁目"),
    ("新琴似七番通", "新琴似7番通"),
    ("ｼﾝｺﾄﾆ", "シンコトニ"),
    ("東十五線", "東15線"),
    ("西二十一区", "西21区"),
])
def test_same_place_same_key(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


@pytest.mark.parametrize(("a", "b"), [
    ("一ツ橋", "1ツ橋"),          # not before 条/丁目/番/号/線: kept as written
    ("三条", "二条"),
    ("金ケ崎", "金山崎"),
])
def test_different_places_stay_apart(a: str, b: str) -> None:
    assert normalise_name(a) != normalise_name(b)


def test_kanji_numbers() -> None:
    assert kanji_to_int("二十三") == 23
    assert kanji_to_int("十") == 10
    assert kanji_to_int("百五") == 105
    assert kanji_to_int("二〇") == 20
