"""The collapse watch and the inspector in the real page (`streamlit run app`, Playwright in Chromium):
a run without balancing says which expert took which clusters and since when; a clicked point's sum is
written in logits, adds up on screen, and its table is whole at 1280 x 720 and 1024 x 768.
Screenshots go to test-artifacts/live/.
"""

from urllib.parse import urlencode

import pytest

from devtools.browser import POINT_JS, ROOT, STEP_JS, exception_boxes, open_app

ARTIFACTS = ROOT / "test-artifacts" / "live"
MINUS = "\u2212"
# The inspector table's scroller: wider content than its box means a column is cut.
TABLE_CUT_JS = """() => {
  const s = document.querySelector('[data-testid="stDataFrame"] .dvn-scroller');
  return s ? s.scrollWidth - s.clientWidth : null;
}"""


def step_to(page, button: str, past: int) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_function(f"() => ({STEP_JS})() >= {past}", timeout=120_000)


def test_without_balancing_the_watch_names_the_expert_its_clusters_and_the_step_it_began(browser, server):
    page = open_app(browser, f"{server.url}/?{urlencode({'model.balance': 'none'})}", height=720, width=1280)
    step_to(page, "×100", 100)
    said = page.get_by_text("Collapse: E0 takes clusters 1 and 2")
    said.wait_for(timeout=60_000)
    assert "while E1 gets 0% of the load. It began at step 5 and has held since." in said.inner_text()
    said.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "collapse-1280x720.png")
    assert exception_boxes(page) == 0
    page.close()


def number(text: str) -> float:
    return float(text.replace(MINUS, "-").strip("()"))


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1024, 768)])
def test_a_clicked_points_sum_is_in_logits_adds_up_and_its_table_is_whole(browser, server, width, height):
    link = {"model.top_k": "2", "model.shared_experts": "1", "model.combine": "attention"}  # the widest table
    page = open_app(browser, f"{server.url}/?{urlencode(link)}", height=height, width=width)
    step_to(page, "×10", 10)
    point = None
    while point is None:
        point = page.evaluate(POINT_JS, 3)
    page.mouse.click(point[0], point[1])
    sentence = page.locator('[data-testid="stMarkdown"]').filter(has_text="Combined, in logits:").last
    sentence.wait_for(timeout=30_000)
    page.wait_for_selector('[data-testid="stDataFrame"] .dvn-scroller', timeout=30_000)
    text = sentence.inner_text().split(":", 1)[1].strip()
    made, total = text.split(" → ")[0].rsplit(" = ", 1)
    got, slack = 0.0, 0.005
    for term in made.split(" + "):
        if "×" in term:
            w, v = (number(x) for x in term.split(" × "))
            got, slack = got + w * v, slack + 0.0005 * abs(v) + 0.005 * w
        else:
            got, slack = got + number(term.split()[-1]), slack + 0.005
    assert abs(got - number(total)) <= slack, text
    assert page.evaluate(TABLE_CUT_JS) <= 1  # no column cut
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"inspector-{width}x{height}.png", full_page=True)
    assert exception_boxes(page) == 0
    page.close()
