"""Load sessions as browser pages: each opens the app with its own expert count, presses Play, starts a
new seed, uploads a CSV or clicks the map (in turn) and pauses, over and over. Playwright's async API
drives every page from one browser concurrently. Real pages, but on a small machine the browsers
compete with the server for the cores; devtools/load_sockets.py drives the same without them.
"""

from __future__ import annotations

import asyncio
import time

from playwright.async_api import Browser, Page, async_playwright

from devtools.browser import CHROMIUM, FLAGS, MAP_JS, POINT_JS, STEP_JS
from devtools.load_report import SAMPLES, SessionReport, experts_of, failure, settled_step, start_query

# The wall-clock time the page received the next click (not when the driver began its own checks).
CLICK_CLOCK_JS = """() => { window.moeClickedAt = null; document.addEventListener('click',
  () => { window.moeClickedAt = Date.now() / 1000; }, {capture: true, once: true}); }"""
RUN_NAMES_JS = """() => [...document.querySelectorAll('[data-testid="stSidebar"] [data-baseweb="select"]')]
  .map(e => e.innerText).filter(t => t.startsWith('Run '))"""


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


async def session(browser: Browser, url: str, index: int, seconds: float, watch: float = 1.0) -> SessionReport:
    experts = experts_of(index)
    report = SessionReport(index, experts)
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    said = _page_errors(page)
    try:
        await page.goto(f"{url}/?{start_query(index)}")
        await page.get_by_role("button", name="Play").wait_for(timeout=180_000)
        await page.wait_for_function(f"() => ({STEP_JS})() >= 0 && ({MAP_JS})() !== null", timeout=180_000)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await _cycle(page, report, watch)
            report.cycles += 1
        names = await page.evaluate(RUN_NAMES_JS)
        report.own_runs_only = all(f"{experts} experts" in name for name in names)
        if await page.locator('[data-testid="stException"]').count():
            report.errors.append(f"session {index}: an exception box on the page")
    except Exception as err:  # the report says what went wrong; the load goes on for the other sessions
        report.errors.append(failure(index, err, "; ".join(said[-3:])))
    finally:
        await context.close()
    return report


def _page_errors(page: Page) -> list[str]:
    """The page's script errors and console errors from now on (a repeated one once), for the report
    of a session that fails: a page can fail in the browser with the server none the wiser."""
    said: list[str] = []

    def keep(text: str) -> None:
        if text not in said:
            said.append(text)

    page.on("pageerror", lambda error: keep(f"script error: {error}"))
    page.on("console", lambda message: keep(message.text) if message.type == "error" else None)
    page.on("crash", lambda _: keep("the page crashed"))
    return said


async def _cycle(page: Page, report: SessionReport, watch: float) -> None:
    """Play, change a setting, upload a file or click the map (in turn), pause."""
    play = page.get_by_role("button", name="Play").first
    if not await play.is_enabled():  # still playing: the last Pause has not shown yet
        await _pause(page, report)
    start = max(await _steps(page), 0)  # a run still at step 0 would be replaced by a new seed, not kept
    await play.click()
    await _wait_steps_above(page, start, 90)
    action = report.cycles % 3
    if action == 0:
        await page.get_by_role("button", name="New seed").first.click()
    elif action == 1:
        sample = SAMPLES[(report.cycles // 3) % len(SAMPLES)]
        uploader = page.locator('section[data-testid="stSidebar"] input[type="file"]').first
        if not await uploader.count():
            await page.get_by_text("Upload CSV").click()
        await uploader.set_input_files(str(sample))
        await page.get_by_text(f"Loaded {sample.name}").wait_for(timeout=90_000)
    else:
        point = await page.wait_for_function(POINT_JS, arg=report.cycles // 3, timeout=30_000)
        x, y, index = await point.json_value()  # a different point each time: the inspector must change
        await page.mouse.click(x, y)
        await page.get_by_text(f"Point #{index}").first.wait_for(timeout=30_000)
    if await play.is_enabled():  # a new seed or a new file starts a new run, waiting for Play
        before = await _steps(page)
        await play.click()
        await _wait_steps_above(page, before, 90)
    await asyncio.sleep(watch)
    report.steps += max(0, await _pause(page, report) - start)


async def _pause(page: Page, report: SessionReport) -> int:
    """Press Pause and wait until the toolbar offers Play again; the click's time and the step it
    stopped at go into the report. Returns that step."""
    await page.evaluate(CLICK_CLOCK_JS)
    await page.get_by_role("button", name="Pause").first.click()
    await page.get_by_role("button", name="Play").first.and_(page.locator(":enabled")).wait_for(timeout=30_000)
    step = await settled_step(lambda: _steps(page))
    report.pause_clicks.append((await page.evaluate("() => window.moeClickedAt"), step))
    return step


async def run_pages(url: str, sessions: int, seconds: float, watch: float = 1.0) -> list[SessionReport]:
    """`sessions` pages of one headless Chromium at once, each cycling for about `seconds`, then closed."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        reports = await asyncio.gather(*(session(browser, url, i, seconds, watch) for i in range(sessions)))
        await browser.close()
    return list(reports)
