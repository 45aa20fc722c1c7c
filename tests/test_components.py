"""The app's own components on a real server, driven over Streamlit's protocol (devtools/streamlit_client.py):
a click on the routing map reaches the inspector through the map's fragment; a click whose component
state Streamlit no longer holds (sent in a full run, without it) is dropped, without an error.
tests/test_browser.py clicks the map from Chromium, playing and paused."""

from devtools.browser import streamlit_server
from devtools.load_report import app_errors
from devtools.load_sockets import MAP, map_data
from devtools.streamlit_client import AppSession, run


async def _click_the_map(url: str) -> tuple[list[str], list[str], int]:
    app = AppSession(url, "model.n_experts=3")
    await app.open()
    try:
        await app.wait_for(lambda: app.button("Play"), 180, "the Play button")
        await app.click("Play")
        await app.wait_for(lambda: app.step() > 0, 90, "training")
        points = (await app.wait_for(lambda: map_data(app), 30, "the map"))["points"]
        click = {"x": points["x"][3], "y": points["y"][3], "index": points["index"][3]}
        await app.component_event(MAP, "click", click, in_fragment=False, with_state=False)
        dropped = app.texts()
        await app.component_event(MAP, "click", click)
        await app.wait_for(lambda: any(f"Point #{click['index']}" in t for t in app.texts()), 30, "the inspector")
        inspected = app.texts()
        await app.click("Pause")
        return dropped, inspected, app.exceptions()
    finally:
        await app.close()


def test_a_map_click_reaches_the_inspector_and_one_without_its_state_is_dropped():
    with streamlit_server() as server:
        dropped, inspected, exceptions = run(_click_the_map(server.url))
        errors = app_errors(server)
    assert errors == [] and exceptions == 0
    assert not any("Point #" in text for text in dropped)
    assert any("Point #" in text and "the model is" in text for text in inspected)
