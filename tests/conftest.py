"""Fixtures several test modules share, and the CPU code paths every test trains with."""

from moe_core import cpu_paths

cpu_paths.pin()  # before torch loads: the same numbers on any x86 machine CI draws

import pytest
import torch

from devtools.browser import chromium, streamlit_server
from moe_explorer_app.state.worker import Worker


@pytest.fixture(autouse=True)
def _subnormals_back_on():
    """A test that runs the CLI in process flushes subnormal floats in this thread (runtime.configure),
    and Hypothesis then refuses to draw floats; each test starts with IEEE arithmetic."""
    yield
    torch.set_flush_denormal(False)


@pytest.fixture(scope="module")
def server():
    """A fresh `streamlit run app` for each browser test module, so that no module's sessions and runs
    weigh on the next one's."""
    with streamlit_server() as running:
        yield running


@pytest.fixture(scope="session")
def browser(request):
    """One headless Chromium for every browser test module: Playwright's sync API runs one at a time (a
    second started while the first lives fails: "using Playwright Sync API inside the asyncio loop")."""
    with chromium() as b:
        request.session.moe_browser = b
        yield b


@pytest.fixture(scope="module", autouse=True)
def _close_pages_left_open(request):
    """After each module, close the pages its tests left open: a page left playing keeps its session
    training and its renderer drawing, which slows every later test."""
    yield
    browser = getattr(request.session, "moe_browser", None)
    for context in list(browser.contexts) if browser is not None else []:
        context.close()


@pytest.fixture
def worker():
    w = Worker()
    yield w
    w.stop()
