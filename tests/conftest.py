"""Fixtures several test modules share."""

import pytest

from devtools.browser import chromium
from moe_explorer_app.worker import Worker


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test module: Playwright's sync API runs one at a time (a
    second started while the first lives fails: "using Playwright Sync API inside the asyncio loop")."""
    with chromium() as b:
        yield b


@pytest.fixture
def worker():
    w = Worker()
    yield w
    w.stop()
