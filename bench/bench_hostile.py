"""Hostile-input benchmark: attacks replayed against a real ``kenmap serve`` process.

Every server is the console script on the demo city at 127.0.0.1 with a token file, watched by
a memory watchdog that samples the VmRSS of the server and its child processes every 0.2 s;
past ``--ceiling-mb`` (default 4096) the server is killed and the run fails. The main server is
started with ``--max-upload-mb 5``.

(a) POST /api/siting without the token (401); with the token but far past the limits (4xx
    within 1 s); four at once of the largest question allowed (k=50, candidate_grid=100,
    radius 2000, time_limit 60): each 200/413/429/503, the server alive, memory under the
    ceiling.
(b) A zip bomb: one entry of 1 GiB of spaces (deflated to ~1 MB) whose local and central
    headers are patched to declare 1,000,000 bytes, uploaded to /api/imports/areas (4xx).
(c) A ~100 KB GeoPackage whose feature layer is an endless ``WITH RECURSIVE`` view, uploaded
    to /api/imports/areas: 4xx within 10 s.
(d) A chunked upload (no Content-Length) of 20 MB to /api/imports/hubs: 413, and no
    ``kenmap-upload-*`` folder left in the temporary directory.
(e) A hub CSV of 2,000,000 rows (~45 MB) to /api/imports/hubs: 413, then GET /api/hubs within
    2 s. On the main server the size limit answers; (e2) sends it again to a second server with
    the default upload limit, so the row limit must answer.
(g) ``Host: evil.example`` (400); the raw token without ``Bearer`` and a wrong bearer token
    (401).
(h) SIGTERM while the largest siting question runs, on a fresh server: the server and every
    child gone within 10 s. (h2) SIGTERM to the main server after all the attacks above.

(f), area names with markup, is covered by the browser tests and not repeated here. Prints
expected, got, time and peak memory per attack with PASS/FAIL; exits 1 if any attack failed.
Uploads go through a raw socket, so a server that answers before reading the whole body is
seen answering, not as a reset connection.

    python bench/bench_hostile.py [--ceiling-mb 4096] [--only abcdegh]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from processes import proc_stat, process_tree, rss_bytes

from kenmap.demo import build_demo_workspace

KENMAP = Path(sys.executable).with_name("kenmap")
BIG_SITING = {"hub_type": "ibasho", "k": 50, "candidate_grid": 100, "radius": 2000,
              "time_limit": 60}
#: Within every limit (4,292 candidates at a 400 m grid): a job that really runs long.
LONG_SITING = {"hub_type": "ibasho", "k": 50, "candidate_grid": 400, "radius": 2000,
               "solver": "exact", "time_limit": 60}
HUGE_SITING = {"hub_type": "ibasho", "k": 200, "candidate_grid": 100, "radius": 2000,
               "solver": "exact", "time_limit": 300}
AREAS_IMPORT = "/api/imports/areas?layer=tonarikinjo&code_field=code&name_field=name"
HUBS_IMPORT = "/api/imports/hubs?type=salon&name_field=name&lon_field=lon&lat_field=lat"
MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- processes and memory ----------------------------------------------------------------------
def start_time(pid: int) -> str | None:
    """When the process started (clock ticks since boot): tells a reused pid apart."""
    fields = proc_stat(pid)
    return None if fields is None or fields[0] == "Z" else fields[19]


def pid_alive(pid: int) -> bool:
    return start_time(pid) is not None


class Watchdog(threading.Thread):
    """Samples the RSS of a server and its descendants every 0.2 s; kills them all past the
    ceiling. Remembers every process it has seen, so leftovers can be found after a stop."""

    def __init__(self, pid: int, ceiling: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.ceiling = pid, ceiling
        self.peak = self.window_peak = self.last = 0
        self.exceeded = False
        self.seen: dict[int, str] = {}
        self._halt = threading.Event()

    def mark(self) -> None:
        self.window_peak = self.last

    def current(self) -> int:
        """The RSS of the server and its children now (a sample of its own)."""
        return sum(rss_bytes(p) for p in process_tree(self.pid))

    def run(self) -> None:
        while not self._halt.is_set():
            pids = process_tree(self.pid)
            for pid in pids:
                if pid not in self.seen and (started := start_time(pid)) is not None:
                    self.seen[pid] = started
            total = sum(rss_bytes(p) for p in pids)
            self.last = total
            self.peak = max(self.peak, total)
            self.window_peak = max(self.window_peak, total)
            if total > self.ceiling and not self.exceeded:
                self.exceeded = True
                print(f"    WATCHDOG: {total / MiB:,.0f} MiB > ceiling "
                      f"{self.ceiling / MiB:,.0f} MiB; killing the server", flush=True)
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            self._halt.wait(0.2)

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout=5)


class Server:
    """``kenmap serve`` on loopback with a token file and a watchdog; always stopped."""

    def __init__(self, workspace: Path, tmp: Path, name: str, ceiling: int,
                 extra: list[str] | None = None) -> None:
        self.token = secrets.token_hex(24)
        token_file = tmp / f"token-{name}"
        token_file.write_text(self.token + "\n", encoding="utf-8")
        token_file.chmod(0o600)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"serve-{name}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(KENMAP), "serve", str(workspace), "--host", "127.0.0.1", "--port",
                 str(self.port), "--token-file", str(token_file), *(extra or [])],
                stdout=log, stderr=subprocess.STDOUT)
        self.watchdog = Watchdog(self.process.pid, ceiling)
        self.watchdog.start()
        self.client = httpx.Client(base_url=self.base, timeout=30, trust_env=False)
        for _ in range(600):
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"kenmap serve exited {self.process.returncode}:\n"
                                   f"{self.log()}")
            try:
                self.client.get("/healthz", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("kenmap serve did not answer /healthz within 120 s")

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def alive(self) -> bool:
        if self.process.poll() is not None:
            return False
        try:
            return self.client.get("/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.watchdog.stop()
        for pid, started in self.watchdog.seen.items():  # children left behind
            if pid != self.process.pid and start_time(pid) == started:
                print(f"    (server {self.port}: child {pid} outlived the server; killed)")
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


# -- raw HTTP, for uploads -----------------------------------------------------------------------
@dataclass
class RawAnswer:
    status: int  # 0: no answer
    headers: dict[str, str]
    body: bytes
    sent: int
    note: str


def raw_request(port: int, head: str, body: Iterable[bytes], timeout: float = 60.0
                ) -> RawAnswer:
    """Send ``head`` and then ``body`` piece by piece, stopping as soon as the server answers
    (or closes); then read the answer. The body pieces go out as they are given."""
    sent = 0
    note = "body sent in full"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        try:
            for piece in body:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    note = f"server answered after {sent:,} body bytes"
                    break
                sock.sendall(piece)
                sent += len(piece)
        except OSError as exc:
            note = f"send stopped after {sent:,} body bytes: {type(exc).__name__}"
        data = b""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                header_end = data.find(b"\r\n\r\n")
                if header_end >= 0:
                    headers = _headers(data[:header_end])
                    length = int(headers.get("content-length", "-1"))
                    if length >= 0 and len(data) >= header_end + 4 + length:
                        break
        except OSError as exc:
            note += f"; reading: {type(exc).__name__}"
    header_end = data.find(b"\r\n\r\n")
    if header_end < 0:
        return RawAnswer(0, {}, data, sent, note + "; no HTTP answer")
    status_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    return RawAnswer(int(status_line.split()[1]), _headers(data[:header_end]),
                     data[header_end + 4:], sent, note)


def _headers(block: bytes) -> dict[str, str]:
    lines = block.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}


def multipart_pieces(boundary: str, filename: str, content_type: str,
                     parts: Iterable[bytes]) -> Iterator[bytes]:
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").encode()
    yield from parts
    yield f"\r\n--{boundary}--\r\n".encode()


def file_pieces(path: Path, size: int = 256 * 1024) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while piece := fh.read(size):
            yield piece


def upload(server: Server, url: str, path: Path, content_type: str,
           timeout: float = 60.0) -> RawAnswer:
    """A multipart upload of ``path`` with a Content-Length, through a raw socket."""
    boundary = secrets.token_hex(12)
    framing = sum(len(p) for p in multipart_pieces(boundary, path.name, content_type, []))
    head = (f"POST {url} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Bearer {server.token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {framing + path.stat().st_size}\r\nConnection: close\r\n\r\n")
    return raw_request(server.port, head, multipart_pieces(boundary, path.name, content_type,
                                                           file_pieces(path)), timeout)


def chunked_upload(server: Server, url: str, filename: str, total: int,
                   timeout: float = 60.0) -> RawAnswer:
    """A multipart upload of ``total`` bytes of CSV rows, chunked: no Content-Length."""
    boundary = secrets.token_hex(12)
    row = b"salon,chunked hub,134.8,35.5\n"
    block = b"type,name,lon,lat\n" + row * (64 * 1024 // len(row))

    def rows() -> Iterator[bytes]:
        for _ in range(total // len(block) + 1):
            yield block

    def chunked() -> Iterator[bytes]:
        for piece in multipart_pieces(boundary, filename, "text/csv", rows()):
            yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        yield b"0\r\n\r\n"

    head = (f"POST {url} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Bearer {server.token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    return raw_request(server.port, head, chunked(), timeout)


# -- hostile files -------------------------------------------------------------------------------
def zip_bomb(path: Path, inflated: int = 1024**3, declared: int = 1_000_000) -> str:
    """One entry of ``inflated`` spaces, its headers patched to declare ``declared`` bytes."""
    chunk = b" " * MiB
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("areas.geojson", "w", force_zip64=True) as entry:
            for _ in range(inflated // MiB):
                entry.write(chunk)
    data = bytearray(path.read_bytes())
    assert data[:4] == b"PK\x03\x04"
    name_len, extra_len = struct.unpack_from("<HH", data, 26)
    extra = 30 + name_len
    patched_local = False
    at = extra
    while at < extra + extra_len:  # the zip64 extra field: uncompressed, compressed size
        tag, size = struct.unpack_from("<HH", data, at)
        if tag == 0x0001:
            struct.pack_into("<Q", data, at + 4, declared)
            patched_local = True
        at += 4 + size
    if struct.unpack_from("<I", data, 22)[0] != 0xFFFFFFFF:
        struct.pack_into("<I", data, 22, declared)
        patched_local = True
    central = data.rfind(b"PK\x01\x02")
    if struct.unpack_from("<I", data, central + 24)[0] == 0xFFFFFFFF:
        raise RuntimeError("central directory holds a zip64 size; not handled")
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
    if not patched_local or info.file_size != declared:
        raise RuntimeError(f"zip bomb not patched (declares {info.file_size:,})")
    return (f"{path.stat().st_size / MiB:.2f} MiB, declares {info.file_size:,} bytes, "
            f"inflates to {inflated:,}")


def recursive_view_gpkg(path: Path) -> str:
    """A ~100 KB GeoPackage whose only feature layer is an endless recursive view."""
    ring = [(134.80, 35.50), (134.81, 35.50), (134.81, 35.51), (134.80, 35.51), (134.80, 35.50)]
    wkb = struct.pack("<BIII", 1, 3, 1, len(ring)) + b"".join(struct.pack("<dd", *p)
                                                               for p in ring)
    geom = b"GP" + bytes([0, 1]) + struct.pack("<i", 4326) + wkb
    from pyproj import CRS

    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript("""
            PRAGMA application_id = 1196444487;
            PRAGMA user_version = 10300;
            CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL,
                srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
                organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
                description TEXT);
            INSERT INTO gpkg_spatial_ref_sys VALUES
                ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL),
                ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL);
            CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,
                data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',
                last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
                min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
            CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL,
                column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
                srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
                CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));
            CREATE TABLE padding (b BLOB);
            INSERT INTO padding VALUES (zeroblob(80000));
        """)
        con.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84', 4326, 'EPSG', 4326, "
                    "?, NULL)", (CRS(4326).to_wkt("WKT1_GDAL"),))
        con.execute(  # an endless recursive CTE: every read of the layer runs forever
            "CREATE VIEW areas AS WITH RECURSIVE r(fid, geom, code, name) AS "
            f"(SELECT 1, X'{geom.hex()}', 'c1', 'n' UNION ALL "
            "SELECT fid + 1, geom, 'c' || (fid + 1), name FROM r) "
            "SELECT fid, geom, code, name FROM r")
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, "
                    "min_y, max_x, max_y, srs_id) VALUES ('areas', 'features', 'areas', "
                    "134.8, 35.5, 134.81, 35.51, 4326)")
        con.execute("INSERT INTO gpkg_geometry_columns VALUES ('areas', 'geom', 'POLYGON', "
                    "4326, 0, 0)")
        con.commit()
    finally:
        con.close()
    import pyogrio

    layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    return f"{path.stat().st_size / 1024:.0f} KB; GDAL lists layers {layers}"


def big_hub_csv(path: Path, rows: int) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("type,name,lon,lat\n")
        block = 100_000
        for start in range(0, rows, block):
            fh.write("".join(f"salon,h{i},134.8,35.5\n"
                             for i in range(start, min(rows, start + block))))
    return f"{rows:,} rows, {path.stat().st_size / MiB:.1f} MiB"


# -- the attacks ---------------------------------------------------------------------------------
@dataclass
class Outcome:
    expected: str
    got: str
    ok: bool


def show(response: httpx.Response | RawAnswer) -> str:
    if isinstance(response, RawAnswer):
        status, body, headers = response.status, response.body, response.headers
    else:
        status, body, headers = response.status_code, response.content, dict(response.headers)
    text = body[:160].decode("utf-8", "replace")
    try:
        text = str(json.loads(body).get("error", text))[:160]
    except (ValueError, AttributeError):
        pass
    retry = f" Retry-After {headers['retry-after']}" if "retry-after" in headers else ""
    return f"{status}{retry} {text!r}" if status else f"no answer {text!r}"


def attack_no_token(server: Server) -> Outcome:
    r = server.client.post("/api/siting", json=BIG_SITING)
    return Outcome("401", show(r), r.status_code == 401)


def attack_huge_siting(server: Server) -> Outcome:
    start = time.perf_counter()
    r = server.client.post("/api/siting", json=HUGE_SITING, headers=server.auth)
    took = time.perf_counter() - start
    return Outcome("4xx within 1 s", f"{show(r)} in {took:.2f} s",
                   400 <= r.status_code < 500 and took < 1.0)


def attack_long(server: Server) -> Outcome:
    start = time.perf_counter()
    r = httpx.post(server.base + "/api/siting", json=LONG_SITING, headers=server.auth,
                   timeout=300, trust_env=False)
    took = time.perf_counter() - start
    alive = server.alive()
    return Outcome("200/413/429/503; server alive", f"{show(r)} in {took:.1f} s; server "
                   f"{'alive' if alive else 'DEAD'}",
                   r.status_code in (200, 413, 429, 503) and alive)


def attack_four_big(server: Server) -> Outcome:
    def one(_: int) -> tuple[int, str, float]:
        start = time.perf_counter()
        try:
            r = httpx.post(server.base + "/api/siting", json=BIG_SITING, headers=server.auth,
                           timeout=300, trust_env=False)
            return r.status_code, show(r), time.perf_counter() - start
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}", time.perf_counter() - start

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    alive = server.alive()
    got = "; ".join(f"{text[:110]} ({took:.1f} s)" for _, text, took in results)
    ok = all(status in (200, 413, 429, 503) for status, _, _ in results) and alive
    return Outcome("each 200/413/429/503; server alive",
                   f"{got}; server {'alive' if alive else 'DEAD'}", ok)


def attack_zip_bomb(server: Server, path: Path) -> Outcome:
    start = time.perf_counter()
    answer = upload(server, AREAS_IMPORT, path, "application/zip")
    took = time.perf_counter() - start
    alive = server.alive()
    return Outcome("4xx; server alive", f"{show(answer)} in {took:.2f} s; server "
                   f"{'alive' if alive else 'DEAD'}",
                   400 <= answer.status < 500 and alive)


def attack_view_gpkg(server: Server, path: Path) -> Outcome:
    start = time.perf_counter()
    answer = upload(server, AREAS_IMPORT, path, "application/geopackage+sqlite3",
                    timeout=15)
    took = time.perf_counter() - start
    alive = server.alive()
    return Outcome("4xx within 10 s", f"{show(answer)} after {took:.2f} s; server "
                   f"{'alive' if alive else 'DEAD'}",
                   400 <= answer.status < 500 and took < 10 and alive)


def upload_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("kenmap-upload-*")}


def attack_chunked(server: Server) -> Outcome:
    before = upload_folders()
    start = time.perf_counter()
    answer = chunked_upload(server, HUBS_IMPORT, "chunked.csv", 20 * MiB)
    took = time.perf_counter() - start
    time.sleep(0.5)
    left = upload_folders() - before
    return Outcome("413; no kenmap-upload-* left",
                   f"{show(answer)} in {took:.2f} s ({answer.note}); "
                   f"{len(left)} new upload folders{' ' + str(sorted(left)) if left else ''}",
                   answer.status == 413 and not left)


def attack_rows(server: Server, csv: Path) -> Outcome:
    start = time.perf_counter()
    answer = upload(server, HUBS_IMPORT, csv, "text/csv", timeout=120)
    took = time.perf_counter() - start
    start = time.perf_counter()
    try:
        hubs = server.client.get("/api/hubs", timeout=30)
        after = f"GET /api/hubs {hubs.status_code} in {time.perf_counter() - start:.2f} s"
        quick = hubs.status_code == 200 and time.perf_counter() - start < 2.0
    except httpx.HTTPError as exc:
        after, quick = f"GET /api/hubs failed: {type(exc).__name__}", False
    return Outcome("413; GET /api/hubs 200 within 2 s",
                   f"{show(answer)} in {took:.2f} s ({answer.note}); {after}",
                   answer.status == 413 and quick)


def attack_host(server: Server) -> Outcome:
    r = server.client.get("/api/layers", headers={"Host": "evil.example"})
    return Outcome("400", show(r), r.status_code == 400)


def attack_raw_token(server: Server) -> Outcome:
    hub = {"type": "salon", "name": "intruder", "lon": 134.8, "lat": 35.5}
    raw = server.client.post("/api/hubs", json=hub, headers={"Authorization": server.token})
    wrong = server.client.post("/api/hubs", json=hub,
                               headers={"Authorization": "Bearer " + secrets.token_hex(24)})
    return Outcome("401 and 401", f"raw token: {show(raw)}; wrong bearer: {show(wrong)}",
                   raw.status_code == 401 and wrong.status_code == 401)


def attack_sigterm(server: Server, question: dict[str, Any] | None) -> Outcome:
    result: dict[str, str] = {}
    worker = None
    with_siting = question is not None
    if with_siting:
        def ask() -> None:
            try:
                r = httpx.post(server.base + "/api/siting", json=question,
                               headers=server.auth, timeout=300, trust_env=False)
                result["siting"] = show(r)
            except httpx.HTTPError as exc:
                result["siting"] = f"{type(exc).__name__}"

        worker = threading.Thread(target=ask, daemon=True)
        worker.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(process_tree(server.process.pid)) < 2:
            time.sleep(0.1)
        time.sleep(2.0)  # the job well under way
    tree = process_tree(server.process.pid)
    running = "siting still running" if with_siting and worker and worker.is_alive() \
        else "no siting running"
    start = time.perf_counter()
    server.process.send_signal(signal.SIGTERM)
    gone_at = None
    while time.perf_counter() - start < 20:
        if not any(pid_alive(pid) for pid in tree):
            gone_at = time.perf_counter() - start
            break
        time.sleep(0.05)
    left = [pid for pid in tree if pid_alive(pid)]
    server.process.poll()
    if worker is not None:
        worker.join(timeout=10)
    answer = f"; the siting request got {result.get('siting', 'nothing yet')}" \
        if with_siting else ""
    got = (f"all {len(tree)} processes gone in {gone_at:.2f} s" if gone_at is not None else
           f"{len(left)} of {len(tree)} processes still alive after 20 s") + \
        f" (exit {server.process.returncode}; {running} at SIGTERM){answer}"
    return Outcome("gone within 10 s", got, gone_at is not None and gone_at < 10)


# -- the run ---------------------------------------------------------------------------------------
@dataclass
class Row:
    key: str
    what: str
    outcome: Outcome
    seconds: float
    peak: int
    watchdog: bool


def run(rows: list[Row], server: Server, key: str, what: str,
        attack: Callable[[], Outcome]) -> None:
    server.watchdog.mark()
    start = time.perf_counter()
    try:
        outcome = attack()
    except Exception as exc:  # noqa: BLE001 - an attack that breaks is a FAIL, then go on
        traceback.print_exc(file=sys.stdout)
        outcome = Outcome("-", f"raised {type(exc).__name__}: {str(exc)[:200]}", False)
    seconds = time.perf_counter() - start
    peak = max(server.watchdog.window_peak, server.watchdog.current())
    exceeded = server.watchdog.exceeded
    if exceeded:
        outcome.ok = False
    rows.append(Row(key, what, outcome, seconds, peak, exceeded))
    print(f"({key}) {what}\n      expected {outcome.expected}\n      got      {outcome.got}\n"
          f"      time {seconds:.2f} s, peak memory {peak / MiB:,.0f} MiB"
          f"{' (CEILING EXCEEDED)' if exceeded else ''}  "
          f"{'PASS' if outcome.ok else 'FAIL'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ceiling-mb", type=int, default=4096,
                        help="memory ceiling of a server and its children (MiB)")
    parser.add_argument("--only", default="abcdegh", help="which attacks to run")
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows of the CSV in (e)")
    args = parser.parse_args()
    if not KENMAP.exists():
        sys.exit(f"bench_hostile needs the kenmap console script at {KENMAP}")
    ceiling = args.ceiling_mb * MiB
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        start = time.perf_counter()
        ws = build_demo_workspace(tmp / "demo.gpkg").path
        print(f"demo city built in {time.perf_counter() - start:.1f} s; memory ceiling "
              f"{args.ceiling_mb:,} MiB; temp dir {tempfile.gettempdir()}", flush=True)
        bomb, gpkg, csv = tmp / "bomb.zip", tmp / "endless.gpkg", tmp / "hubs-2m.csv"
        for key, what, make in (("b", "zip bomb", lambda: zip_bomb(bomb)),
                                ("c", "GeoPackage", lambda: recursive_view_gpkg(gpkg)),
                                ("e", "hub CSV", lambda: big_hub_csv(csv, args.rows))):
            if key in args.only:
                start = time.perf_counter()
                made = make()
                print(f"    ({key}) {what} built in {time.perf_counter() - start:.1f} s: "
                      f"{made}", flush=True)
        main_server = Server(ws, tmp, "main", ceiling, ["--max-upload-mb", "5"])
        try:
            main_server.client.get("/api/hubs").raise_for_status()  # cached before (e)
            if "a" in args.only:
                run(rows, main_server, "a1", "POST /api/siting without the token",
                    lambda: attack_no_token(main_server))
                run(rows, main_server, "a2", "POST /api/siting k=200, exact, time_limit 300",
                    lambda: attack_huge_siting(main_server))
                run(rows, main_server, "a3", "4 × POST /api/siting k=50, grid 100, radius "
                    "2000, time_limit 60, at once", lambda: attack_four_big(main_server))
                run(rows, main_server, "a4", "POST /api/siting k=50, grid 400 (under the "
                    "candidate limit), radius 2000, exact, time_limit 60",
                    lambda: attack_long(main_server))
            if "b" in args.only:
                run(rows, main_server, "b", "zip bomb (declares 1 MB, inflates to 1 GiB) to "
                    "/api/imports/areas", lambda: attack_zip_bomb(main_server, bomb))
            if "c" in args.only:
                run(rows, main_server, "c", "GeoPackage with an endless WITH RECURSIVE view "
                    "to /api/imports/areas", lambda: attack_view_gpkg(main_server, gpkg))
            if "d" in args.only:
                run(rows, main_server, "d", "chunked 20 MB upload, no Content-Length "
                    "(--max-upload-mb 5)", lambda: attack_chunked(main_server))
            if "e" in args.only:
                run(rows, main_server, "e", f"{args.rows:,}-row hub CSV (--max-upload-mb 5)",
                    lambda: attack_rows(main_server, csv))
            if "g" in args.only:
                run(rows, main_server, "g1", "Host: evil.example",
                    lambda: attack_host(main_server))
                run(rows, main_server, "g2", "token without 'Bearer'; a wrong bearer token",
                    lambda: attack_raw_token(main_server))
            if "h" in args.only:
                run(rows, main_server, "h2", "SIGTERM to the main server after the attacks",
                    lambda: attack_sigterm(main_server, None))
        finally:
            main_server.stop()
            main_log = main_server.log()
        if "e" in args.only:
            second = Server(ws, tmp, "default-limit", ceiling)
            try:
                second.client.get("/api/hubs").raise_for_status()
                run(rows, second, "e2", f"{args.rows:,}-row hub CSV (default upload limit: "
                    "the row limit must answer)", lambda: attack_rows(second, csv))
            finally:
                second.stop()
        if "h" in args.only:
            for key, question, what in (
                    ("h", BIG_SITING, "k=50, grid 100, radius 2000, time_limit 60"),
                    ("h3", LONG_SITING, "k=50, grid 400, radius 2000, exact (a long job)")):
                fresh = Server(ws, tmp, f"sigterm-{key}", ceiling)
                try:
                    run(rows, fresh, key, f"SIGTERM while a siting runs: {what}; fresh server",
                        lambda: attack_sigterm(fresh, question))  # noqa: B023 - run at once
                finally:
                    fresh.stop()
    failed = [r for r in rows if not r.outcome.ok]
    print("\nsummary:")
    for r in rows:
        print(f"  ({r.key:<2}) {'PASS' if r.outcome.ok else 'FAIL'}  {r.seconds:7.2f} s  "
              f"peak {r.peak / MiB:6,.0f} MiB  {r.what}")
    print(f"{len(rows) - len(failed)} of {len(rows)} attacks passed")
    if failed:
        print(f"main server log (tail):\n{main_log}")
        sys.exit(1)


if __name__ == "__main__":
    main()
