"""Fixtures several test modules share."""

import pytest

from moe_explorer_app.worker import Worker


@pytest.fixture
def worker():
    w = Worker()
    yield w
    w.stop()
