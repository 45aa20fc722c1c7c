"""A screenshot tour of the app for a classroom: every screen size a lecture meets, playing and paused,
in Present, and the Lessons, Compare and Sweep pages, each with its layout report (devtools.layout).

    .venv/bin/python -m devtools.tour --out DIR

Writes DIR/<state>.png (the window) and DIR/<state>-full.png (the whole page, stitched from screens:
Streamlit scrolls a section of the page, not the window, so Playwright's full_page shot is one
screen), DIR/report.txt (every problem) and prints a table of the counts per state.
"""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page

from devtools import layout
from devtools.browser import chromium, exception_boxes, open_app, streamlit_server

# The main page's scroll height, screen height and left edge, and how far the fixed header covers it.
SCROLLER_JS = f"""() => {{
  {layout.SCROLLER}
  const box = scroller(), header = document.querySelector('header[data-testid="stHeader"]');
  const covered = header && header.offsetParent !== null ? Math.round(header.getBoundingClientRect().bottom) : 0;
  return [box.scrollHeight, box.clientHeight, Math.round(box.getBoundingClientRect().left), covered];
}}"""
SCROLL_TO_JS = f"""async (y) => {{
  {layout.SCROLLER}
  const box = scroller();
  box.scrollTop = y;
  await frames(2);
  return box.scrollTop;
}}"""


@dataclass(frozen=True)
class Screen:
    name: str  # how the state is named in file names and the table
    width: int
    height: int
    sidebar: bool = True  # open (False: closed with its button)
    present: bool = False


SCREENS = (
    Screen("1024x768-sidebar-open", 1024, 768),
    Screen("1024x768-sidebar-closed", 1024, 768, sidebar=False),
    Screen("1280x720", 1280, 720),
    Screen("1600x1000", 1600, 1000),
    Screen("1280x720-present", 1280, 720, present=True),
    Screen("1600x1000-present", 1600, 1000, present=True),
)


def full_page(page: Page, path: Path) -> None:
    """The whole scrolled page as one PNG: the first screen whole, then the main column of each next
    screen (below the fixed header) pasted at its scroll offset; the sidebar is shown once, at the top."""
    height, screen, left, covered = page.evaluate(SCROLLER_JS)
    sheet = Image.new("RGB", (page.viewport_size["width"], height), "white")
    y = 0
    while True:
        at = page.evaluate(SCROLL_TO_JS, y)
        shot = Image.open(io.BytesIO(page.screenshot()))
        box = (0, 0) if at == 0 else (left, covered)
        sheet.paste(shot.crop((*box, shot.width, shot.height)), (box[0], at + box[1]))
        if at + screen >= height:
            break
        y = at + screen - covered
    page.evaluate(SCROLL_TO_JS, 0)
    sheet.save(path)


def _capture(page: Page, out: Path, state: str, reports: dict[str, layout.Report]) -> None:
    page.evaluate(SCROLL_TO_JS, 0)
    page.screenshot(path=out / f"{state}.png")
    full_page(page, out / f"{state}-full.png")
    reports[state] = layout.measure(page, state)
    if exception_boxes(page):
        print(f"{state}: {exception_boxes(page)} exception box(es) on the page", file=sys.stderr)


def train_screens(browser: Browser, url: str, out: Path, reports: dict[str, layout.Report]) -> None:
    """Each screen while playing (past step 150) and once paused."""
    for screen in SCREENS:
        page = open_app(browser, f"{url}/?view.speed=full", height=screen.height, width=screen.width)
        if not screen.sidebar:
            layout.close_sidebar(page)
        if screen.present:
            layout.present(page)
        layout.play(page, past=150)
        layout.scroll_through(page)
        _capture(page, out, f"{screen.name}-playing", reports)
        layout.pause(page)
        layout.scroll_through(page)
        _capture(page, out, f"{screen.name}-paused", reports)
        page.close()


def other_pages(browser: Browser, url: str, out: Path, reports: dict[str, layout.Report]) -> None:
    """The Lessons page with a lesson run, Compare with a second run, Sweep after a small sweep, at 1280x720."""
    page = open_app(browser, url, height=720, width=1280)
    page.get_by_role("link", name="Lessons").click()
    page.get_by_role("button", name="Run the lesson").click()
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=180_000)
    layout.settle(page)
    _capture(page, out, "1280x720-lessons", reports)
    page.get_by_role("link", name="Compare").click()
    page.get_by_role("button", name="Add the run").click()
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    layout.settle(page)
    layout.scroll_through(page)
    _capture(page, out, "1280x720-compare", reports)
    page.get_by_role("link", name="Sweep").click()
    page.get_by_label("Steps per run").fill("20")
    page.get_by_label("Steps per run").press("Enter")
    page.get_by_role("button", name="Run the sweep").click()
    page.get_by_text("Summary per combination").wait_for(timeout=180_000)
    layout.settle(page)
    layout.scroll_through(page)
    _capture(page, out, "1280x720-sweep", reports)
    page.close()


def table(reports: dict[str, layout.Report]) -> str:
    kinds = list(layout.KINDS)
    rows = [f"{'state':34} {'charts':>6} " + " ".join(f"{k:>8}" for k in kinds)]
    for state, r in reports.items():
        counts = r.counts()
        rows.append(f"{state:34} {len(r.charts):>6} " + " ".join(f"{counts[k]:>8}" for k in kinds))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the screenshots and report.txt")
    parser.add_argument("--train-only", action="store_true", help="skip the Lessons, Compare and Sweep pages")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    reports: dict[str, layout.Report] = {}
    with streamlit_server() as server, chromium() as browser:
        try:
            train_screens(browser, server.url, args.out, reports)
            if not args.train_only:
                other_pages(browser, server.url, args.out, reports)
        finally:
            (args.out / "report.txt").write_text("\n\n".join(r.describe() for r in reports.values()) + "\n")
            print(table(reports))


if __name__ == "__main__":
    main()
