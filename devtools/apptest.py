"""The app under Streamlit's AppTest: the page opened (from a link, if given) and its active run."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


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
