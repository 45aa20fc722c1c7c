"""A classroom's layout check, on a running app page: every chart's text that is cut, covered by another
text or smaller than 14 px, every cut button label, the routing map's legends, and charts never drawn.

The measure is one `page.evaluate` of layout.js (beside this file): Plotly charts (the in-place
component's and st.plotly_chart's) from their SVG text boxes, rotation included; the routing map, a
canvas, from the texts one repaint of it draws. `measure` turns it into a `Report`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

from devtools.browser import STEP_JS

LAYOUT_JS = (Path(__file__).with_name("layout.js")).read_text()
# What each kind of problem means, in the order a report lists them.
KINDS = {
    "clipped": "clipped label (outside its chart, cut by a clip or a box, or shortened)",
    "overlap": "two texts of one chart on top of each other",
    "small": "chart text under 14 px",
    "button": "button label cut",
    "legend": "markers or colours without a legend",
    "undrawn": "a chart's frame with nothing drawn in it",
}
# Each redraw of a Plotly chart or of the map changes this; it stays put once the page has settled.
DRAWN_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(
  (gd) => `${gd.dataset.revision || ''}:${gd.querySelectorAll('svg text').length}`).join()
  + '|' + [...document.querySelectorAll('.moe-map')].map((m) => m.dataset.drawn).join()"""
# What scrolls the main page: Streamlit scrolls a section beside the sidebar, not the window.
SCROLLER = """const scroller = () => {
  let box = document.querySelector('.stMainBlockContainer');
  while (box && !(box.scrollHeight > box.clientHeight + 1 && /auto|scroll/.test(getComputedStyle(box).overflowY)))
    box = box.parentElement;
  return box || document.scrollingElement;
};
const frames = (n) => new Promise((done) => {
  const tick = () => (n-- > 0 ? requestAnimationFrame(tick) : done());
  tick();
});"""
# Scrolls the main page a screen at a time to the bottom and back, a few frames at each stop, so that
# every chart is laid out and drawn.
SCROLL_JS = f"""async () => {{
  {SCROLLER}
  const box = scroller();
  for (let y = 0; y < box.scrollHeight; y += box.clientHeight * 0.8) {{ box.scrollTop = y; await frames(3); }}
  box.scrollTop = 0;
  await frames(3);
  return box.scrollHeight;
}}"""


@dataclass(frozen=True)
class Problem:
    kind: str  # a key of KINDS
    chart: str  # the chart's title, with its element key where it has one
    text: str  # the text involved ("a | b" for an overlap)
    detail: str  # by how much, or why

    def __str__(self) -> str:
        return f"[{self.kind}] {self.chart}: {self.text!r} ({self.detail})"


@dataclass(frozen=True)
class Report:
    state: str  # which page state was measured ("1024x768 sidebar open, paused")
    charts: tuple[str, ...]  # every chart measured
    problems: tuple[Problem, ...]

    def count(self, kind: str) -> int:
        return sum(p.kind == kind for p in self.problems)

    def counts(self) -> dict[str, int]:
        found = Counter(p.kind for p in self.problems)
        return {kind: found[kind] for kind in KINDS}

    def describe(self) -> str:
        """One line per problem, under a line with the counts: a failure message a person can act on."""
        head = f"{self.state}: {len(self.charts)} charts; " + ", ".join(f"{n} {k}" for k, n in self.counts().items())
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


def _name(chart: dict) -> str:
    return f"{chart['title']} [{chart['key']}]" if chart["key"] else chart["title"]


def measure(page: Page, state: str = "") -> Report:
    """The page's layout problems as drawn now (scroll to the top first: the map sizes itself by it)."""
    found = page.evaluate(LAYOUT_JS)
    charts = [c for c in found["charts"] if c["title"] != "page"]
    problems = tuple(
        Problem(p["kind"], _name(c), p["text"], p["detail"]) for c in found["charts"] for p in c["problems"]
    )
    return Report(state or "{}x{}".format(*found["viewport"]), tuple(map(_name, charts)), problems)


def settle(page: Page, quiet_ms: int = 800, timeout_ms: int = 20_000) -> None:
    """Wait until no chart or map has redrawn for `quiet_ms` (a paused page's last updates have landed)."""
    page.evaluate(
        """async ([js, quiet, limit]) => {
          const drawn = eval(js), start = performance.now();
          let last = drawn(), since = performance.now();
          while (performance.now() - start < limit) {
            await new Promise((done) => setTimeout(done, 100));
            const now = drawn();
            if (now !== last) { last = now; since = performance.now(); }
            else if (performance.now() - since >= quiet) return;
          }
        }""",
        [DRAWN_JS, quiet_ms, timeout_ms],
    )


def scroll_through(page: Page) -> int:
    """Scroll the page to its bottom and back to the top; returns its scroll height in pixels."""
    return page.evaluate(SCROLL_JS)


def play(page: Page, past: int) -> None:
    """Press Play and wait until the step counter is past `past`."""
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(f"() => ({STEP_JS})() > {past}", timeout=90_000)


def pause(page: Page) -> int:
    """Press Pause and wait for the paused page to settle; returns the step it paused at."""
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Play", exact=True).and_(page.locator(":enabled")).wait_for(timeout=30_000)
    settle(page)
    return page.evaluate(STEP_JS)


def play_then_pause(page: Page, past: int = 300) -> int:
    """Play the run past `past` steps and pause; returns the step."""
    play(page, past)
    return pause(page)


def close_sidebar(page: Page) -> None:
    """Close the sidebar with its own button (it shows while the pointer is over the sidebar)."""
    page.locator('section[data-testid="stSidebar"]').hover()
    page.locator('[data-testid="stSidebarCollapseButton"] button').click()
    page.locator('[data-testid="stExpandSidebarButton"]').wait_for(timeout=30_000)
    settle(page)


def present(page: Page) -> None:
    """Switch the Train page's Present toggle on and wait for the enlarged page."""
    page.get_by_role("switch", name="Present").check(force=True)  # the input under Streamlit's drawn switch
    page.locator('section[data-testid="stSidebar"]').wait_for(state="hidden", timeout=30_000)
    settle(page)
