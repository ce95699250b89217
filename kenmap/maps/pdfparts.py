"""A long PDF drawn in two Pythons at once, its halves joined into one document.

matplotlib lays out and writes a page's text glyph by glyph in one thread, so hundreds of
pages keep one core busy however they are built; and it writes one document from one process.
So the second half is drawn by a second Python meanwhile, and the two documents joined. The
joiner reads only what matplotlib writes (one classic cross-reference table, a catalog, one
page tree); anything else raises :class:`ValueError`, and the whole is then drawn here.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_START = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_TABLE = re.compile(rb"xref\s+0 (\d+)\s+")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
_OBJ = re.compile(rb"(\d+) 0 obj\s")
_END = re.compile(rb"\s*endobj\s*$")
_REF = re.compile(rb"(?<![\w.])(\d+) 0 R(?!\w)")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")


class _Part:
    """One document: its objects' bodies (between ``N 0 obj`` and ``endobj``) by number, its
    catalog, page tree, information dictionary and pages in order; and, once joined, the
    number each of its objects has in the whole."""

    def __init__(self, pdf: bytes) -> None:
        start = _START.search(pdf[-64:])
        if start is None:
            raise ValueError("no startxref at the end")
        xref = int(start.group(1))
        table = _TABLE.match(pdf, xref)
        if table is None:
            raise ValueError("not one classic cross-reference table")
        size = int(table.group(1))
        entries = _ENTRY.findall(pdf, table.end(), table.end() + 20 * size)
        if len(entries) != size:
            raise ValueError("a cross-reference table cut short")
        offsets = {number: int(offset) for number, (offset, _, kind) in enumerate(entries)
                   if kind == b"n"}
        starts = sorted(offsets.values())
        end_of = dict(zip(starts, [*starts[1:], xref]))  # an object runs to the next one
        self.header = pdf[:starts[0]]
        self.bodies: dict[int, bytes] = {}
        for number, offset in offsets.items():
            head = _OBJ.match(pdf, offset)
            if head is None or int(head.group(1)) != number:
                raise ValueError(f"object {number} is not where the table says")
            self.bodies[number] = _END.sub(b"", pdf[head.end():end_of[offset]])
        trailer = pdf[table.end() + 20 * size:]
        self.catalog = self._ref(trailer, b"/Root")
        self.info = self._ref(trailer, b"/Info") if b"/Info" in trailer else None
        self.tree = self._ref(self.bodies[self.catalog], b"/Pages")
        kids = _KIDS.search(self.bodies[self.tree])
        if kids is None:
            raise ValueError("no /Kids in the page tree")
        self.pages = [int(n) for n in _REF.findall(kids.group(1))]
        self.new: dict[int, int] = {}

    @staticmethod
    def _ref(text: bytes, key: bytes) -> int:
        found = re.search(re.escape(key) + rb"\s+(\d+) 0 R", text)
        if found is None:
            raise ValueError(f"no {key.decode()}")
        return int(found.group(1))


def _renumbered(body: bytes, new: dict[int, int]) -> bytes:
    """A body with its references renumbered (a stream's data left as it is)."""
    split = body.find(b"\nstream\n")
    if split < 0 and b"endstream" in body:
        raise ValueError("a stream not written as matplotlib writes one")
    head, data = (body, b"") if split < 0 else (body[:split], body[split:])

    def number(ref: re.Match[bytes]) -> bytes:
        if int(ref.group(1)) not in new:
            raise ValueError(f"a reference to a missing object {ref.group(1).decode()}")
        return b"%d 0 R" % new[int(ref.group(1))]
    return _REF.sub(number, head) + data


def join_pdfs(documents: list[bytes]) -> bytes:
    """One PDF of the pages of these PDFs (as matplotlib writes them), in order: the first
    document's catalog and page tree hold every page, each document keeps its own fonts and
    resources, and every object is numbered anew."""
    try:
        parts = [_Part(pdf) for pdf in documents]
    except (IndexError, KeyError) as error:
        raise ValueError(f"not a PDF as matplotlib writes one ({error!r})") from error
    first = parts[0]
    kept: list[tuple[_Part, int]] = []  # (document, its number), in the order written
    for part in parts:
        for number in sorted(part.bodies):
            if part is not first and number in (part.catalog, part.tree, part.info):
                continue  # one catalog, one page tree, one information dictionary
            kept.append((part, number))
            part.new[number] = len(kept)
        part.new[part.tree] = first.new[first.tree]  # every page's /Parent: the one tree
    pages = [part.new[page] for part in parts for page in part.pages]
    tree = b"<< /Type /Pages /Kids [ %s ] /Count %d >>" % (
        b" ".join(b"%d 0 R" % page for page in pages), len(pages))
    out = bytearray(first.header)
    offsets = []
    for part, number in kept:
        offsets.append(len(out))
        body = tree if part is first and number == first.tree else \
            _renumbered(part.bodies[number], part.new)
        out += b"%d 0 obj\n%s\nendobj\n" % (len(offsets), body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(kept) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = b"" if first.info is None else b" /Info %d 0 R" % first.new[first.info]
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(kept) + 1, first.new[first.catalog], info, xref)
    return bytes(out)


def drawn_in_two(draw: Callable[..., bytes], items: list[Any], *args: Any,
                 lead: int = 0) -> bytes:
    """``draw(items, *args)``, a PDF of a page per item, the later items drawn meanwhile by a
    second Python when this process may use two cores: this one draws half of them and
    ``lead`` more (as many as it draws while the other starts). ``draw`` must be a module's
    function and ``items`` and ``args`` picklable: the second Python imports the one and is
    sent the others."""
    half = min((len(items) + lead + 1) // 2, len(items) - 1)
    if _cores() < 2 or half < 1:
        return draw(items, *args)
    # A fresh interpreter given its part in a file, not multiprocessing: spawning runs the
    # caller's main script again, and a threaded caller (the server) must not fork.
    with tempfile.TemporaryDirectory(prefix="kenmap-pdf-") as folder:
        job = Path(folder) / "part.pickle"
        job.write_bytes(pickle.dumps(sys.path) + pickle.dumps((draw, items[half:], args)))
        try:
            child = subprocess.Popen([sys.executable, "-c", _CHILD, str(job)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        except OSError:  # no Python to start (an embedded interpreter): all of it here
            return draw(items, *args)
        with child:
            try:
                first = draw(items[:half], *args)
                rest = child.stdout.read() if child.stdout else b""
                child.wait()
            except BaseException:
                child.kill()
                raise
    if child.returncode != 0:  # the second Python failed (its error is on stderr): draw here
        rest = draw(items[half:], *args)
    try:
        return join_pdfs([first, rest])
    except ValueError:  # a matplotlib that writes PDFs otherwise than this one does
        return draw(items, *args)


#: The second Python: the caller's import path, then the function, its items and arguments,
#: in the file named by its argument; the PDF on stdout, where nothing else may be printed.
_CHILD = ("import pickle, sys; out, sys.stdout = sys.stdout.buffer, sys.stderr; "
          "job = open(sys.argv[1], 'rb'); sys.path[:] = pickle.load(job); "
          "draw, items, args = pickle.load(job); out.write(draw(items, *args))")


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
