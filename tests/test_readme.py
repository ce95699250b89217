"""The README's walk-through, run as written on the real files (so the test fails when the
README drifts from what kenmap does)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from conftest import REAL, ROOT, CliResult

pytestmark = pytest.mark.real


def walkthrough() -> list[list[str]]:
    """The commands of the first ``sh`` block under "## Using it", continuation lines joined
    and comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Using it\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README: no sh block under ## Using it"
    joined = block.group(1).replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in joined.splitlines() if line.strip()]


def test_readme_walkthrough_runs_as_written(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    commands = walkthrough()
    kenmap_commands = [c for c in commands if c and c[0] == "kenmap"]
    assert len(kenmap_commands) >= 8
    assert all(c[0] in ("kenmap", ".") for c in commands if c), commands

    def where(arg: str) -> str:  # paths in the README are relative to the project folder
        if arg.startswith("../shared/data/real/"):
            path = REAL / arg.removeprefix("../shared/data/real/")
        elif arg.startswith("examples/"):
            path = ROOT / arg
        else:
            return arg
        assert path.exists(), f"README names a file that does not exist: {arg}"
        return str(path)

    monkeypatch.chdir(tmp_path)
    outputs: list[CliResult] = []
    for command in kenmap_commands:
        result = run(*[where(a) for a in command[1:]])
        assert result.code == 0, (command, result.out, result.err)
        assert "Traceback" not in result.err
        outputs.append(result)
    ws = tmp_path / "yonago.gpkg"
    import kenmap

    opened = kenmap.open_workspace(ws)
    assert [len(opened.read_attributes(k)) for k in ("shi", "kyushicho", "chocho")] == \
        [1, 2, 258]
    validate = next(o for c, o in zip(kenmap_commands, outputs) if c[1] == "validate")
    assert "警告 0 件" in validate.out and "区域がありません" not in validate.out
    stats = next(o for c, o in zip(kenmap_commands, outputs) if c[1] == "stats")
    assert "149,313" in stats.out and "旧淀江町" in stats.out and "9,533" in stats.out
    assert "公民館29" in stats.out
    assert (tmp_path / "yonago-maps" / "index.html").exists()
    page = (tmp_path / "yonago-maps" / "chocho.html").read_text(encoding="utf-8")
    # Every source's attribution, as the walk-through stored it, is on the map.
    estat = "「政府統計の総合窓口(e-Stat)」境界データ（平成27年国勢調査 小地域）を加工して作成"
    gsi = "「指定緊急避難場所・指定避難所データ（国土地理院）」（evacuation_312029.geojson）"
    assert estat in page and gsi in page
    assert "平成27年国勢調査 小地域（e-Stat）" in page


def test_an_empty_layer_of_the_scheme_is_a_warning(run, tmp_path: Path  # type: ignore[no-untyped-def]
                                                   ) -> None:
    """The yonago preset on these files: the layers they cannot fill are named, not passed."""
    ws = tmp_path / "y.gpkg"
    assert run("init", ws, "--scheme", "yonago").code == 0
    assert run("import", "areas", ws, REAL / "estat_h27_tottori" / "31-tottori-all.shp",
               "--layer", "jichikai", "--code-field", "KEY_CODE", "--name-field", "MOJI",
               "--where", "CITY == '202'").code == 0
    assert run("derive", ws, "--layer", "shi", "--from", "jichikai", "--single", "米子市").code == 0
    result = run("validate", ws)
    assert result.code == 0
    assert "警告: 日常生活圏域（nichijo）に区域がありません" in result.out
    assert "警告: 公民館区域（kominkan）に区域がありません" in result.out
    # A command needing a layer and given none uses one that holds areas, and says which.
    gaps = run("gaps", ws, "--hub-type", "kominkan")
    assert "（--layer の指定がないため 近隣・自治会（jichikai）で集計します）" in gaps.err
    site = run("site", ws, "--hub-type", "kominkan", "--k", "1", "--radius", "800",
               "--candidate-grid", "500")
    for result in (gaps, site):
        assert result.code == 2 and "人口がありません" in result.err, result.err
        assert "オプション --layer" not in result.err and "項目「--layer」" not in result.err
