from pathlib import Path

import pytest

from kenmap.errors import KenmapError
from kenmap.model.scheme import PRESETS, load_scheme


def test_presets_follow_the_plans() -> None:
    toyooka = load_scheme(None)
    assert toyooka.keys == ["shi", "kyushicho", "chiku", "gyoseiku", "tonarikinjo"]
    assert [layer.expected for layer in toyooka.layers] == [1, 6, 29, 359, None]
    labels = [layer.label for layer in toyooka.layers]
    assert labels == ["市", "旧市町", "地区", "行政区", "隣近所"]
    yonago = PRESETS["yonago"]
    assert yonago.keys == ["shi", "nichijo", "kominkan", "jichikai"]
    assert yonago.layer("kominkan").label == "公民館区域"


def test_scheme_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "sapporo.toml"
    path.write_text('name = "札幌（区・町丁）"\n[[layers]]\nkey = "shi"\nlabel = "市"\n'
                    'expected = 1\n'
                    '[[layers]]\nkey = "ku"\nlabel = "区"\n[[layers]]\nkey = "chocho"\n'
                    'label = "町丁"\n', encoding="utf-8")
    scheme = load_scheme(str(path))
    assert scheme.name == "札幌（区・町丁）"
    assert scheme.keys == ["shi", "ku", "chocho"]
    assert scheme.layer("shi").expected == 1 and scheme.layer("ku").expected is None


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('name = "x"\n[[layers]]\nkey = "Shi"\nlabel = "市"\n', "英小文字"),
        ('name = "x"\n[[layers]]\nkey = "a"\nlabel = "A"\n[[layers]]\nkey = "a"\nlabel = "B"\n',
         "2回使われている"),
        ('name = "x"\n', "1つ以上"),
        ('name = "x"\n[[layers]]\nkey = "a"\nlabel = "A"\nexpected = 0\n', "正の整数"),
        ('name = "x\n', "TOML ファイルではありません"),
    ],
)
def test_bad_scheme_files(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(KenmapError, match=needle) as info:
        load_scheme(str(path))
    assert str(path) in str(info.value)


def test_unknown_layer_lists_valid_keys() -> None:
    with pytest.raises(KenmapError, match="jichikai"):
        PRESETS["yonago"].layer("gyoseiku")
