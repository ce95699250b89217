"""Load benchmark: the kenmap server on loopback under concurrent clients.

Starts ``kenmap serve`` on the demo city at 127.0.0.1 and drives it with ApacheBench (``ab``,
Debian package apache2-utils: a C client, so the client is not the bottleneck) at 50 concurrent
clients for 10,000 requests per endpoint. Prints throughput, p50/p95/p99 latency and errors.
Bounded: a fixed number of requests to one loopback address.

    python bench/bench_server.py [--requests 10000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ENDPOINTS = ["/api/layers/gyoseiku/areas", "/api/gaps?layer=gyoseiku&hub_type=salon",
             "/api/gaps?layer=gyoseiku&hub_type=salon&radius=500"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_ab(url: str, requests: int, concurrency: int) -> dict[str, float]:
    out = subprocess.run(["ab", "-q", "-k", "-n", str(requests), "-c", str(concurrency), url],
                         capture_output=True, text=True, timeout=600).stdout

    def number(pattern: str) -> float:
        match = re.search(pattern, out)
        return float(match.group(1)) if match else float("nan")

    return {"rps": number(r"Requests per second:\s+([\d.]+)"),
            "failed": number(r"Failed requests:\s+(\d+)"),
            "non2xx": number(r"Non-2xx responses:\s+(\d+)") if "Non-2xx" in out else 0.0,
            "p50": number(r"\s50%\s+(\d+)"), "p95": number(r"\s95%\s+(\d+)"),
            "p99": number(r"\s99%\s+(\d+)"), "bytes": number(r"Document Length:\s+(\d+)")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("ab") is None:
        sys.exit("bench_server needs ApacheBench: apt-get install apache2-utils")
    from kenmap.demo import build_demo_workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = build_demo_workspace(Path(tmp) / "demo.gpkg").path
        port = free_port()
        server = subprocess.Popen([sys.executable, "-c", "from kenmap.cli import main; main()",
                                   "serve", str(ws), "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(150):
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            for path in ENDPOINTS:  # first request computes and caches the figures
                start = time.perf_counter()
                httpx.get(base + path, timeout=120).raise_for_status()
                print(f"first request {path}: {time.perf_counter() - start:.2f} s (uncached)")
            print(f"{args.requests:,} requests per endpoint, {args.concurrency} concurrent "
                  "clients (ab, keep-alive)")
            for path in ENDPOINTS:
                r = run_ab(base + path, args.requests, args.concurrency)
                print(f"  {path:<52} {r['rps']:8.0f} req/s  p50 {r['p50']:4.0f} ms  "
                      f"p95 {r['p95']:4.0f} ms  p99 {r['p99']:4.0f} ms  errors "
                      f"{r['failed'] + r['non2xx']:.0f}  ({r['bytes'] / 1e3:.0f} kB each)")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
