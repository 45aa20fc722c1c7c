"""The real thing: `streamlit run app` on a free loopback port, driven by Playwright in Debian's Chromium.

Waits on visible state (the step counter, the map's paint count, texts), never on fixed sleeps, except
where a test records frames or checks that nothing changes for a while. Screenshots go to
test-artifacts/.
"""

import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page

from devtools.browser import (
    MAP_JS,
    MAP_STEP_JS,
    POINT_JS,
    ROOT,
    STEP_JS,
    blank_frames,
    exception_boxes,
    open_app,
    record_frames,
)
from moe_core.settings.config import RunConfig
from moe_explorer_app.state import url_state

ARTIFACTS = ROOT / "test-artifacts"
SAMPLE = ROOT / "moe_core" / "sample_data" / "regression.csv"

# Times, inside the page, from the next mouse release to the moment a text appears (in window.moeClick),
# so that the measure holds no round trip of the test driver.
CLICK_TO_TEXT_JS = """(text) => {
  const clock = window.moeClick = {};
  document.addEventListener('mouseup', () => { clock.at = performance.now(); }, {capture: true, once: true});
  const seen = new MutationObserver(() => {
    if (clock.at !== undefined && document.body.textContent.includes(text)) {
      clock.shown = performance.now();
      seen.disconnect();
    }
  });
  seen.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


@pytest.fixture
def page(browser, server) -> Page:
    page = open_app(browser, server.url)
    ARTIFACTS.mkdir(exist_ok=True)
    yield page
    page.close()


def play(page: Page, past: int = 200) -> None:
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => ({STEP_JS})() > {past}", timeout=90_000)


def test_play_trains_and_redraws_the_map_in_place_and_pause_stops_the_counter(page):
    page.screenshot(path=ARTIFACTS / "browser-start.png")
    first_paints = page.evaluate(MAP_JS)
    assert page.evaluate(STEP_JS) == 0
    play(page)
    page.wait_for_function(f"(n) => ({MAP_JS})() > n + 10", arg=first_paints, timeout=30_000)
    box = page.locator(".moe-map canvas").bounding_box()
    frames = record_frames(page, 4.0)
    assert len(frames) > 8 and blank_frames(frames, box, page.viewport_size) == 0  # not one blank map frame
    assert page.locator(".moe-map canvas").count() == 1  # one canvas, repainted, never remounted
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


def test_clicking_a_point_while_playing_inspects_it_within_half_a_second(page):
    play(page)
    x, y, index = page.evaluate(POINT_JS, 3)
    page.evaluate(CLICK_TO_TEXT_JS, f"Point #{index}:")  # its class and whether the model is right
    page.mouse.click(x, y)
    page.get_by_text(f"Point #{index}:").wait_for(timeout=10_000)
    elapsed = page.evaluate("window.moeClick.shown - window.moeClick.at")  # milliseconds
    assert elapsed < 500, f"the click took {elapsed:.0f} ms to inspect"
    page.get_by_text(f"Gate scores for point #{index}").wait_for(timeout=10_000)
    page.get_by_text("Combined, in logits:").wait_for(timeout=10_000)  # two classes: the sum in logits
    assert page.get_by_role("button", name="Pause").is_enabled()  # still training
    page.screenshot(path=ARTIFACTS / "browser-inspect.png")
    assert exception_boxes(page) == 0


def test_clicking_a_point_while_paused_inspects_it(page):
    play(page)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").and_(page.locator(":enabled")).wait_for(timeout=30_000)
    x, y, index = page.evaluate(POINT_JS, 5)
    page.mouse.click(x, y)
    page.get_by_text(f"Point #{index}:").wait_for(timeout=10_000)
    page.get_by_text(f"Gate scores for point #{index}").wait_for(timeout=10_000)
    assert exception_boxes(page) == 0


def test_paused_the_timeline_redraws_the_map_at_a_past_step_until_back_to_live(page):
    play(page, past=500)
    page.get_by_role("button", name="Pause").click()
    timeline = page.get_by_role("slider", name="Timeline")
    timeline.wait_for(state="attached", timeout=30_000)
    now = page.evaluate(STEP_JS)
    page.wait_for_function(f"(n) => ({MAP_STEP_JS})() === n", arg=now, timeout=30_000)
    timeline.focus()
    for _ in range(5):  # five recorded snapshots back
        page.keyboard.press("ArrowLeft")
    page.get_by_role("button", name="Back to live").wait_for(timeout=30_000)
    # The map and the line above it agree on one past step (each key press redraws both, one after the other).
    agree = f"""(n) => {{
      const step = ({MAP_STEP_JS})();
      return step !== null && step < n
        && document.body.innerText.includes(`step ${{step.toLocaleString('en-US')}} · replay: the run as it was then`);
    }}"""
    page.wait_for_function(agree, arg=now, timeout=30_000)
    page.screenshot(path=ARTIFACTS / "browser-replay.png")
    page.get_by_role("button", name="Back to live").click()
    page.wait_for_function(f"(n) => ({MAP_STEP_JS})() === n", arg=now, timeout=30_000)
    assert page.evaluate(STEP_JS) == now and exception_boxes(page) == 0


def test_the_downloaded_flip_book_opens_offline_with_its_frames(browser, server, tmp_path):
    page = open_app(browser, server.url, height=720, width=1280)
    play(page, past=500)
    page.get_by_role("button", name="Pause").click()
    page.get_by_text("Save and share").click()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download the flip-book (HTML)").click()
    assert download.value.suggested_filename == "moe-explorer-run1-flipbook.html"
    path = tmp_path / "flipbook.html"
    download.value.save_as(path)
    page.close()
    book = browser.new_page(viewport={"width": 1280, "height": 720})
    book.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    book.goto(path.as_uri())
    frames = "() => document.querySelector('.plotly-graph-div')?._transitionData?._frames?.length"
    book.wait_for_function(f"() => ({frames})() > 1", timeout=30_000)
    assert 2 < book.evaluate(frames) <= 40
    book.get_by_text("▶ Play").click()
    book.wait_for_function("() => !document.querySelector('.gtitle').textContent.endsWith('step 0')", timeout=30_000)
    book.screenshot(path=ARTIFACTS / "browser-flipbook.png")
    book.close()


def test_a_changed_setting_goes_into_the_link_which_reopens_it_and_survives_a_reload(browser, server):
    page = open_app(browser, server.url)
    page.locator('input[aria-label="Experts"]').focus()
    page.keyboard.press("ArrowRight")  # one step: 5 experts
    page.wait_for_function("() => location.search.includes('model.n_experts=5')", timeout=30_000)
    link = page.url
    experts = """() => document.querySelector('input[aria-label="Experts"]')?.value === '5'"""
    page.reload()
    page.get_by_role("button", name="Play").wait_for(timeout=90_000)
    page.wait_for_function(experts, timeout=30_000)
    other = open_app(browser, link)
    other.wait_for_function(experts, timeout=30_000)
    assert "model.n_experts=5" in other.url
    page.close()
    other.close()


def test_on_a_projector_the_map_is_above_the_fold_and_every_button_label_is_whole(browser, server):
    page = open_app(browser, server.url, height=720, width=1280)
    top = page.locator(".moe-map canvas").bounding_box()["y"]
    assert top < 720 * 0.6
    for name in ("Play", "Pause", "Step", "Reset", "New seed"):
        button = page.get_by_role("button", name=name, exact=True)
        assert button.inner_text().strip().endswith(name)  # the whole label, not "P…"
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth + 1")
    page.screenshot(path=ARTIFACTS / "browser-1280.png")
    present = open_app(browser, f"{server.url}/?view.present=1", height=720, width=1280)
    canvas = present.locator(".moe-map canvas").bounding_box()
    assert canvas["y"] + canvas["height"] <= 720  # the whole map on the screen
    assert not present.locator('section[data-testid="stSidebar"]').is_visible()
    present.screenshot(path=ARTIFACTS / "browser-present-1280.png")
    page.close()
    present.close()


def test_an_upload_while_playing_pauses_switches_to_the_file_and_says_what_it_loaded(page):
    play(page)
    page.get_by_text("Upload CSV").click()
    page.locator('section[data-testid="stSidebar"] input[type="file"]').first.set_input_files(str(SAMPLE))
    page.get_by_text("Loaded regression.csv: regression, 2 features, 400 rows (target y).").wait_for(timeout=30_000)
    page.get_by_role("button", name="Play").and_(page.locator(":enabled")).wait_for(timeout=30_000)
    page.wait_for_function("() => location.search.includes('data.name=csv')", timeout=30_000)  # the link follows
    assert page.evaluate(STEP_JS) == 0  # a new run on the file, waiting for Play
    page.screenshot(path=ARTIFACTS / "browser-upload.png")
    assert exception_boxes(page) == 0


def test_the_downloaded_configuration_is_the_setup_of_the_link(browser, server):
    cfg = RunConfig().replace(**{"model.n_experts": 6, "model.router": "switch", "train.lr": 0.003})
    page = open_app(browser, f"{server.url}/?{urlencode(url_state.encode(cfg.flat(), {}))}")
    page.get_by_text("Save and share").click()
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download the configuration (JSON)").click()
    assert download.value.suggested_filename == "moe-explorer-run.json"
    assert RunConfig.from_json(Path(download.value.path()).read_text()) == cfg
    page.close()


def test_a_small_sweep_runs_to_its_table_and_the_train_page_keeps_its_settings(browser, server):
    page = open_app(browser, f"{server.url}/?model.n_experts=5")
    page.get_by_role("link", name="Sweep").click()
    page.get_by_role("button", name="Run the sweep").wait_for(timeout=60_000)
    page.get_by_label("Steps per run").fill("20")
    page.get_by_label("Steps per run").press("Enter")
    page.get_by_role("button", name="Run the sweep").click()
    page.get_by_text("Summary per combination").wait_for(timeout=120_000)
    page.get_by_role("button", name="Download the runs (CSV)").wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('.moe-figure').length >= 3", timeout=30_000)
    page.screenshot(path=ARTIFACTS / "browser-sweep.png")
    assert exception_boxes(page) == 0
    page.get_by_role("link", name="Train").click()
    experts = """() => document.querySelector('input[aria-label="Experts"]')?.value === '5'"""
    page.wait_for_function(experts, timeout=60_000)
    page.close()


def test_a_second_run_added_on_the_compare_page_shows_two_maps_side_by_side(browser, server):
    page = open_app(browser, server.url)
    page.get_by_role("link", name="Compare").click()
    page.get_by_role("button", name="Add the run").click()  # balancing off, the rest the same
    two_maps = """() => [...document.querySelectorAll('.moe-figure')].some(
        (gd) => (gd.layout?.title?.text || '').startsWith('Routing maps')
            && gd.data.filter((t) => t.type === 'heatmap').length === 2)"""
    page.wait_for_function(two_maps, timeout=60_000)
    page.get_by_role("button", name="Play these runs").click()
    page.get_by_role("button", name="Pause").and_(page.locator(":enabled")).wait_for(timeout=30_000)
    page.get_by_role("button", name="Pause").click()
    page.screenshot(path=ARTIFACTS / "browser-compare.png")
    assert exception_boxes(page) == 0
    page.close()


def _cpu_rate(server, seconds: float = 1.0) -> float:
    """The server process's CPU seconds per second over a short window."""
    before = server.cpu_seconds()
    time.sleep(seconds)  # a measuring window, not a wait for state
    return (server.cpu_seconds() - before) / seconds


def test_closing_a_playing_tab_stops_its_training(browser, server):
    # The worker trains in a thread of the server; when the tab's session is released, the thread must
    # stop, which shows as the server going idle.
    page = open_app(browser, server.url)
    play(page, past=100)
    assert _cpu_rate(server) > 0.5  # training takes about a core
    page.close()
    deadline = time.monotonic() + 30
    while _cpu_rate(server) > 0.2:
        assert time.monotonic() < deadline, "the server kept training after the tab closed"
