"""Components that draw in place (Streamlit's components v2): the routing map on a canvas, and Plotly
figures updated through Plotly.react. A chart sent again is repainted in the same element, so a live
page never shows a blank frame and keeps zoom and hover; st.plotly_chart remounts a changed figure.

Each component's JavaScript lives beside this file; `plotly_loader.js` gives the page plotly.js once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import plotly.graph_objects as go
import plotly.offline
import streamlit as st

HERE = Path(__file__).resolve().parent
PLOTLY_SENT = "ui.plotly_sent"


def _source(name: str) -> str:
    return (HERE / name).read_text()


_map = st.components.v2.component(
    "moe_live_map",
    js=_source("map_input.js") + _source("live_map.js"),  # one module: the input handlers, then the map
    css=_source("live_map.css"),
    isolate_styles=False,
)
_figure = st.components.v2.component("moe_live_figure", js=_source("live_figure.js"), isolate_styles=False)
_loader = st.components.v2.component("moe_plotly", js=_source("plotly_loader.js"), isolate_styles=False)


@cache
def _plotly_js() -> dict:
    return {"source": plotly.offline.get_plotlyjs()}


def _ask_again() -> None:
    st.session_state[PLOTLY_SENT] = False


def ensure_plotly() -> None:
    """Send plotly.js to this page once (a few MB, once per session), and again if the page asks."""
    sent = st.session_state.get(PLOTLY_SENT, False)
    _loader(key="plotly", data=None if sent else _plotly_js(), on_missing_change=_ask_again, height=0)
    st.session_state[PLOTLY_SENT] = True


def figure(fig: go.Figure, key: str) -> None:
    """A Plotly figure, updated in place; its layout height is the element's height."""
    data = {"figure": json.loads(fig.to_json()), "revision": st.session_state.get(f"{key}:revision", 0) + 1}
    st.session_state[f"{key}:revision"] = data["revision"]
    _figure(key=key, data=data, height=int(fig.layout.height))


def live_map(spec: dict, key: str, on_click: Callable[[dict], None]) -> None:
    """The routing map (spec from figures.routing_map.routing_map); `on_click` gets {x, y, index} of a click."""

    def clicked() -> None:
        # A click that lands as the map is replaced (a new run, an upload) finds no state for it: it
        # is dropped, as a click on a page being redrawn is.
        state = st.session_state.get(key)
        event = state.get("click") if state is not None else None
        if event:
            on_click(event)

    _map(key=key, data=spec, on_click_change=clicked)


_shortcuts = st.components.v2.component("moe_shortcuts", js=_source("shortcuts.js"), isolate_styles=False)


def shortcuts(keys: dict[str, str], key: str, on_press: Callable[[str], None]) -> None:
    """Keyboard shortcuts on the page: a key of `keys` (its `KeyboardEvent.key`: " ", "s", "ArrowLeft")
    calls `on_press` with its action, unless the user is typing in a field. Each press counts once:
    a rerun that hands the same trigger back (one asked from a fragment, say) is not a second press."""

    def pressed() -> None:
        state = st.session_state.get(key)
        event = state.get("press") if state is not None else None
        if event and event.get("id") != st.session_state.get(f"{key}:last"):
            st.session_state[f"{key}:last"] = event.get("id")
            on_press(str(event.get("action")))

    _shortcuts(key=key, data={"keys": keys}, on_press_change=pressed, height=0)


_centres = st.components.v2.component("moe_centres_editor", js=_source("centres_editor.js"), isolate_styles=False)


def centres_editor(data: dict, key: str, on_change: Callable[[str], None]) -> None:
    """The drawn dataset's centres on a square of the plane, edited with the mouse (data: text, limit,
    spread, max; see centres_editor.js); `on_change` gets the centres' new text after each edit."""

    def changed() -> None:
        state = st.session_state.get(key)
        text = state.get("change") if state is not None else None
        if text:
            on_change(str(text))

    _centres(key=key, data=data, on_change_change=changed)
