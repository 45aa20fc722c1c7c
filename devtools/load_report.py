"""What every session of a load run does, and what the run found, whichever client drove it (browser
pages or protocol sockets): per-session counts and Pause clicks, the server's memory and page response
over time, and the summary that the load test asserts on and the benchmark prints."""

from __future__ import annotations

import asyncio
import contextlib
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from devtools.browser import ROOT, Server

# Uploaded in turn: a different file each time, since the same one again would change nothing.
SAMPLES = [ROOT / "moe_core" / "sample_data" / name for name in ("regression.csv", "clusters.csv")]


def experts_of(index: int) -> int:
    """Session `index`'s own expert count: its run names show it, so a run seen elsewhere is caught."""
    return 2 + index % 7


def start_query(index: int) -> str:
    return f"model.n_experts={experts_of(index)}&train.seed={index}"


async def settled_step(read: Callable[[], Awaitable[int]], quiet: float = 1.0, timeout: float = 30) -> int:
    """The step a page shows (`read()`) once it has not changed for `quiet` seconds."""
    deadline, last, since = time.monotonic() + timeout, await read(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        await asyncio.sleep(0.1)
        if (now := await read()) != last:
            last, since = now, time.monotonic()
    return last


def failure(index: int, err: Exception, page_says: str = "") -> str:
    """One line for the report on what stopped session `index`; the load goes on for the others."""
    detail = " ".join(f"{err}{f' (the page says: {page_says})' if page_says else ''}".split())
    return f"session {index}: {type(err).__name__}: {detail[:700]}"


@dataclass
class SessionReport:
    session: int
    experts: int
    cycles: int = 0
    steps: int = 0
    # steps trained while only watching (between Play and Pause, no new run or upload on the way):
    # the rate a session gets while it plays, which the number of steps over the whole load is not
    watch_steps: int = 0
    watch_seconds: float = 0.0
    pause_clicks: list[tuple[float, int]] = field(default_factory=list)  # (wall time of the click, step shown)
    shown_latency: list[float] = field(default_factory=list)  # seconds from a Pause click to Play offered again
    own_runs_only: bool = True
    errors: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    sessions: list[SessionReport]
    seconds: float
    memory_mb: list[tuple[float, float]]  # (seconds since start, server RSS in MB)
    page_seconds: list[float]  # how long the server took to serve the app's page, sampled every second
    pause_latency: list[float]  # seconds from a Pause click to the server's pause
    trainer_threads_most: int  # training threads alive at once during the load (one or two per open session)
    trainer_threads_after_close: int
    app_errors: list[str] = field(default_factory=list)  # the app's scripts' exceptions, from the log

    @property
    def errors(self) -> list[str]:
        return [error for s in self.sessions for error in s.errors]

    def summary(self) -> dict:
        rss = [mb for _, mb in self.memory_mb]
        steps = [s.steps / self.seconds for s in self.sessions]
        watching = [s.watch_steps / s.watch_seconds for s in self.sessions if s.watch_seconds > 0]
        shown = [t for s in self.sessions for t in s.shown_latency]
        return {
            "sessions": len(self.sessions),
            "seconds": round(self.seconds, 1),
            "cycles": sum(s.cycles for s in self.sessions),
            "steps_per_second_per_session": round(statistics.mean(steps), 1) if steps else 0.0,
            "steps_per_second_least_and_most": [round(min(steps), 1), round(max(steps), 1)] if steps else None,
            "fairness_jain": round(jain(watching), 3) if watching else None,
            "pauses": len(self.pause_latency),
            "pause_latency_median_s": _median(self.pause_latency),
            "pause_latency_p95_s": _quantile(self.pause_latency, 0.95),
            "pause_latency_max_s": _max(self.pause_latency),
            "pause_shown_median_s": _median(shown),
            "pause_shown_max_s": _max(shown),
            "page_median_s": _median(self.page_seconds),
            "page_p95_s": _quantile(self.page_seconds, 0.95),
            "page_max_s": _max(self.page_seconds),
            "memory_start_mb": round(rss[0], 1) if rss else None,
            "memory_max_mb": round(max(rss), 1) if rss else None,
            "memory_end_mb": round(rss[-1], 1) if rss else None,
            "errors": len(self.errors),
            "app_errors": len(self.app_errors),
            "isolated": all(s.own_runs_only for s in self.sessions),
            "trainer_threads_most": self.trainer_threads_most,
            "trainer_threads_after_close": self.trainer_threads_after_close,
        }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _quantile(values: list[float], q: float) -> float | None:
    if len(values) < 2:
        return _max(values)
    return round(statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1], 3)


def _max(values: list[float]) -> float | None:
    return round(max(values), 3) if values else None


def jain(shares: list[float]) -> float:
    """Jain's fairness index of per-session throughputs: 1 when all are equal, 1/n when one takes all."""
    total = sum(shares)
    squares = sum(x * x for x in shares)
    return total * total / (len(shares) * squares) if squares else 1.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def trainer_threads(pid: int) -> int:
    """The server's training threads (named moe-explorer-trainer; Linux shows 15 characters), with the
    helper thread torch starts from each, which takes its name."""
    count = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended while the list was read
            count += (task / "comm").read_text().startswith("moe-explorer-tr")
    return count


def app_errors(server: Server) -> list[str]:
    """The exceptions raised by the app's scripts, each with its traceback: Streamlit logs each after
    "Uncaught app execution", and the traceback runs to the next log record (a line with a date)."""
    server.log.seek(0)
    found: list[str] = []
    inside = False
    for line in server.log:
        if "Uncaught app exec" in line:
            found.append(line)
            inside = True
        elif inside and re.match(r"\d{4}-\d\d-\d\d ", line):
            inside = False
        elif inside:
            found[-1] += line
    return found


def pause_latencies(server: Server, reports: list[SessionReport]) -> list[float]:
    """Seconds from each Pause click to the server's pause of that run (matched by the step it stopped at)."""
    logged = server.paused()
    latencies = []
    for report in reports:
        for clicked, step in report.pause_clicks:
            after = [at for at, at_step in logged if at_step == step and at >= clicked - 0.05]
            if after:
                latencies.append(max(0.0, min(after) - clicked))
    return latencies
