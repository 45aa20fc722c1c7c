"""A sweep running for the app's sweep page, in a thread of the server (no Streamlit here): it counts
its runs as they finish and, when asked, stops between units of work (a combination's batched seeds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from moe_core import runtime
from moe_core.experiments.sweep import SweepResult, plan, sweep
from moe_core.settings.config import ConfigError, RunConfig
from moe_explorer_app.state.background import Background


class SweepJob(Background):
    """Plans at once (a bad grid raises ConfigError here), then trains in the background."""

    def __init__(self, base: RunConfig, grid: Mapping[str, Sequence], seeds: int) -> None:
        self.base, self.grid, self.seeds = base, dict(grid), seeds
        self.total = len(plan(base, grid, seeds))
        self.done = 0
        self.result: SweepResult | None = None
        self.error: str | None = None
        super().__init__("moe-sweep")
        self._thread.start()

    def _work(self) -> None:
        runtime.flush_subnormals()  # the CPU's flag is per thread
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
