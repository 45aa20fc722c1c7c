"""A sweep running for the app's sweep page, in a thread of the server (no Streamlit here): it counts
its runs as they finish and, when asked, stops between units of work (a combination's batched seeds)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from moe_core.config import ConfigError, RunConfig
from moe_core.sweep import SweepResult, plan, sweep


class SweepJob:
    """Plans at once (a bad grid raises ConfigError here), then trains in the background."""

    def __init__(self, base: RunConfig, grid: Mapping[str, Sequence], seeds: int) -> None:
        self.base, self.grid, self.seeds = base, dict(grid), seeds
        self.total = len(plan(base, grid, seeds))
        self.done = 0
        self.result: SweepResult | None = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="moe-sweep", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = sweep(
                self.base,
                self.grid,
                self.seeds,
                with_history=True,
                with_map=True,
                progress=self._count,
                stop=self._stop.is_set,
            )
        except ConfigError as err:
            self.error = str(err)
        except Exception as err:  # a thread's failure must reach the page as a sentence
            self.error = f"The sweep stopped on an error: {type(err).__name__}: {err}."

    def _count(self, done: int, _total: int) -> None:
        self.done = done

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
