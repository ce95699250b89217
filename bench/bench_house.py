"""Benchmark: the figures kenmap promises for a 地域包括 office's everyday use, each against a peer.

(a) Cold CLI: ``kenmap gaps --radius 500`` on a city of about 6,000 small areas and 1,000
    サロン, each run a fresh process (demand cells already stored in the workspace by an earlier
    run), against the hand-written geopandas buffer-union-overlay in this process.
    Target: kenmap ≥ 5× faster. Also prints how far the two disagree per small area.
(b) The server after an edit: ``kenmap serve`` on the same city; add a サロン (POST) or move one
    (PATCH), then time the first ``GET /api/gaps?…&radius=500``. Peer: the overlay again, in
    this process, on the same hubs. Target: ≤ 1/20 of the overlay.
(c) ``kenmap coverage`` cold on the demo city (fresh processes, demand cells stored). No peer
    in this process: compared with the previous version's figure on this machine.
    Target: < 1/4 of it.
(d) A hub edit through the API on a ~200 MB workspace (375,000 synthetic small areas with
    16-vertex boundaries and 1,000 hubs: 200,000 areas only make ~107 MB): PATCH moves and
    POST adds. Peer: copying the workspace file once, which every edit used to cost.
    Target: median < 50 ms.

Every server listens on 127.0.0.1 only and is stopped on exit, even on error.

    python bench/bench_house.py [--repeat 5] [--quick] [--parts abcd] [--big-size 375000]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_coverage import build, overlay_reach
from processes import stop, wait_ready

from kenmap.demo import build_demo_workspace

#: The console script next to this interpreter (a fresh process per run, as a user types it).
KENMAP = Path(sys.executable).with_name("kenmap")
#: ``kenmap coverage`` on the demo city, cold, measured with the previous commit 26cba71 on
#: this machine (median of 3).
BEFORE_COVERAGE_S = 10.9
GAPS_ARGS = ["--layer", "small", "--hub-type", "salon", "--radius", "500"]
GAPS_URL = "/api/gaps?layer=small&hub_type=salon&radius=500"
TO_LONLAT = Transformer.from_crs(6673, 4326, always_xy=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def med(values: list[float]) -> float:
    return statistics.median(values)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def line(what: str, ours: float, peer_name: str, peer: float, target: str, ok: bool,
         unit: str = "s") -> None:
    scale = 1000.0 if unit == "ms" else 1.0
    print(f"    {what}: kenmap {ours * scale:8.3f} {unit} | {peer_name} {peer * scale:8.3f} "
          f"{unit} | ratio {peer / ours:6.1f}× | target {target} | {verdict(ok)}")


def kenmap_cli(*args: str, timeout: float = 1800) -> tuple[float, str]:
    """Run the console script once; wall-clock seconds and stdout. Raises with stderr."""
    start = time.perf_counter()
    done = subprocess.run([str(KENMAP), *args], capture_output=True, text=True,
                          timeout=timeout)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"kenmap {' '.join(args)} exited {done.returncode}:\n"
                           f"{done.stderr[-3000:]}")
    return elapsed, done.stdout


def interior_points(areas: pd.DataFrame, n: int, seed: int) -> list[tuple[float, float]]:
    """``n`` lon/lat points in the middle 80% of the city's extent."""
    minx, miny, maxx, maxy = areas.total_bounds
    rng = np.random.default_rng(seed)
    x = rng.uniform(minx + 0.1 * (maxx - minx), maxx - 0.1 * (maxx - minx), n)
    y = rng.uniform(miny + 0.1 * (maxy - miny), maxy - 0.1 * (maxy - miny), n)
    lon, lat = TO_LONLAT.transform(x, y)
    return [(float(a), float(b)) for a, b in zip(lon, lat)]


@contextmanager
def serving(workspace: Path, tmp: Path) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """``kenmap serve`` on loopback with a token file; yields a client and the auth header."""
    token = secrets.token_hex(24)
    token_file = tmp / f"token-{workspace.stem}"
    token_file.write_text(token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    port = free_port()
    log_path = tmp / f"serve-{workspace.stem}.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(KENMAP), "serve", str(workspace), "--host", "127.0.0.1", "--port", str(port),
             "--token-file", str(token_file)], stdout=log, stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600, trust_env=False)
    try:
        wait_ready(server, f"http://127.0.0.1:{port}", log_path)
        yield client, {"Authorization": f"Bearer {token}"}
    finally:
        client.close()
        stop(server)
        if server.returncode not in (0, -15):
            print(f"    (server exit code {server.returncode}; log "
                  f"{log_path.read_text(errors='replace')[-500:]!r})")


def checked(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url} -> "
                           f"{response.status_code}: {response.text[:1000]}")
    return response.json() if response.content else None


def timed_request(client: httpx.Client, method: str, url: str, **kw: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    response = client.request(method, url, **kw)
    elapsed = time.perf_counter() - start
    return elapsed, checked(response)


def small_reached(payload: dict[str, Any]) -> pd.Series:
    rows = payload["areas"]
    return pd.Series({r["code"]: (r["pop65_reached"] or 0.0) for r in rows}, dtype=float)


def agreement(ours: pd.Series, theirs: pd.Series, total65: float) -> str:
    both = pd.concat([ours, theirs], axis=1, keys=["k", "o"]).fillna(0.0)
    diff = (both["k"] - both["o"]).abs()
    return (f"65+ reached, city: kenmap {both['k'].sum():,.0f}, overlay {both['o'].sum():,.0f} "
            f"({abs(both['k'].sum() - both['o'].sum()) / total65:.3%} of the city's 65+); "
            f"largest small-area difference {diff.max():,.1f} "
            f"({diff.max() / total65:.4%} of the city's 65+, area {diff.idxmax()})")


# -- (a) and (b): the 6,000-area city ------------------------------------------------------------
def part_a(tmp: Path, args: argparse.Namespace, city: Any, areas: Any) -> None:
    ws_path = Path(city.path)
    total65 = float(areas["pop65"].sum())
    t_first, _ = kenmap_cli("gaps", str(ws_path), *GAPS_ARGS, "--format", "json")
    cold, peer = [], []
    payload: dict[str, Any] = {}
    theirs: dict[str, pd.Series] = {}
    for _ in range(args.repeat):
        t, out = kenmap_cli("gaps", str(ws_path), *GAPS_ARGS, "--format", "json")
        cold.append(t)
        payload = json.loads(out)
        start = time.perf_counter()
        theirs = overlay_reach(city, areas)
        peer.append(time.perf_counter() - start)
    print(f"(a) cold CLI: kenmap gaps --layer small --hub-type salon --radius 500 --format json; "
          f"{len(areas):,} small areas, {args.hubs:,} hubs, median of {args.repeat} fresh "
          f"processes (first run, storing demand cells: {t_first:.2f} s, not counted)")
    ratio = med(peer) / med(cold)
    line("gaps, fresh process", med(cold), "overlay", med(peer), "≥ 5×", ratio >= 5)
    ours = small_reached(payload)
    print(f"    {len(ours):,} areas in the JSON; " + agreement(ours, theirs["small"], total65))


def part_b(tmp: Path, args: argparse.Namespace, city: Any, areas: Any) -> None:
    ws_path = Path(city.path)
    total65 = float(areas["pop65"].sum())
    points = interior_points(areas, 2 * args.repeat + 2, seed=11)
    with serving(ws_path, tmp) as (client, auth):
        t_warm, _ = timed_request(client, "GET", GAPS_URL)
        hubs = timed_request(client, "GET", "/api/hubs?type=salon")[1]["features"]
        moved = hubs[0]["properties"]
        hub_id, version = int(moved["id"]), int(moved["version"])
        edits, after, peer, kinds = [], [], [], []
        payload: dict[str, Any] = {}
        for i in range(args.repeat):
            lon, lat = points[i]
            if i % 2 == 0:
                t_edit, rec = timed_request(client, "POST", "/api/hubs", headers=auth, json={
                    "type": "salon", "name": "b", "lon": lon, "lat": lat})
                kinds.append("POST")
            else:
                t_edit, rec = timed_request(client, "PATCH", f"/api/hubs/{hub_id}",
                                            headers=auth,
                                            json={"version": version, "lon": lon, "lat": lat})
                version = int(rec["version"])
                kinds.append("PATCH")
            t_after, payload = timed_request(client, "GET", GAPS_URL)
            start = time.perf_counter()
            theirs = overlay_reach(city, areas)
            peer.append(time.perf_counter() - start)
            edits.append(t_edit)
            after.append(t_after)
        t_cached, _ = timed_request(client, "GET", GAPS_URL)
    print(f"(b) server after an edit: first GET {GAPS_URL} after each edit "
          f"({'/'.join(kinds)}), median of {args.repeat} (warm-up GET {t_warm:.2f} s, "
          f"a repeated GET {t_cached * 1000:.1f} ms, not counted)")
    ratio = med(peer) / med(after)
    line("first GET after edit", med(after), "overlay", med(peer), "≥ 20×", ratio >= 20)
    print(f"    the edit request itself: median {med(edits) * 1000:.1f} ms "
          f"(each: {', '.join(f'{t * 1000:.0f}' for t in edits)} ms); GET after each: "
          f"{', '.join(f'{t * 1000:.0f}' for t in after)} ms")
    print("    after the last edit, " + agreement(small_reached(payload), theirs["small"],
                                                    total65))


# -- (c): the demo city ----------------------------------------------------------------------------
def part_c(tmp: Path, args: argparse.Namespace) -> None:
    ws_path = build_demo_workspace(tmp / "demo.gpkg").path
    t_first, _ = kenmap_cli("coverage", str(ws_path))
    cold = [kenmap_cli("coverage", str(ws_path))[0] for _ in range(args.repeat)]
    print(f"(c) cold CLI: kenmap coverage on the demo city, median of {args.repeat} fresh "
          f"processes (first run, storing demand cells: {t_first:.2f} s, not counted)")
    ratio = BEFORE_COVERAGE_S / med(cold)
    line("coverage, fresh process", med(cold), "26cba71 (recorded)", BEFORE_COVERAGE_S,
         "≥ 4×", ratio >= 4)
    print(f"    each: {', '.join(f'{t:.2f}' for t in cold)} s")


# -- (d): a ~200 MB workspace ----------------------------------------------------------------------
def part_d(tmp: Path, args: argparse.Namespace) -> None:
    big_dir = tmp / "big"
    big_dir.mkdir()
    start = time.perf_counter()
    ws, areas = build(big_dir, args.big_size, 1_000, cell=150.0)
    setup = time.perf_counter() - start
    ws_path = Path(ws.path)
    size = ws_path.stat().st_size
    copies = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        shutil.copyfile(ws_path, tmp / "copy.gpkg")
        copies.append(time.perf_counter() - start)
        (tmp / "copy.gpkg").unlink()
    points = interior_points(areas, 2 * args.repeat + 2, seed=13)
    with serving(ws_path, tmp) as (client, auth):
        hubs = timed_request(client, "GET", "/api/hubs?type=salon")[1]["features"]
        hub_id, version = int(hubs[0]["properties"]["id"]), int(hubs[0]["properties"]["version"])
        t_first, rec = timed_request(client, "PATCH", f"/api/hubs/{hub_id}", headers=auth,
                                     json={"version": version, "lon": points[0][0],
                                           "lat": points[0][1]})
        version = int(rec["version"])
        patches, posts = [], []
        for i in range(args.repeat):
            lon, lat = points[1 + i % 2]  # back and forth between two positions
            t, rec = timed_request(client, "PATCH", f"/api/hubs/{hub_id}", headers=auth,
                                   json={"version": version, "lon": lon, "lat": lat})
            if int(rec["version"]) != version + 1:
                raise RuntimeError(f"PATCH returned version {rec['version']}, "
                                   f"expected {version + 1}")
            version = int(rec["version"])
            patches.append(t)
        for i in range(args.repeat):
            lon, lat = points[3 + i]
            t, rec = timed_request(client, "POST", "/api/hubs", headers=auth, json={
                "type": "salon", "name": "b", "lon": lon, "lat": lat})
            posts.append(t)
        final_hubs = len(timed_request(client, "GET", "/api/hubs?type=salon")[1]["features"])
    size_after = ws_path.stat().st_size
    print(f"(d) hub edits through the API on a {size / 1e6:,.0f} MB workspace "
          f"({len(areas):,} small areas, 1,000 hubs; set-up {setup:.0f} s, not counted), "
          f"median of {args.repeat} each")
    print(f"    first edit after the server started (PATCH, not counted): "
          f"{t_first * 1000:.1f} ms; copying the file once: median {med(copies):.3f} s")
    for what, times in (("PATCH move", patches), ("POST add  ", posts)):
        line(what, med(times), "file copy", med(copies), "< 50 ms", med(times) < 0.050,
             unit="ms")
        print(f"        each: {', '.join(f'{t * 1000:.1f}' for t in times)} ms")
    print(f"    hubs of type salon after the edits: {final_hubs:,} (expected "
          f"{1_000 + args.repeat:,}); file {size_after / 1e6:,.1f} MB after")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=None, help="repeats (default 5; 2 quick)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run")
    parser.add_argument("--parts", default="abcd", help="which parts to run, e.g. 'ad'")
    parser.add_argument("--big-size", type=int, default=None,
                        help="small areas in (d) (default 375,000: ~200 MB; 20,000 quick)")
    args = parser.parse_args()
    args.repeat = args.repeat or (2 if args.quick else 5)
    args.areas, args.hubs = (1_500, 250) if args.quick else (6_000, 1_000)
    args.big_size = args.big_size or (20_000 if args.quick else 375_000)
    if not KENMAP.exists():
        sys.exit(f"bench_house needs the kenmap console script at {KENMAP}")
    failed = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        city: Any = None
        areas: Any = None
        parts: dict[str, Callable[[], None]] = {
            "a": lambda: part_a(tmp, args, city, areas),
            "b": lambda: part_b(tmp, args, city, areas),
            "c": lambda: part_c(tmp, args),
            "d": lambda: part_d(tmp, args),
        }
        if "a" in args.parts or "b" in args.parts:
            start = time.perf_counter()
            city, areas = build(tmp, args.areas, args.hubs, cell=300.0)
            print(f"city of {len(areas):,} small areas and {args.hubs:,} hubs built in "
                  f"{time.perf_counter() - start:.1f} s (EPSG:6673, layers shi/block/small)")
        for key in args.parts:
            try:
                parts[key]()
            except Exception:  # noqa: BLE001 - report and go on with the other parts
                failed.append(key)
                print(f"({key}) FAILED:")
                traceback.print_exc(file=sys.stdout)
            sys.stdout.flush()
    if failed:
        sys.exit(f"parts failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
