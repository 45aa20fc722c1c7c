"""Many sessions on one server at once, as a class uses it: each page opens the app with its own expert
count, presses Play, changes a setting, uploads a CSV, clicks the map and pauses, over and over for a
bounded time, while the server's memory is sampled. Shared by tests/test_load.py and
benchmarks/bench_load.py. Playwright's async API drives every page from one browser concurrently.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from devtools.browser import CHROMIUM, FLAGS, MAP_JS, ROOT, STEP_JS, Server

SAMPLES = [ROOT / "moe_core" / "sample_data" / name for name in ("regression.csv", "clusters.csv")]
# The wall-clock time the page received the next click (not when the driver began its own checks).
CLICK_CLOCK_JS = """() => { window.moeClickedAt = null; document.addEventListener('click',
  () => { window.moeClickedAt = Date.now() / 1000; }, {capture: true, once: true}); }"""
RUN_NAMES_JS = """() => [...document.querySelectorAll('[data-testid="stSidebar"] [data-baseweb="select"]')]
  .map(e => e.innerText).filter(t => t.startsWith('Run '))"""
# null while the map is being redrawn (after an upload its element is replaced).
POINT_JS = """() => {
  const root = document.querySelector('.moe-map'); const map = root && root.parentElement.__moeMap;
  if (!map || !map.data || !map.data.points) return null;
  const rect = map.canvas.getBoundingClientRect(); const p = map.data.points;
  const [x, y] = map.toPixel(map.plotBox(), p.x[0], p.y[0]); return [rect.left + x, rect.top + y];
}"""


@dataclass
class SessionReport:
    session: int
    experts: int
    cycles: int = 0
    steps: int = 0
    pause_clicks: list[tuple[float, int]] = field(default_factory=list)  # (wall time of the click, step shown)
    own_runs_only: bool = True
    errors: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    sessions: list[SessionReport]
    seconds: float
    memory_mb: list[tuple[float, float]]  # (seconds since start, server RSS in MB)
    pause_latency: list[float]  # seconds from a Pause click to the server's pause
    trainer_threads_after_close: int

    @property
    def errors(self) -> list[str]:
        return [error for s in self.sessions for error in s.errors]

    def summary(self) -> dict:
        rss = [mb for _, mb in self.memory_mb]
        steps = [s.steps / self.seconds for s in self.sessions]
        return {
            "sessions": len(self.sessions),
            "seconds": round(self.seconds, 1),
            "steps_per_second_per_session": round(statistics.mean(steps), 1) if steps else 0.0,
            "steps_per_second_least_and_most": [round(min(steps), 1), round(max(steps), 1)] if steps else None,
            "pauses": len(self.pause_latency),
            "pause_latency_median_s": round(statistics.median(self.pause_latency), 3) if self.pause_latency else None,
            "pause_latency_max_s": round(max(self.pause_latency), 3) if self.pause_latency else None,
            "memory_start_mb": round(rss[0], 1) if rss else None,
            "memory_max_mb": round(max(rss), 1) if rss else None,
            "memory_end_mb": round(rss[-1], 1) if rss else None,
            "errors": len(self.errors),
            "isolated": all(s.own_runs_only for s in self.sessions),
            "trainer_threads_after_close": self.trainer_threads_after_close,
        }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def trainer_threads(pid: int) -> int:
    """The server's training threads (named moe-explorer-trainer; Linux shows 15 characters)."""
    tasks = Path(f"/proc/{pid}/task")
    return sum(1 for t in tasks.iterdir() if (t / "comm").read_text().strip().startswith("moe-explorer-tr"))


async def _steps(page: Page) -> int:
    return int(await page.evaluate(STEP_JS))


async def _wait_steps_above(page: Page, past: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = await _steps(page)
        if now > past:
            return now
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the step counter stayed at {past}")


async def _settled_step(page: Page, quiet: float = 1.0, timeout: float = 30) -> int:
    """The step the page shows once it has stopped changing for `quiet` seconds."""
    deadline, last, since = time.monotonic() + timeout, await _steps(page), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        now = await _steps(page)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
    return last


async def _session(browser: Browser, url: str, index: int, seconds: float) -> SessionReport:
    experts = 2 + index % 7  # each session's own setting, seen in its run names
    report = SessionReport(index, experts)
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    try:
        await page.goto(f"{url}/?model.n_experts={experts}&train.seed={index}")
        await page.get_by_role("button", name="Play").wait_for(timeout=180_000)
        await page.wait_for_function(f"() => ({STEP_JS})() >= 0 && ({MAP_JS})() !== null", timeout=180_000)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await _cycle(page, report)
            report.cycles += 1
        names = await page.evaluate(RUN_NAMES_JS)
        report.own_runs_only = all(f"{experts} experts" in name for name in names)
        if await page.locator('[data-testid="stException"]').count():
            report.errors.append(f"session {index}: an exception box on the page")
    except Exception as err:  # the report says what went wrong; the load goes on for the other sessions
        detail = " ".join(str(err).split())[:300]
        report.errors.append(f"session {index}: {type(err).__name__}: {detail}")
    finally:
        await context.close()
    return report


async def _cycle(page: Page, report: SessionReport) -> None:
    """Play, change a setting, upload a file or click the map (in turn), pause."""
    play = page.get_by_role("button", name="Play").first
    if not await play.is_enabled():  # still playing: the last Pause has not shown yet
        await _pause(page, report)
    start = await _steps(page)
    await play.click()
    await _wait_steps_above(page, start, 90)
    action = report.cycles % 3
    if action == 0:
        await page.get_by_role("button", name="New seed").first.click()
    elif action == 1:  # a different file each time: the same one again would change nothing
        sample = SAMPLES[(report.cycles // 3) % len(SAMPLES)]
        uploader = page.locator('section[data-testid="stSidebar"] input[type="file"]').first
        if not await uploader.count():
            await page.get_by_text("Upload CSV").click()
        await uploader.set_input_files(str(sample))
        await page.get_by_text(f"Loaded {sample.name}").wait_for(timeout=90_000)
    else:
        x, y = await (await page.wait_for_function(POINT_JS, timeout=30_000)).json_value()
        await page.mouse.click(x, y)
        await page.get_by_text("Inspect a point").first.wait_for(timeout=30_000)
    if await play.is_enabled():  # a new seed or a new file starts a new run, waiting for Play
        before = await _steps(page)
        await play.click()
        await _wait_steps_above(page, before, 90)
    await asyncio.sleep(1.0)
    report.steps += max(0, await _pause(page, report) - start)


async def _pause(page: Page, report: SessionReport) -> int:
    """Press Pause and wait until the toolbar offers Play again; the click's time and the step it
    stopped at go into the report. Returns that step."""
    await page.evaluate(CLICK_CLOCK_JS)
    await page.get_by_role("button", name="Pause").first.click()
    await page.get_by_role("button", name="Play").first.and_(page.locator(":enabled")).wait_for(timeout=30_000)
    step = await _settled_step(page, quiet=1.0)
    report.pause_clicks.append((await page.evaluate("() => window.moeClickedAt"), step))
    return step


async def _sample_memory(pid: int, started: float, samples: list, stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append((time.monotonic() - started, rss_mb(pid)))
        await asyncio.sleep(1.0)


async def run_load(server: Server, sessions: int, seconds: float) -> LoadReport:
    """`sessions` pages at once on `server` for about `seconds` of cycles each, then closed."""
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    started = time.monotonic()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        sampler = asyncio.create_task(_sample_memory(server.pid, started, samples, stop))
        reports = await asyncio.gather(*(_session(browser, server.url, i, seconds) for i in range(sessions)))
        elapsed = time.monotonic() - started
        await browser.close()
        await asyncio.sleep(8)  # the sessions' ends reach the server: their workers stop
        stop.set()
        await sampler
    return LoadReport(list(reports), elapsed, samples, pause_latencies(server, reports), trainer_threads(server.pid))


def pause_latencies(server: Server, reports: list[SessionReport]) -> list[float]:
    """Seconds from each Pause click to the server's pause of that run (matched by the step it stopped at)."""
    logged = _logged_pauses(server)
    latencies = []
    for report in reports:
        for clicked, step in report.pause_clicks:
            after = [at for at, at_step in logged if at_step == step and at >= clicked - 0.05]
            if after:
                latencies.append(max(0.0, min(after) - clicked))
    return latencies


def _logged_pauses(server: Server) -> list[tuple[float, int]]:
    server.log.seek(0)
    found = []
    for line in server.log:
        if " paused at " in line:
            at, step = line.split(" paused at ")[1].split(", step ")
            found.append((float(at), int(step.split()[0])))
    return found


def run(server: Server, sessions: int, seconds: float) -> LoadReport:
    """`run_load` on a thread of its own: its event loop must not meet one already running here (the
    synchronous Playwright of other tests keeps one on the main thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run_load(server, sessions, seconds)).result()
