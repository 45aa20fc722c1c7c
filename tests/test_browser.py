"""The real thing: `streamlit run app` on a free loopback port, driven by Playwright in Debian's Chromium.

Waits on visible state (the step counter, the map's image), never on fixed sleeps, except where the
test checks that nothing changes. Screenshots go to test-artifacts/.
"""

import pytest
from playwright.sync_api import Page

from devtools.browser import MAP_JS, ROOT, STEP_JS, chromium, exception_boxes, open_app, streamlit_server

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def server():
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server) -> Page:
    page = open_app(browser, server)
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
