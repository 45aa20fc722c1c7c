"""The drawn dataset's centres in the sidebar: the editor on a square of the plane (components.centres_editor),
a caption saying how to use it, and the text it writes (`data.centres`), which a person may also type."""

from __future__ import annotations

import streamlit as st

from moe_core.datasets.centres import LIMIT, MAX_CENTRES, centres_problem
from moe_explorer_app.ui import components, widget_state

KEY = "data.centres"
EDITOR = "ui.centres_editor"
HOW = (
    "Click the square to add a centre of the class chosen above (Shift-click: the other class), drag one to "
    "move it, double-click or right-click it to delete it; the running model trains on the new points at once."
)


def _edited(text: str) -> None:
    widget_state.assign({KEY: text})


def editor(current: dict) -> None:
    """The editor and its caption, above the centres' text field."""
    text = current[KEY]
    data = {"text": None if centres_problem(text) else text, "limit": LIMIT, "spread": current["data.noise"],
            "max": MAX_CENTRES}  # fmt: skip
    components.centres_editor(data, EDITOR, _edited)
    st.caption(HOW)
