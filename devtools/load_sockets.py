"""Load sessions as protocol sockets (devtools/streamlit_client.py): the same cycle as the browser
pages, without a browser, so that thirty of them measure the server rather than thirty Chromiums.
Each session opens the app with its own expert count, presses Play, then in turn starts a new seed,
changes the learning rate while training, uploads a CSV, or clicks the map, and pauses.
"""

from __future__ import annotations

import asyncio
import json
import time

from devtools.load_report import SAMPLES, SessionReport, experts_of, failure, settled_step, start_query
from devtools.streamlit_client import AppSession

LEARNING_RATE = "Learning rate"
MAP = "moe_live_map"


async def session(url: str, index: int, seconds: float, watch: float = 1.0) -> SessionReport:
    experts = experts_of(index)
    report = SessionReport(index, experts)
    app = AppSession(url, start_query(index))
    try:
        await app.open()
        await app.wait_for(lambda: app.button("Play"), 180, "the Play button")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await _cycle(app, report, watch)
            report.cycles += 1
        names = run_names(app)
        report.own_runs_only = bool(names) and all(f"{experts} experts" in name for name in names)
        if app.exceptions():
            report.errors.append(f"session {index}: an exception box on the page")
    except Exception as err:  # the report says what went wrong; the load goes on for the other sessions
        shown = " | ".join(e.alert.body for e in app.elements.values() if e.WhichOneof("type") == "alert")
        report.errors.append(failure(index, err, shown))
    finally:
        await app.close()
    return report


async def _cycle(app: AppSession, report: SessionReport, watch: float) -> None:
    """Play; a new seed, a new learning rate, an upload or a map click (in turn); watch it train for
    `watch` seconds; pause."""
    if app.button("Pause"):  # still playing: the last Pause has not shown yet
        await _pause(app, report)
    start = max(app.step(), 0)  # a run still at step 0 would be replaced by a new seed, not kept
    await app.click("Play")
    await app.wait_for(lambda: app.step() > start, 90, "training to start")
    action, trained = report.cycles % 4, app.step()
    if action == 0:  # a new run, the newest in the list
        shown = run_names(app)
        await app.click("New seed")
        await app.wait_for(lambda: run_names(app)[:1] != shown[:1], 90, "the new seed's run")
    elif action == 1:  # a live setting: the same run trains on
        await app.set_slider(LEARNING_RATE, report.cycles // 4 % 5)
    elif action == 2:  # a new run on the file, waiting for Play
        sample = SAMPLES[report.cycles // 4 % len(SAMPLES)]
        await app.upload("CSV file", sample)
        await app.wait_for(lambda: any(f"Loaded {sample.name}" in t for t in app.texts()), 90, "the upload")
    else:
        points = (await app.wait_for(lambda: map_data(app), 30, "the map"))["points"]
        k = report.cycles // 4 % len(points["x"])  # a different point each time: the inspector must change
        index = points["index"][k]
        await app.component_event(MAP, "click", {"x": points["x"][k], "y": points["y"][k], "index": index})
        await app.wait_for(lambda: any(f"Point #{index}" in t for t in app.texts()), 30, "the inspector")
    if action in (0, 2):  # a new run: the old one's steps are counted up to the action
        report.steps += max(0, trained - start)
        start = 0
    if app.button("Play"):
        await app.click("Play")
        await app.wait_for(lambda: app.step() > 0, 90, "the new run to train")
    watched, watched_from = time.monotonic(), app.step()
    await asyncio.sleep(watch)
    paused = await _pause(app, report)
    report.steps += max(0, paused - start)
    report.watch_seconds += time.monotonic() - watched  # playing, with no action waiting on the page
    report.watch_steps += max(0, paused - watched_from)


async def _step(app: AppSession) -> int:
    return app.step()


def run_names(app: AppSession) -> list[str]:
    """The runs the page keeps, newest first."""
    return next((list(s.options) for s in app.widgets("selectbox") if s.label == "Run"), [])


def map_data(app: AppSession) -> dict | None:
    """What the live map was last given (its points, grid and legend), or None before it is drawn."""
    component = next((c for c in app.widgets("bidi_component") if c.component_name.endswith(MAP)), None)
    return json.loads(component.json) if component is not None and component.json else None


async def _pause(app: AppSession, report: SessionReport) -> int:
    """Press Pause and wait until Play is offered again; the click's time and the step the page settles
    at go into the report. Returns that step."""
    clicked = time.time()
    await app.click("Pause")
    await app.wait_for(lambda: app.button("Play"), 30, "Play after Pause")
    report.shown_latency.append(time.time() - clicked)
    step = await settled_step(lambda: _step(app))
    report.pause_clicks.append((clicked, step))
    return step


async def run_sockets(url: str, sessions: int, seconds: float, watch: float = 1.0) -> list[SessionReport]:
    """`sessions` sockets at once, each cycling for about `seconds`, then closed."""
    return list(await asyncio.gather(*(session(url, i, seconds, watch) for i in range(sessions))))
