"""Mixed-load benchmark: 50 concurrent API clients against ``kenmap serve`` for a fixed time.

Starts ``kenmap serve`` on the demo city at 127.0.0.1 with a token file and drives it with
``--clients`` asyncio clients (one ``httpx.AsyncClient``, keep-alive, one connection per
client) for ``--seconds``. Each client loops over a random mix, pausing between requests
for a uniform random time of mean ``--think`` seconds (default 0.5 s: fifty planners each
sending about two requests a second, far busier than people at a map; ``--think 0`` sends the
next request at once, which saturates a small machine, where this client alone needs most of
a core — its latencies then measure the queue, Little's law, not the server):

* 60 % reads, spread evenly over six kinds: ``/api/layers``, a layer's areas, gaps without a
  radius, gaps with ``radius=500``, ``/api/coverage``, ``/api/hubs`` (and an area's profile);
* 30 % edits: PATCH of the client's own hub (rename and a small move) with the version from
  its last answer; one edit in ten POSTs a new hub instead;
* 10 % heavy: ``POST /api/siting`` k=3 radius 500 with the token; 200, or 429 with a
  Retry-After header (429 is not an error).

Errors are any 5xx, connection error or timeout, and any 4xx not expected above (a 409 on a
client's own hub is one). Afterwards every client's hub must carry exactly the version and
name of the client's last acknowledged edit, and every POSTed hub must exist (lost updates).
The server's memory (VmRSS of it and its child processes) is sampled every 0.2 s.

Targets: p95 reads < 200 ms, p95 edits < 500 ms, 0 errors, 0 lost updates. The client runs
in this process on the same machine, so its CPU use is printed too. Exits 1 only on lost
updates or when the server dies; a missed latency target is reported, not fatal.

    python bench/bench_load.py [--seconds 30] [--clients 50] [--seed 1] [--mix 60,30,10]
                               [--think 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from processes import process_tree, rss_bytes, stop, wait_ready

from kenmap.demo import build_demo_workspace

KENMAP = Path(sys.executable).with_name("kenmap")
LAYERS = ["shi", "kyushicho", "chiku", "gyoseiku", "tonarikinjo"]
GAP_TYPES = ["salon", "ibasho", "kominkan"]
SITING = {"hub_type": "salon", "k": 3, "radius": 500}
REQUEST_TIMEOUT_S = 60.0
TARGET_READ_P95_S = 0.200
TARGET_EDIT_P95_S = 0.500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# -- memory of the server and its children ---------------------------------------------------
class MemorySampler(threading.Thread):
    """Samples the VmRSS of a process and its descendants every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_total = self.peak_server = 0
        self.peak_processes = 1
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = process_tree(self.pid)
            sizes = [rss_bytes(p) for p in pids]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_server = max(self.peak_server, sizes[0])
            self.peak_processes = max(self.peak_processes, len(pids))
            self.samples += 1
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[-1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


# -- the clients -------------------------------------------------------------------------------
@dataclass
class Record:
    kind: str  # read / edit / heavy
    label: str
    status: int  # 0: no answer (connection error or timeout)
    seconds: float
    error: str | None = None
    stale: bool = False  # answered with the previous figures (X-Kenmap-Stale: 1)


@dataclass
class ClientState:
    index: int
    hub_id: int
    version: int
    name: str
    home: tuple[float, float]
    edits: int = 0
    resyncs: int = 0
    posted: list[int] = field(default_factory=list)


@dataclass
class Shared:
    auth: dict[str, str]
    reads: dict[str, list[str]]
    records: list[Record] = field(default_factory=list)


def error_text(method: str, url: str, response: httpx.Response | None,
               exc: BaseException | None) -> str:
    if exc is not None:
        return f"{method} {url}: {type(exc).__name__}: {str(exc)[:120]}"
    assert response is not None
    return f"{method} {url} -> {response.status_code}: {response.text[:200]!r}"


async def timed(client: httpx.AsyncClient, method: str, url: str, **kw: Any
                ) -> tuple[float, httpx.Response | None, BaseException | None]:
    start = time.perf_counter()
    try:
        response = await client.request(method, url, **kw)
        return time.perf_counter() - start, response, None
    except httpx.HTTPError as exc:
        return time.perf_counter() - start, None, exc


async def do_read(client: httpx.AsyncClient, shared: Shared, rng: random.Random) -> None:
    label = rng.choice(sorted(shared.reads))
    url = rng.choice(shared.reads[label])
    seconds, response, exc = await timed(client, "GET", url)
    ok = response is not None and response.status_code == 200
    shared.records.append(Record("read", label, response.status_code if response else 0,
                                 seconds, None if ok else
                                 error_text("GET", url, response, exc),
                                 bool(response is not None and
                                      response.headers.get("x-kenmap-stale"))))


async def resync(client: httpx.AsyncClient, state: ClientState) -> None:
    """After an edit with an unknown outcome: take the hub's version from the server."""
    state.resyncs += 1
    response = await client.get("/api/hubs", timeout=REQUEST_TIMEOUT_S,
                                headers={"Cache-Control": "no-cache"})
    for feature in response.json()["features"]:
        props = feature["properties"]
        if int(props["id"]) == state.hub_id:
            state.version, state.name = int(props["version"]), str(props["name"])


async def do_edit(client: httpx.AsyncClient, shared: Shared, state: ClientState,
                  rng: random.Random) -> None:
    state.edits += 1
    lon = state.home[0] + rng.uniform(-0.001, 0.001)
    lat = state.home[1] + rng.uniform(-0.001, 0.001)
    if rng.random() < 0.1:
        name = f"load client {state.index} new {state.edits}"
        url = "/api/hubs"
        seconds, response, exc = await timed(client, "POST", url, headers=shared.auth, json={
            "type": "salon", "name": name, "lon": lon, "lat": lat, "status": "planned"})
        ok = response is not None and response.status_code == 201
        if ok:
            assert response is not None
            state.posted.append(int(response.json()["id"]))
        shared.records.append(Record("edit", "POST hub", response.status_code if response
                                     else 0, seconds, None if ok else
                                     error_text("POST", url, response, exc)))
        return
    name = f"load client {state.index} edit {state.edits}"
    url = f"/api/hubs/{state.hub_id}"
    seconds, response, exc = await timed(client, "PATCH", url, headers=shared.auth, json={
        "version": state.version, "name": name, "lon": lon, "lat": lat})
    problem = None
    if response is not None and response.status_code == 200:
        got = int(response.json()["version"])
        if got != state.version + 1:
            problem = f"PATCH {url}: version {state.version} -> {got}, expected +1"
        state.version, state.name = got, name
    else:
        problem = error_text("PATCH", url, response, exc)
    shared.records.append(Record("edit", "PATCH hub", response.status_code if response else 0,
                                 seconds, problem))
    if problem and (response is None or response.status_code != 200):
        try:
            await resync(client, state)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            shared.records.append(Record("resync", "resync", 0, 0.0,
                                         f"resync of hub {state.hub_id}: {exc!r}"[:200]))


async def do_heavy(client: httpx.AsyncClient, shared: Shared) -> None:
    url = "/api/siting"
    seconds, response, exc = await timed(client, "POST", url, headers=shared.auth, json=SITING)
    problem = None
    if response is None or response.status_code not in (200, 429):
        problem = error_text("POST", url, response, exc)
    elif response.status_code == 429 and not response.headers.get("retry-after"):
        problem = f"POST {url} -> 429 without Retry-After"
    shared.records.append(Record("heavy", "siting", response.status_code if response else 0,
                                 seconds, problem))


async def run_client(client: httpx.AsyncClient, shared: Shared, state: ClientState,
                     deadline: float, seed: int, mix: tuple[float, float, float],
                     think: float) -> None:
    rng = random.Random(seed * 1000 + state.index)
    while time.perf_counter() < deadline:
        if think > 0:
            await asyncio.sleep(rng.uniform(0, 2 * think))
        draw = rng.random() * sum(mix)
        if draw < mix[0]:
            await do_read(client, shared, rng)
        elif draw < mix[0] + mix[1]:
            await do_edit(client, shared, state, rng)
        else:
            await do_heavy(client, shared)


async def drive(base: str, args: argparse.Namespace, auth: dict[str, str]
                ) -> tuple[Shared, list[ClientState], dict[str, Any], float]:
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S, limits=limits,
                                 trust_env=False) as client:
        hubs = (await client.get("/api/hubs", headers={"Cache-Control": "no-cache"})
                ).json()["features"]
        codes = [f["properties"]["code"] for f in
                 (await client.get("/api/layers/gyoseiku/areas")).json()["features"]]
        if len(hubs) < args.clients:
            raise RuntimeError(f"only {len(hubs)} hubs for {args.clients} clients")
        step = len(hubs) // args.clients
        states = []
        for i in range(args.clients):
            props = hubs[i * step]["properties"]
            states.append(ClientState(i, int(props["id"]), int(props["version"]),
                                      str(props["name"]), (float(props["lon"]),
                                                           float(props["lat"]))))
        rng = random.Random(args.seed)
        reads = {
            "layers": ["/api/layers"],
            "areas": [f"/api/layers/{layer}/areas" for layer in LAYERS],
            "gaps": [f"/api/gaps?layer={layer}&hub_type={t}" for layer in LAYERS[1:]
                     for t in GAP_TYPES],
            "gaps r500": [f"/api/gaps?layer={layer}&hub_type={t}&radius=500"
                          for layer in LAYERS[1:] for t in GAP_TYPES],
            "coverage": ["/api/coverage"],
            "hubs": ["/api/hubs", "/api/hubs?type=salon", "/api/hubs?status=existing"],
            "area profile": [f"/api/areas/gyoseiku/{c}" for c in rng.sample(codes, 20)],
        }
        shared = Shared(auth, reads)
        start = time.perf_counter()  # warm every read once: the first computes and caches
        for urls in reads.values():
            for url in urls:
                (await client.get(url)).raise_for_status()
        warm = time.perf_counter() - start
        deadline = time.perf_counter() + args.seconds
        await asyncio.gather(*(run_client(client, shared, s, deadline, args.seed, args.mix,
                                          args.think)
                               for s in states))
        final = (await client.get("/api/hubs", timeout=120, headers={"Cache-Control": "no-cache"})
                 ).json()["features"]
    by_id = {int(f["properties"]["id"]): f["properties"] for f in final}
    return shared, states, by_id, warm


# -- the report --------------------------------------------------------------------------------
def summary(records: list[Record], wall: float) -> str:
    times = np.array([r.seconds for r in records]) * 1000
    if len(times) == 0:
        return "count      0"
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    errors = sum(1 for r in records if r.error)
    return (f"count {len(records):6,} ({len(records) / wall:6.1f}/s)  p50 {p50:7.1f} ms  "
            f"p95 {p95:7.1f} ms  p99 {p99:7.1f} ms  max {times.max():7.1f} ms  "
            f"errors {errors}")


def p95(records: list[Record]) -> float:
    return float(np.percentile([r.seconds for r in records], 95)) if records else float("nan")


def check_lost(states: list[ClientState], by_id: dict[int, dict[str, Any]]) -> list[str]:
    lost = []
    for s in states:
        props = by_id.get(s.hub_id)
        if props is None:
            lost.append(f"client {s.index}: hub {s.hub_id} is gone")
        elif int(props["version"]) != s.version or props["name"] != s.name:
            lost.append(f"client {s.index}: hub {s.hub_id} has version {props['version']} "
                        f"name {props['name']!r}; last acknowledged version {s.version} "
                        f"name {s.name!r}")
        for hub_id in s.posted:
            if hub_id not in by_id:
                lost.append(f"client {s.index}: POSTed hub {hub_id} is missing")
    return lost


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of the load")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--think", type=float, default=0.5,
                        help="mean pause of a client between requests, seconds (uniform "
                             "0..2×; 0: every client sends its next request at once)")
    parser.add_argument("--log", type=Path, help="keep a copy of the server's log here")
    parser.add_argument("--mix", default="60,30,10",
                        help="percent reads,edits,heavy (the targets assume the default)")
    args = parser.parse_args()
    args.mix = tuple(float(x) for x in args.mix.split(","))
    if len(args.mix) != 3 or min(args.mix) < 0 or sum(args.mix) <= 0:
        parser.error("--mix takes three non-negative percentages, e.g. 60,30,10")
    if not KENMAP.exists():
        sys.exit(f"bench_load needs the kenmap console script at {KENMAP}")
    failed = False
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        start = time.perf_counter()
        ws = build_demo_workspace(tmp / "demo.gpkg").path
        print(f"demo city built in {time.perf_counter() - start:.1f} s")
        token = secrets.token_hex(24)
        token_file = tmp / "token"
        token_file.write_text(token + "\n", encoding="utf-8")
        token_file.chmod(0o600)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = tmp / "serve.log"
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [str(KENMAP), "serve", str(ws), "--host", "127.0.0.1", "--port", str(port),
                 "--token-file", str(token_file)], stdout=log, stderr=subprocess.STDOUT)
        sampler = MemorySampler(server.pid)
        try:
            wait_ready(server, base, log_path)
            sampler.start()
            cpu_client, cpu_server = time.process_time(), cpu_seconds(server.pid)
            wall_start = time.perf_counter()
            shared, states, by_id, warm = asyncio.run(
                drive(base, args, {"Authorization": f"Bearer {token}"}))
            wall = time.perf_counter() - wall_start - warm
            cpu_client = time.process_time() - cpu_client
            cpu_server = cpu_seconds(server.pid) - cpu_server
            sampler.stop()
            alive = server.poll() is None
        finally:
            sampler.stop()
            stop(server)
        records = shared.records
        mix = "/".join(f"{x:g}" for x in args.mix)
        print(f"{args.clients} clients for {args.seconds:.0f} s against {base}, mix "
              f"{mix} % reads/edits/heavy, mean pause {args.think:g} s "
              f"(warm-up of every read, not counted: {warm:.1f} s; {os.cpu_count()} cores "
              f"shared by server and client)")
        for kind in ("read", "edit", "heavy"):
            mine = [r for r in records if r.kind == kind]
            print(f"  {kind:<6} {summary(mine, args.seconds)}")
            for label in sorted({r.label for r in mine}):
                sub = [r for r in mine if r.label == label]
                statuses = ", ".join(f"{s}: {n}" for s, n in sorted(
                    {s: sum(1 for r in sub if r.status == s)
                     for s in {r.status for r in sub}}.items()))
                print(f"      {label:<13} {summary(sub, args.seconds)}  [{statuses}]")
        reads = [r for r in records if r.kind == "read"]
        if reads:
            stale = sum(r.stale for r in reads)
            print(f"  {stale:,} of {len(reads):,} reads ({stale / len(reads):.0%}) answered with "
                  "the previous figures while newer ones were computed (X-Kenmap-Stale)")
        errors = [r for r in records if r.error]
        for r in errors[:15]:
            print(f"    error: {r.error}")
        if len(errors) > 15:
            print(f"    … and {len(errors) - 15} more errors")
        if errors:
            print("  the server's log, error lines (count × line):")
            log_lines = log_path.read_text(errors="replace").splitlines()
            distinct: dict[str, int] = {}
            for text in log_lines:
                if text and "で公開しています" not in text and not text.startswith(
                        (" ", "Traceback", "Serving", "The above", "During handling")):
                    distinct[text[:200]] = distinct.get(text[:200], 0) + 1
            for text, n in list(distinct.items())[:20]:
                print(f"    {n:4d} × {text}")
        if args.log:
            shutil.copyfile(log_path, args.log)
        lost = check_lost(states, by_id)
        for text in lost[:15]:
            print(f"    lost: {text}")
        acked = sum(1 for r in records if r.label == "PATCH hub" and r.status == 200)
        posted = sum(len(s.posted) for s in states)
        resyncs = sum(s.resyncs for s in states)
        print(f"  verified {len(states)} hubs ({acked:,} acknowledged PATCHes) and {posted:,} "
              f"POSTed hubs against the final GET /api/hubs ({len(by_id):,} hubs); "
              f"{resyncs} resyncs after failed edits")
        print(f"  server peak RSS {sampler.peak_total / 2**20:,.0f} MiB with its children "
              f"(server process alone {sampler.peak_server / 2**20:,.0f} MiB; up to "
              f"{sampler.peak_processes} processes; {sampler.samples} samples every 0.2 s)")
        print(f"  CPU over the run: server process {cpu_server:.1f} s, this client "
              f"{cpu_client:.1f} s ({wall:.1f} s wall)")
        reads = [r for r in records if r.kind == "read"]
        edits = [r for r in records if r.kind == "edit"]
        print("targets:")
        for what, mine, target in (("reads", reads, TARGET_READ_P95_S),
                                   ("edits", edits, TARGET_EDIT_P95_S)):
            print(f"  p95 {what}  {p95(mine) * 1000:7.1f} ms < {target * 1000:.0f} ms  "
                  f"{verdict(p95(mine) < target) if mine else 'n/a (none sent)'}")
        print(f"  errors     {len(errors):7d}    = 0       {verdict(not errors)}")
        print(f"  lost       {len(lost):7d}    = 0       {verdict(not lost)}")
        if not alive:
            print(f"  the server died during the run (exit {server.returncode}):\n"
                  f"{log_path.read_text(errors='replace')[-2000:]}")
        failed = bool(lost) or not alive
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
