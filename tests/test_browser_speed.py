"""A speed a class can follow, in the real page: `streamlit run app` driven by Playwright in Chromium.

The speed control paces Play, Step x10 trains ten steps, the keyboard plays, pauses, steps, resets and
scrubs the replay (and keeps out of the way while typing), the map stays where it is on Play and
Pause, and the toolbar wraps whole at every screen size, Present mode keeping the pace controls.
Screenshots go to test-artifacts/speed/.
"""

import pytest
from playwright.sync_api import Page

from devtools.browser import MAP_STEP_JS, ROOT, STEP_JS, exception_boxes, open_app

ARTIFACTS = ROOT / "test-artifacts" / "speed"
TOOLBAR = ".st-key-toolbar"
# The readout's step, playing or replaying: "step 1,240 · ..." (-1 before it is drawn).
SHOWN_STEP_JS = """() => {
  const lines = [...document.querySelectorAll('[data-testid="stMarkdown"]')];
  const line = lines.find(e => /^step [0-9,]+ ·/.test(e.innerText));
  return line ? parseInt(line.innerText.split(' ')[1].replace(/,/g, '')) : -1;
}"""


@pytest.fixture
def page(browser, server) -> Page:
    page = open_app(browser, server.url, height=1000, width=1600)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield page
    assert exception_boxes(page) == 0
    page.close()


def button(page: Page, name: str):
    return page.locator(TOOLBAR).get_by_role("button", name=name, exact=True)


def choose(page: Page, control: str, option: str) -> None:
    page.get_by_role("combobox", name=control).click()
    page.get_by_role("option", name=option, exact=True).click()


def wait_paused(page: Page) -> None:
    button(page, "Play").and_(page.locator(":enabled")).wait_for(timeout=30_000)


def wait_playing(page: Page) -> None:
    button(page, "Pause").and_(page.locator(":enabled")).wait_for(timeout=30_000)


def wait_step(page: Page, step: int) -> None:
    page.wait_for_function(f"(n) => ({SHOWN_STEP_JS})() === n", arg=step, timeout=30_000)


def test_at_five_steps_a_second_two_seconds_of_play_are_about_ten_steps_and_the_readout_says_five(page):
    choose(page, "Speed", "5 steps/s")
    page.wait_for_timeout(500)  # the choice's page run
    button(page, "Play").click()
    wait_playing(page)
    page.wait_for_timeout(2000)
    step = page.evaluate(STEP_JS)
    assert 7 <= step <= 16, f"{step} steps in about 2 s at 5 steps/s"
    page.get_by_text(" 5 steps/s on the cpu").wait_for(timeout=10_000)
    page.screenshot(path=ARTIFACTS / "playing-5-steps-per-second-1600.png")
    button(page, "Pause").click()
    wait_paused(page)


def test_step_ten_trains_ten_steps_and_the_keyboard_plays_pauses_steps_resets_and_scrubs(page):
    button(page, "×10").click()  # the focus stays on it: Space must not press it again
    wait_step(page, 10)
    page.keyboard.press("s")
    wait_step(page, 11)
    page.keyboard.press("ArrowLeft")  # the replay one recorded step back
    wait_step(page, 10)
    page.get_by_text("step 10 · replay: the run as it was then").wait_for(timeout=10_000)
    page.keyboard.press("ArrowRight")
    wait_step(page, 11)
    button(page, "×10").focus()
    page.keyboard.press(" ")
    wait_playing(page)
    page.wait_for_function(f"() => ({STEP_JS})() > 11", timeout=30_000)  # it trains
    page.keyboard.press(" ")
    wait_paused(page)
    page.keyboard.press("r")
    wait_step(page, 0)
    # typing in a field is typing: "s" in the sidebar's seed box trains nothing
    field = page.locator('section[data-testid="stSidebar"] input[type="number"]').first
    field.click()
    page.keyboard.press("s")
    page.wait_for_timeout(1000)  # the one deliberate wait: nothing may happen in it
    assert page.evaluate(STEP_JS) == 0 and button(page, "Play").is_enabled()


def test_the_map_stays_where_it_is_on_play_and_pause(page):
    def map_top() -> float:
        return page.evaluate("() => document.querySelector('.moe-map').getBoundingClientRect().top + scrollY")

    paused = map_top()
    button(page, "Play").click()
    wait_playing(page)
    page.wait_for_timeout(1000)
    playing = map_top()
    button(page, "Pause").click()
    wait_paused(page)
    page.get_by_role("slider", name="Timeline").wait_for(state="attached", timeout=30_000)
    page.wait_for_timeout(500)
    after = map_top()
    assert abs(playing - paused) <= 2 and abs(after - playing) <= 2, (paused, playing, after)


def test_play_for_a_hundred_steps_pauses_by_itself_and_the_toolbar_says_so(page):
    choose(page, "Then pause", "pause after 100")
    page.wait_for_timeout(500)
    button(page, "Play").click()
    wait_playing(page)
    wait_paused(page)  # by itself
    page.wait_for_function(f"() => ({MAP_STEP_JS})() === 100", timeout=30_000)
    assert page.evaluate(STEP_JS) == 100


@pytest.mark.parametrize(
    ("width", "height", "present"),
    [(1024, 768, False), (1280, 720, False), (1600, 1000, False), (1280, 720, True), (1024, 768, True)],
)
def test_the_toolbar_wraps_whole_and_present_keeps_the_pace_controls(browser, server, width, height, present):
    page = open_app(browser, f"{server.url}/?view.present={int(present)}", height=height, width=width)
    page.wait_for_timeout(1000)
    shown = {"Play", "Pause", "Step", "×10", "×100", "Reset"} | (set() if present else {"New seed"})
    for name in shown:
        label = button(page, name)
        assert label.is_visible() and label.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), name
    assert button(page, "New seed").is_visible() != present  # a new run is not a lecture's control
    assert page.get_by_role("combobox", name="Speed").is_visible()
    toolbar = page.locator(TOOLBAR).bounding_box()
    assert toolbar["x"] + toolbar["width"] <= width  # wrapped, not cut at the window's edge
    if present:
        canvas = page.locator(".moe-map canvas").bounding_box()
        assert canvas["y"] + canvas["height"] <= height + 1  # the whole map on the projector
    suffix = "present" if present else "sidebar-open"
    page.screenshot(path=ARTIFACTS / f"toolbar-{width}x{height}-{suffix}.png")
    assert exception_boxes(page) == 0
    page.close()


# The experts' tiles name each expert's load share ("E1 · 29%"): a student reads the collapse off them.
SHARES_JS = """() => {
  const texts = [...document.querySelectorAll('.st-key-thumbs text, [class*="st-key-thumbs"] text')];
  const shares = {};
  for (const t of texts) { const m = t.textContent.match(/(E\\d+) · (\\d+)%/); if (m) shares[m[1]] = +m[2]; }
  return shares;
}"""


def test_a_lecture_narrates_the_collapse_at_five_steps_a_second_and_finds_it_again_on_the_replay(browser, server):
    # The default seed without balancing: E1 holds a third of the points at step 1 and none by step 6
    # (moe_core's history of that run), so the collapse is over in about a second at the slowest pace.
    page = open_app(browser, f"{server.url}/?model.balance=none&view.speed=5", height=1000, width=1600)
    choose(page, "Then pause", "pause after 10")
    page.wait_for_timeout(500)
    button(page, "Play").click()
    wait_playing(page)
    page.wait_for_timeout(1000)
    assert page.evaluate(STEP_JS) <= 10  # a pace a teacher can speak over
    wait_paused(page)
    wait_step(page, 10)
    shares = {}
    for step in (10, 9, 8, 7, 6, 5, 4, 3, 2, 1):  # back along the replay, one recorded step a key press
        wait_step(page, step)
        page.wait_for_function(f"() => Object.keys(({SHARES_JS})()).length === 4", timeout=30_000)
        page.wait_for_timeout(300)  # the tiles of that step
        shares[step] = page.evaluate(SHARES_JS)["E1"]
        if step > 1:
            page.keyboard.press("ArrowLeft")
    assert shares[1] >= 25 and shares[6] <= 1 and shares[10] <= 1, shares  # found again: between steps 1 and 6
    page.screenshot(path=ARTIFACTS / "lecture-collapse-replayed-at-step-1.png")
    assert exception_boxes(page) == 0
    page.close()
