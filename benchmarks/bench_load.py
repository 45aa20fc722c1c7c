"""A class on one server: N sessions at once (default 30) for a few minutes, each playing, starting a
new seed, changing the learning rate, uploading a CSV, clicking the map and pausing in turn
(devtools/load.py). Prints the sessions held, steps/s per session and how evenly they share, Pause
latency (to the server's pause, and until the page offers Play again), how long the server takes to
serve the page, errors, and the server's memory over time.

    python benchmarks/bench_load.py [--sessions 30] [--seconds 300] [--clients sockets|pages] [--watch 1] [--json]

Sockets speak Streamlit's protocol without a browser, so the numbers are the server's; pages are real
Chromium pages, which on a small machine compete with the server for its cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from devtools import load
from devtools.browser import streamlit_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=300, help="how long each session keeps cycling")
    parser.add_argument("--clients", choices=load.CLIENTS, default="sockets")
    parser.add_argument("--watch", type=float, default=1.0, help="seconds each cycle watches training before Pause")
    parser.add_argument("--json", action="store_true", help="end with one JSON line: the summary")
    args = parser.parse_args()
    with streamlit_server(timeout=120) as server:
        report = load.run(server, args.sessions, args.seconds, args.clients, args.watch)
    summary = report.summary()
    for key, value in summary.items():
        print(f"{key:<32} {value}")
    print("server memory over time (s, MB):")
    step = max(1, len(report.memory_mb) // 20)
    print("  " + "  ".join(f"{t:.0f}:{mb:.0f}" for t, mb in report.memory_mb[::step]))
    for error in report.errors[:10]:
        print("error:", error)
    for error in report.app_errors[:3]:
        print("app error:", error)
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
