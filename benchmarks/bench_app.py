"""What a user sees: painted frames, map updates, blank map frames and training speed with the page open.

Starts `streamlit run app`, opens it in headless Chromium on this machine (so the browser competes
with training for the same cores, as on a teacher's laptop), presses Play and records every frame
Chromium paints (its screencast) while counting how often the map's data changes and how many steps
the page trains. A frame is blank when the map's area in it is all but empty. Rows: the default
settings and 64 experts, at 1280 x 720 (a projector) and 1600 x 1000.

    python benchmarks/bench_app.py [--seconds 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from devtools.browser import MAP_CHANGES_JS, STEP_JS, blank_frames, chromium, open_app, record_frames, streamlit_server

VIEWPORTS = ((1280, 720), (1600, 1000))
# The wall-clock time of the page's next click, as the browser received it (not when Playwright began
# its own checks before clicking); browser and server share this machine's clock.
CLICK_CLOCK_JS = """() => document.addEventListener('click', () => { window.moeClickedAt = Date.now(); },
                                                      {capture: true, once: true})"""


def measure(browser, url: str, n_experts: int, seconds: float, viewport: tuple[int, int]) -> dict:
    width, height = viewport
    page = open_app(browser, f"{url}/?model.n_experts={n_experts}", height=height, width=width)
    try:
        page.get_by_role("button", name="Play").click()
        page.wait_for_function(f"() => ({STEP_JS})() > 0", timeout=60_000)
        page.wait_for_timeout(3000)  # past the first redraws of every chart
        box = page.locator(".moe-map canvas").bounding_box()
        start_step, start = page.evaluate(STEP_JS), time.monotonic()
        changes: list[int] = []
        frames = record_frames(page, seconds, lambda p: changes.append(p.evaluate(MAP_CHANGES_JS, seconds * 1000)))
        steps = page.evaluate(STEP_JS) - start_step
        elapsed = time.monotonic() - start
        page.get_by_role("button", name="Pause").click()
        return {
            "viewport": f"{width}x{height}",
            "experts": n_experts,
            "painted_per_s": round(len(frames) / seconds, 1),
            "map_changes_per_s": round(changes[0] / seconds, 1),
            "blank_frames": blank_frames(frames, box, {"width": width, "height": height}),
            "frames": len(frames),
            "steps_per_s": round(steps / elapsed),
        }
    finally:
        page.close()


def pause_latency(browser, url: str, server, sessions: int = 3, tries: int = 6) -> list[float]:
    """Seconds from a click on Pause to the worker's pause (the server's log), with `sessions` pages
    playing at once on this machine."""
    pages = [open_app(browser, url, height=720, width=1280) for _ in range(sessions)]
    try:
        for page in pages:
            page.get_by_role("button", name="Play").click()
        for page in pages:
            page.wait_for_function(f"() => ({STEP_JS})() > 100", timeout=90_000)
        page.wait_for_timeout(3000)  # every session redrawing at its shared rate
        delays = []
        for i in range(tries):
            page = pages[i % sessions]
            before = len(server.pauses())
            page.evaluate(CLICK_CLOCK_JS)
            page.get_by_role("button", name="Pause").click()
            page.get_by_role("button", name="Play").and_(page.locator(":enabled")).wait_for(timeout=30_000)
            delays.append(server.pauses()[before] - page.evaluate("window.moeClickedAt") / 1000)
            page.get_by_role("button", name="Play").click()
            page.wait_for_timeout(1500)  # playing again before the next try
        return delays
    finally:
        for page in pages:
            page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with streamlit_server() as server, chromium() as browser:
        for viewport in VIEWPORTS:
            for n in (4, 64):
                rows.append(measure(browser, server.url, n, args.seconds, viewport))
        delays = pause_latency(browser, server.url, server)
    print(f"{'viewport':>9} {'experts':>7} {'painted/s':>9} {'map data/s':>10} {'blank':>9} {'steps/s':>8}")
    for r in rows:
        blank = f"{r['blank_frames']}/{r['frames']}"
        print(
            f"{r['viewport']:>9} {r['experts']:>7} {r['painted_per_s']:>9.1f} {r['map_changes_per_s']:>10.1f} "
            f"{blank:>9} {r['steps_per_s']:>8}"
        )
    print(
        f"three sessions playing: Pause stopped training {min(delays):.2f}-{max(delays):.2f} s after the click "
        f"(median {sorted(delays)[len(delays) // 2]:.2f}, {len(delays)} tries)"
    )
    if args.json:
        print(json.dumps({"rows": rows, "pause_seconds": delays}))


if __name__ == "__main__":
    main()
