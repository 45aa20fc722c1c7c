"""The app under Streamlit's AppTest: the page opened (from a link, if given), one page run alone,
the figures drawn, and the active run."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


def run_script(script: str) -> AppTest:
    """A script (one page of the app, with what it needs) after its first run."""
    app = AppTest.from_string(script, default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


def figure_titles(at: AppTest) -> list[str]:
    """The titles of the Plotly figures on the page (drawn by the in-place figure component)."""
    return [
        json.loads(e.proto.json)["figure"]["layout"]["title"]["text"]
        for e in at.get("bidi_component")
        if e.proto.component_name == "moe_live_figure"
    ]


def open_page(params: dict[str, str] | None = None) -> AppTest:
    """The page after its first run, opened at a link with these query parameters."""
    app = AppTest.from_file(APP, default_timeout=90)
    for key, value in (params or {}).items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, app.exception
    return app


def active_run(at: AppTest):
    return at.session_state["runs"].active


def kept_runs(at: AppTest) -> list:
    return at.session_state["runs"].runs
