"""The real thing: `streamlit run app` on a free loopback port, driven by Playwright in Debian's Chromium.

Waits on visible state (the step counter, the map's image), never on fixed sleeps, except where the
test checks that nothing changes. Screenshots go to test-artifacts/.
"""

import time

import pytest
from playwright.sync_api import Page

from devtools.browser import MAP_JS, ROOT, STEP_JS, chromium, exception_boxes, open_app, streamlit_server

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def server():
    with streamlit_server() as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server) -> Page:
    page = open_app(browser, server.url)
    ARTIFACTS.mkdir(exist_ok=True)
    yield page
    page.close()


def test_play_trains_and_redraws_the_map_and_pause_stops_the_counter(page):
    page.screenshot(path=ARTIFACTS / "browser-start.png")
    first_map = page.evaluate(MAP_JS)
    assert page.evaluate(STEP_JS) == 0

    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => ({STEP_JS})() > 200", timeout=90_000)
    page.wait_for_function(f"(first) => ({MAP_JS})() !== first", arg=first_map, timeout=30_000)
    page.screenshot(path=ARTIFACTS / "browser-playing.png")
    assert exception_boxes(page) == 0

    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").and_(page.locator(":enabled")).wait_for(timeout=30_000)
    page.wait_for_function("() => document.body.innerText.includes(' 0 steps/s')", timeout=30_000)
    stopped = page.evaluate(STEP_JS)
    page.wait_for_timeout(1500)  # the one deliberate wait: nothing may change in it
    assert page.evaluate(STEP_JS) == stopped > 200
    page.screenshot(path=ARTIFACTS / "browser-paused.png")
    assert exception_boxes(page) == 0


def test_clicking_a_point_on_the_map_inspects_it(page):
    page.get_by_role("button", name="Step").click()
    page.wait_for_function(f"() => ({STEP_JS})() == 1", timeout=30_000)
    page.locator(".stPlotlyChart .scatterlayer .point").first.click(force=True)
    page.get_by_text("Gate scores for point").wait_for(timeout=30_000)
    page.get_by_text("Combined output:").wait_for(timeout=30_000)
    page.screenshot(path=ARTIFACTS / "browser-inspect.png")
    assert exception_boxes(page) == 0


def _cpu_rate(server, seconds: float = 1.0) -> float:
    """The server process's CPU seconds per second over a short window."""
    before = server.cpu_seconds()
    time.sleep(seconds)  # a measuring window, not a wait for state
    return (server.cpu_seconds() - before) / seconds


def test_closing_a_playing_tab_stops_its_training(browser, server):
    # The worker trains in a thread of the server; when the tab's session is released, the thread must
    # stop, which shows as the server going idle.
    page = open_app(browser, server.url)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => ({STEP_JS})() > 100", timeout=90_000)
    assert _cpu_rate(server) > 0.5  # training takes about a core
    page.close()
    deadline = time.monotonic() + 30
    while _cpu_rate(server) > 0.2:
        assert time.monotonic() < deadline, "the server kept training after the tab closed"
