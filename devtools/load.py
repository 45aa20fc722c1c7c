"""Many sessions on one server at once, as a class uses it, while the server's memory and the time it
takes to serve the app's page are sampled every second. Sessions are protocol sockets (without a
browser, devtools/load_sockets.py) or browser pages (devtools/load_pages.py). Shared by
tests/test_load.py and benchmarks/bench_load.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from devtools import streamlit_client
from devtools.browser import Server
from devtools.load_report import LoadReport, app_errors, pause_latencies, rss_mb, trainer_threads

CLIENTS = ("sockets", "pages")


# Run in a process of its own, so that the time measured is the server's, not this process's: the
# load's clients parse every message the server sends and keep this interpreter busy.
PAGE_CLOCK = """
import sys, time, urllib.request
while True:
    asked = time.monotonic()
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=30) as answer:
            answer.read()
        print(time.monotonic() - asked, flush=True)
    except OSError:
        print("inf", flush=True)  # not served within the timeout: the slowest possible answer
    time.sleep(max(0.0, 1.0 - (time.monotonic() - asked)))
"""


async def _sample_server(
    server: Server, started: float, memory: list[tuple[float, float]], threads: list[int], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        memory.append((time.monotonic() - started, rss_mb(server.pid)))
        threads.append(trainer_threads(server.pid))
        await asyncio.sleep(1.0)


async def run_load(
    server: Server, sessions: int, seconds: float, clients: str = "sockets", watch: float = 1.0
) -> LoadReport:
    """`sessions` clients at once on `server` for about `seconds` of cycles each, then closed; in each
    cycle a session watches its run train for `watch` seconds before it pauses."""
    if clients == "pages":
        from devtools.load_pages import run_pages

        drive = run_pages(server.url, sessions, seconds, watch)
    else:
        from devtools.load_sockets import run_sockets

        drive = run_sockets(server.url, sessions, seconds, watch)
    memory: list[tuple[float, float]] = []
    threads: list[int] = []
    stop = asyncio.Event()
    started = time.monotonic()
    clock = subprocess.Popen([sys.executable, "-c", PAGE_CLOCK, f"{server.url}/"], stdout=subprocess.PIPE, text=True)
    sampler = asyncio.create_task(_sample_server(server, started, memory, threads, stop))
    try:
        reports = await drive
        elapsed = time.monotonic() - started
    finally:
        clock.terminate()
        page = [float(line) for line in clock.communicate()[0].split()]
        await asyncio.sleep(8)  # the sessions' ends reach the server: their workers stop
        stop.set()
        await sampler
    latencies = pause_latencies(server, reports)
    return LoadReport(
        reports, elapsed, memory, page, latencies, max(threads), trainer_threads(server.pid), app_errors(server)
    )


def run(server: Server, sessions: int, seconds: float, clients: str = "sockets", watch: float = 1.0) -> LoadReport:
    """`run_load`, on a thread of its own (devtools.streamlit_client.run)."""
    return streamlit_client.run(run_load(server, sessions, seconds, clients, watch))
