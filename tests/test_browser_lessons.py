"""Every lesson opened and run in the real thing (`streamlit run app`, Debian's Chromium): no exception
box, the verdict shown, its curve and its final routing maps drawn with no label clipped or covered.
Each runs in its quick version where it has one (the fewest steps and points it offers). Screenshots
of each result go to test-artifacts/; the seconds each lesson took to train are printed (pytest -s).
"""

import re
import time

import pytest
from playwright.sync_api import Page

from devtools.browser import MAP_JS, ROOT, STEP_JS, exception_boxes
from devtools.layout import measure, settle
from moe_core.experiments.lessons import LESSONS

ARTIFACTS = ROOT / "test-artifacts"
VERDICT = re.compile(r"^(As expected|Not this time): ")
# The Plotly figures' titles on the page, as drawn.
TITLES_JS = "() => [...document.querySelectorAll('.js-plotly-plot .gtitle')].map((t) => t.textContent)"


def run_lesson(page: Page, url: str, name: str) -> float:
    """Open the lesson by its link, switch its quick version on where it has one, run it and wait for the
    verdict; returns the seconds from the click to the verdict."""
    page.goto(f"{url}/lessons?lesson={name}")
    run = page.get_by_role("button", name="Run the lesson")
    run.wait_for(timeout=90_000)
    if LESSONS[name].small:
        page.get_by_role("switch", name="Quick version").check(force=True)  # the input under the drawn switch
        page.get_by_role("switch", name="Quick version", checked=True).wait_for(timeout=30_000)
    start = time.monotonic()
    run.click()
    page.get_by_text(VERDICT).wait_for(timeout=400_000)
    seconds = time.monotonic() - start
    page.wait_for_function(f"() => ({TITLES_JS})().some((t) => t.startsWith('Final routing map'))", timeout=60_000)
    settle(page)
    return seconds


@pytest.mark.parametrize("name", LESSONS.names())
def test_each_lesson_runs_to_its_verdict_curve_and_maps_without_an_exception(server, browser, name):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        seconds = run_lesson(page, server.url, name)
        print(f"{name}: {seconds:.1f} s to the verdict")
        assert exception_boxes(page) == 0
        titles = page.evaluate(TITLES_JS)
        assert any(t.startswith("Final routing map") for t in titles), titles
        assert any(" over training: seed 0" in t for t in titles), titles  # the curve to watch
        assert page.get_by_role("button", name="Open on the Train page").is_visible()
        page.locator(".js-plotly-plot").last.scroll_into_view_if_needed()
        settle(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"lesson-{name}.png", full_page=True)
        report = measure(page, f"lesson {name}, 1280x720")
        assert report.count("clipped") == report.count("overlap") == report.count("small") == 0, report.describe()
    finally:
        page.close()


def test_a_lessons_run_opens_on_the_train_page_with_its_settings(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        run_lesson(page, server.url, "capacity")
        box = page.get_by_role("combobox", name="Run to open")
        box.scroll_into_view_if_needed()  # in view first: the menu closes on a scroll, and a click's own scroll is one
        settle(page)
        box.click()
        page.get_by_role("option", name="capacity factor 2").click()
        page.get_by_role("button", name="Open on the Train page").click()
        page.get_by_role("button", name="Play").wait_for(timeout=90_000)
        page.wait_for_url(re.compile(r"[?&]model\.capacity_factor=2\.0"), timeout=30_000)
        assert "model.router=switch" in page.url and exception_boxes(page) == 0
        page.wait_for_function(f"() => ({STEP_JS})() === 0 && ({MAP_JS})() !== null", timeout=60_000)
    finally:
        page.close()
