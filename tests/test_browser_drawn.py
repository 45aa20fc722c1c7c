"""The drawn dataset in the real page (`streamlit run app`, Playwright in Chromium): a click on the
editor adds a centre, a drag moves one, a right-click deletes one, each reaching the text field and the
running model without a restart; the dataset's name fits its box. Screenshots go to test-artifacts/drawn/.
"""

import pytest
from playwright.sync_api import Page

from devtools.browser import ROOT, STEP_JS, exception_boxes, open_app
from moe_core.datasets.centres import DEFAULT, LIMIT, parse_centres

ARTIFACTS = ROOT / "test-artifacts" / "drawn"
EDITOR = ".moe-centres"


def centres_field(page: Page) -> str:
    return page.get_by_role("textbox", name="Centres").input_value()


def wait_field(page: Page, count: int) -> list:
    page.wait_for_function(
        "(n) => { const f = document.querySelector('input[aria-label=\"Centres\"]');"
        " return f && f.value.split(';').length === n; }",
        arg=count,
        timeout=30_000,
    )
    return parse_centres(centres_field(page))


def pixel(page: Page, x: float, y: float) -> tuple[float, float]:
    """Where a point of the plane lies on the editor's square, in the window (scrolled into view)."""
    canvas = page.locator(f"{EDITOR} canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    side = box["width"]
    return box["x"] + (x + LIMIT) / (2 * LIMIT) * side, box["y"] + (LIMIT - y) / (2 * LIMIT) * side


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1024, 768)])
def test_centres_placed_dragged_and_deleted_reach_the_field_and_the_running_model(browser, server, width, height):
    page = open_app(browser, server.url, height=height, width=width)
    box = page.get_by_role("combobox", name="Dataset")
    box.click()
    page.get_by_role("option", name="Your own drawing", exact=True).click()
    page.locator(f"{EDITOR} canvas").wait_for(timeout=60_000)
    assert box.input_value() == "Your own drawing"
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the dataset's name is cut"
    assert centres_field(page) == DEFAULT
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(f"() => ({STEP_JS})() > 20", timeout=30_000)
    page.mouse.click(*pixel(page, 0.0, 0.0))  # empty space: a centre of class 0
    assert wait_field(page, 5)[-1] == (0.0, 0.0, 0)
    page.keyboard.down("Shift")  # Shift: the other class
    page.mouse.click(*pixel(page, 0.0, 2.5))
    page.keyboard.up("Shift")
    assert wait_field(page, 6)[-1] == (0.0, 2.5, 1)
    start = pixel(page, -1.5, 1.5)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 20, start[1] + 20, steps=6)
    page.mouse.up()
    field = "document.querySelector('input[aria-label=\"Centres\"]')"
    page.wait_for_function(f"() => !{field}.value.startsWith('-1.5,1.5')")
    moved = parse_centres(centres_field(page))[0]
    assert moved[0] > -1.5 and moved[1] < 1.5 and moved[2] == 0, moved  # to the lower right, its class kept
    page.mouse.click(*pixel(page, 1.5, -1.5), button="right")
    assert (1.5, -1.5, 0) not in wait_field(page, 5)
    page.get_by_text("without restarting: centres changed").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    assert page.get_by_role("button", name="Pause", exact=True).is_enabled()  # it trains on, not restarted
    page.screenshot(path=ARTIFACTS / f"drawn-{width}x{height}-playing.png")
    assert exception_boxes(page) == 0
    page.close()
