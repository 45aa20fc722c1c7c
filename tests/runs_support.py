"""Runs for the tests of runs and the worker: small ones, built as the app builds them."""

import time

from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer
from moe_explorer_app.state.runs import Run

SMALL = {"data.n_train": 300, "data.n_test": 100}


def make_run(number: int, cfg: RunConfig, with_baseline: bool) -> Run:
    baseline = Trainer(cfg.replace(**{"model.arch": "dense"})) if with_baseline else None
    run = Run(number, Trainer(cfg), baseline)
    run.snapshot()
    return run


def wait_until(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
