"""Long PDFs (the 地域カルテ of every area) drawn in two Pythons and joined: page for page
what one Python draws. And the sheets of the lowest layer, which has no child areas."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")


def _pages_text(pdf: bytes, tmp_path: Path) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed: the PDF is not read")
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return [page.strip() for page in text.split("\f")[:-1]]


def words_pdf(words: list[str]) -> bytes:
    """A page per word, and the process that drew it (the second Python imports this)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with plt.rc_context({"pdf.fonttype": 42}), PdfPages(buffer) as document:
        for word in words:
            fig = plt.figure(figsize=(3, 3))
            fig.text(0.1, 0.5, f"{word} {os.getpid()}")
            document.savefig(fig)
            plt.close(fig)
    return buffer.getvalue()


def test_joined_pdfs_keep_every_page_in_order(tmp_path: Path) -> None:
    from kenmap.maps.pdfparts import join_pdfs

    here = os.getpid()
    joined = join_pdfs([words_pdf(["一", "二"]), words_pdf(["三"]), words_pdf(["四 42"])])
    assert _pages_text(joined, tmp_path) == [f"一 {here}", f"二 {here}", f"三 {here}",
                                             f"四 42 {here}"]
    if shutil.which("qpdf"):
        (tmp_path / "joined.pdf").write_bytes(joined)
        check = subprocess.run(["qpdf", "--check", str(tmp_path / "joined.pdf")],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_a_pdf_not_written_as_matplotlib_writes_is_refused() -> None:
    from kenmap.maps.pdfparts import join_pdfs

    for other in (b"%PDF-1.5\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", b""):
        with pytest.raises(ValueError):
            join_pdfs([other, words_pdf(["x"])])


@pytest.mark.parametrize("child", ["draws", "fails"])
def test_the_second_half_drawn_by_a_second_python(tmp_path: Path, child: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from kenmap.maps import pdfparts

    monkeypatch.setattr(pdfparts, "_cores", lambda: 2)
    if child == "fails":  # then this process draws it
        monkeypatch.setattr(pdfparts, "_CHILD", "import sys; sys.exit(3)")
    pages = _pages_text(pdfparts.drawn_in_two(words_pdf, ["一", "二", "三", "四", "五"]),
                        tmp_path)
    assert [page.split()[0] for page in pages] == ["一", "二", "三", "四", "五"]
    here = str(os.getpid())
    drew = [page.split()[1] == here for page in pages]
    assert drew == ([True] * 3 + [False] * 2 if child == "draws" else [True] * 5)


def test_sheets_drawn_in_two_read_as_in_one(demo_copy_ws: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    from kenmap.access.sheets import area_codes
    from kenmap.maps import pdfparts, sheets
    from kenmap.workspace import Workspace

    ws = Workspace.open(demo_copy_ws)
    codes = area_codes(ws, "chiku")[:7]
    one, two = tmp_path / "one.pdf", tmp_path / "two.pdf"
    sheets.write_sheets(ws, "chiku", codes, pdf=one)
    monkeypatch.setattr(sheets, "PARALLEL_FROM", 2)
    monkeypatch.setattr(pdfparts, "_cores", lambda: 2)
    capfd.readouterr()
    sheets.write_sheets(ws, "chiku", codes, pdf=two)
    assert "Traceback" not in capfd.readouterr().err  # the second Python drew its half
    pages = _pages_text(two.read_bytes(), tmp_path)
    assert len(pages) == 7 and pages == _pages_text(one.read_bytes(), tmp_path)


def test_sheets_of_the_lowest_layer(run, demo_copy_ws: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html = tmp_path / "tonari.html"
    result = run("profile", demo_copy_ws, "--layer", "tonarikinjo", "--all", "--html", html)
    assert result.code == 0, result.err
    page = html.read_text(encoding="utf-8")
    assert page.count('<section class="sheet">') > 100 and "のない" not in page
