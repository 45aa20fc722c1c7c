"""What a user sees: map redraws per second and training steps per second with the page open.

Starts `streamlit run app`, opens it in headless Chromium on this machine (so the browser competes
with training for the same cores, as on a teacher's laptop), presses Play and counts for a while.
Rows: the default settings, and 64 experts. Prints a table; `--json` adds one JSON line at the end.

    python benchmarks/bench_app.py [--seconds 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from devtools.browser import REDRAWS_JS, STEP_JS, chromium, open_app, streamlit_server


def _set_experts(page, n: int) -> None:
    slider = page.locator('input[aria-label="Experts"]')
    slider.focus()
    for _ in range(abs(n - 4)):
        page.keyboard.press("ArrowRight" if n > 4 else "ArrowLeft")
    page.wait_for_function("(n) => document.body.innerText.includes(n + ' experts')", arg=n, timeout=60_000)


def measure(browser, url: str, n_experts: int, seconds: float) -> dict:
    page = open_app(browser, url, height=1000)
    try:
        if n_experts != 4:
            _set_experts(page, n_experts)
        page.get_by_role("button", name="Play").click()
        page.wait_for_function(f"() => ({STEP_JS})() > 0", timeout=60_000)
        page.wait_for_timeout(3000)  # past the first redraws of every chart
        start_step, start = page.evaluate(STEP_JS), time.monotonic()
        redraws = page.evaluate(REDRAWS_JS, int(seconds * 1000))
        steps = page.evaluate(STEP_JS) - start_step
        elapsed = time.monotonic() - start
        page.get_by_role("button", name="Pause").click()
        return {
            "experts": n_experts,
            "map_redraws_per_s": round(redraws / seconds, 2),
            "steps_per_s": round(steps / elapsed, 1),
            "seconds": round(elapsed, 1),
        }
    finally:
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with streamlit_server() as server, chromium() as browser:
        for n in (4, 64):
            rows.append(measure(browser, server.url, n, args.seconds))
    print(f"{'experts':>8} {'map redraws/s':>14} {'steps/s':>9}   (default settings otherwise; page open in Chromium)")
    for row in rows:
        print(f"{row['experts']:>8} {row['map_redraws_per_s']:>14.1f} {row['steps_per_s']:>9.0f}")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
