"""The real thing: `streamlit run app` on a free loopback port, driven by Playwright in Debian's Chromium.

Waits on visible state (the step counter, the map's image), never on fixed sleeps, except where the
test checks that nothing changes. Screenshots go to test-artifacts/.
"""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEP_JS = """() => {
  const line = [...document.querySelectorAll('[data-testid="stMarkdown"]')].find(e => e.innerText.includes('steps/s'));
  return line ? parseInt(line.innerText.split(' ')[1].replace(/,/g, '')) : -1;
}"""
MAP_JS = "() => { const i = document.querySelector('.stPlotlyChart image'); return i ? i.getAttribute('href') : null; }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app",
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"streamlit did not start: {process.stdout.read()}")
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    assert Path(CHROMIUM).exists(), (
        "Debian's chromium is missing: scripts/test.sh installs it (apt-get install chromium)"
    )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server) -> Page:
    page = browser.new_page(viewport={"width": 1600, "height": 1100})
    page.goto(server)
    page.get_by_role("button", name="Play").wait_for(timeout=90_000)
    page.wait_for_function(f"() => ({STEP_JS})() >= 0 && ({MAP_JS})() !== null", timeout=60_000)
    yield page
    page.close()


def _no_exception_box(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_play_trains_and_redraws_the_map_and_pause_stops_the_counter(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "browser-start.png")
    first_map = page.evaluate(MAP_JS)
    assert first_map is not None and page.evaluate(STEP_JS) == 0

    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => ({STEP_JS})() > 200", timeout=90_000)
    page.wait_for_function(f"(first) => ({MAP_JS})() !== first", arg=first_map, timeout=30_000)
    page.screenshot(path=ARTIFACTS / "browser-playing.png")
    _no_exception_box(page)

    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").and_(page.locator(":enabled")).wait_for(timeout=30_000)
    page.wait_for_function("() => document.body.innerText.includes(' 0 steps/s')", timeout=30_000)
    stopped = page.evaluate(STEP_JS)
    page.wait_for_timeout(1500)  # the one deliberate wait: nothing may change in it
    assert page.evaluate(STEP_JS) == stopped > 200
    page.screenshot(path=ARTIFACTS / "browser-paused.png")
    _no_exception_box(page)


def test_clicking_a_point_on_the_map_inspects_it(page):
    page.get_by_role("button", name="Step").click()
    page.wait_for_function(f"() => ({STEP_JS})() == 1", timeout=30_000)
    point = page.locator(".stPlotlyChart .scatterlayer .point").first
    point.click(force=True)
    page.get_by_text("Gate scores for point").wait_for(timeout=30_000)
    page.get_by_text("Combined output:").wait_for(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "browser-inspect.png")
    _no_exception_box(page)
