"""A session's runs; no Streamlit in here.

`RunBook` keeps a session's runs (at most MAX_RUNS, the oldest goes first) and turns the sidebar's
settings into a live change of the active run or a new run; `moe_explorer_app.state.worker` trains them.
Each run keeps its weights at its snapshots (`timeline`) for the replay.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from moe_core.errors import ConfigError
from moe_core.measure.metrics import Metrics
from moe_core.models import weights
from moe_core.settings.config import RunConfig, config_changes, run_label
from moe_core.settings.table import LIVE_KEYS
from moe_core.training.optimizers import run_optimizer
from moe_core.training.trainer import Trainer
from moe_explorer_app.state import change_notes
from moe_explorer_app.state.timeline import WeightTimeline

if TYPE_CHECKING:
    from moe_explorer_app.state.worker import Worker

MAX_RUNS = 6  # memory per session stays bounded; the oldest run goes first
# Runs across every session of one server: a class of 30 keeping their 6 runs each is 180; beyond it a new
# run is refused with a sentence rather than the server running out of memory (each run holds its data, its
# history and up to 8 MB of recorded weights).
SERVER_RUNS = 240
RATE_WINDOW = 2.0  # seconds of chunks the speed readout averages over


@dataclass(frozen=True)
class SnapshotSchedule:
    """When a run measures itself (a history row and its weights kept for the replay): every step up to
    `dense`, where routing forms and collapses, then with a gap that grows with the step (`growth` of
    it: density falling as 1/step, so a long run adds few rows), and at least every `seconds` so that
    the charts stay fresh at a slow speed. Past `dense`, a scheduled snapshot waits while measuring
    would take more than `cost_share` of the time: at full speed one costs about four steps.
    benchmarks/bench_snapshots.py measures what each choice costs in steps a second."""

    dense: int = 100
    growth: float = 0.02
    seconds: float = 0.2
    cost_share: float = 0.2

    def next_step(self, last: int) -> int:
        """The step of the next scheduled snapshot after one at step `last`."""
        return last + 1 if last < self.dense else last + max(1, int(last * self.growth))

    def due(self, step: int, last: int, waited: float, cost: float) -> bool:
        """Whether to measure at `step`, `waited` seconds after the last snapshot (at step `last`,
        which took `cost` seconds)."""
        if step == last:
            return False
        if waited >= self.seconds:
            return True
        if step < self.next_step(last):
            return False
        return step <= self.dense or cost * (1 - self.cost_share) <= waited * self.cost_share


@dataclass
class Run:
    """One training run: the MoE, its dense baseline of equal size, and what the page needs to show it."""

    number: int
    trainer: Trainer
    baseline: Trainer | None
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock: Callable[[], float] = time.perf_counter
    timeline: WeightTimeline = field(default_factory=WeightTimeline)
    _rate: deque = field(default_factory=lambda: deque(maxlen=64))  # (time, step) after each chunk
    _rate_lock: threading.Lock = field(default_factory=threading.Lock)
    schedule: SnapshotSchedule = field(default_factory=SnapshotSchedule)
    _last_snapshot: float = float("-inf")  # when the last snapshot ended (the run's clock)
    _snapshot_step: int = -1  # and at which step
    _snapshot_cost: float = 0.0  # and how long it took
    fault: str | None = None  # why the worker stopped training it, when training raised; cleared by Play
    live: Run | None = None  # for a run replayed at a past step: the run now, whose whole curves it shows

    @property
    def cfg(self) -> RunConfig:
        return self.trainer.cfg

    @property
    def name(self) -> str:
        return f"Run {self.number}: {run_label(self.cfg)}"

    def advance(self, n: int, stop: Callable[[], bool] | None = None) -> None:
        """Train n steps, fewer if `stop()` turns true between two (the baseline as many as the MoE
        kept), snapshotting on the schedule along the way."""
        with self.lock:
            target = self.trainer.step_count + n
            while self.trainer.step_count < target:
                start = self.trainer.step_count
                ahead = self.schedule.next_step(self._snapshot_step) - start  # <= 0: a snapshot the cap held back
                self.trainer.step(min(target - start, ahead) if ahead > 0 else target - start, stop)
                if self.baseline is not None:  # as many steps as the MoE kept (none when it diverged)
                    self.baseline.step(self.trainer.step_count - start)
                stopping = stop is not None and stop()
                if self.trainer.diverged:
                    self._went_back()
                elif not stopping and self._due():  # a Pause takes this step's snapshot once it has stopped
                    self.snapshot_unless_taken()
                if self.trainer.step_count == start or stopping:
                    break
            with self._rate_lock:
                self._rate.append((self.clock(), self.trainer.step_count))

    def _went_back(self) -> None:
        """After a divergence the trainer is back at an earlier step: the record forgets the steps after it,
        and the charts end there."""
        step = self.trainer.step_count
        self.timeline.forget_after(step)
        self._snapshot_step = next((m.step for m in reversed(self.trainer.history)), -1)
        self.snapshot_unless_taken()

    def _due(self) -> bool:
        waited = self.clock() - self._last_snapshot
        return self.schedule.due(self.trainer.step_count, self._snapshot_step, waited, self._snapshot_cost)

    def snapshot(self) -> None:
        with self.lock:
            started = self.clock()
            self.trainer.snapshot()
            if self.baseline is not None:
                self.baseline.snapshot()
            self.timeline.record(self.trainer.step_count, self.trainer.model.state_dict(), self.cfg)
            self._last_snapshot, self._snapshot_step = self.clock(), self.trainer.step_count
            self._snapshot_cost = self._last_snapshot - started

    def snapshot_unless_taken(self) -> None:
        """A snapshot at this step, unless it has one (the page's Step ends on one)."""
        with self.lock:
            if self._snapshot_step != self.trainer.step_count:
                self.snapshot()

    def reset(self) -> None:
        with self.lock:
            self.trainer.reset()
            if self.baseline is not None:
                self.baseline.reset()
            with self._rate_lock:
                self._rate.clear()
            self.timeline.clear()
            self.snapshot()

    def load_weights(self, raw: bytes, name: str) -> int:
        """Put a safetensors file's weights into the model at the current step (returned), marked on
        every chart; a file that does not fit the model raises ConfigError and changes nothing."""
        with self.lock:
            weights.load_into(self.trainer.model, raw, self.cfg)
            # a fresh optimiser, as after a reset: Adam's moments were measured on the weights replaced
            self.trainer.optimizer = run_optimizer(self.cfg, self.trainer.model)
            self.trainer.drop_checkpoints()
            self.trainer.events.append((self.trainer.step_count, f"weights from {name}"))
            self.snapshot()
            return self.trainer.step_count

    def resize(self, split: bool, e: int) -> str:
        """Split expert e, or remove it, now; the event's text."""
        with self.lock:
            text = self.trainer.split_expert(e) if split else self.trainer.remove_expert(e)
            self.snapshot()
            return text

    def steps_per_second(self) -> float:
        """Training speed over the last RATE_WINDOW seconds of chunks; 0 when none came in the last half second."""
        now = self.clock()
        with self._rate_lock:  # the worker appends while the page reads
            recent = [(t, s) for t, s in self._rate if now - t < RATE_WINDOW]
        if len(recent) < 2 or now - recent[-1][0] > 0.5:
            return 0.0
        (t0, s0), (t1, s1) = recent[0], recent[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0


@dataclass(frozen=True)
class Notice:
    """The sentence on the last change, about one run as it trained from one start."""

    run: int
    since: Metrics | None  # the run's first snapshot when it was said: a Reset starts a new history
    text: str


def _first(run: Run) -> Metrics | None:
    return run.trainer.history[0] if run.trainer.history else None


class RunBook:
    """A session's runs, newest last; the newest is the active one. Every session's book counts towards
    the server's limit (SERVER_RUNS): past it a new run is refused with a sentence, not built. It keeps
    the sentence on the last change until the next change, a Reset of that run, or `dismiss_notice`."""

    _all: ClassVar[weakref.WeakSet] = weakref.WeakSet()  # every session's book in this server
    _all_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, make_run: Callable[[int, RunConfig, bool], Run], limit: int = MAX_RUNS) -> None:
        self.runs: list[Run] = []
        self.limit = limit
        self._make_run = make_run
        self._counter = 0
        self._notice: Notice | None = None
        with RunBook._all_lock:
            RunBook._all.add(self)

    @classmethod
    def server_runs(cls) -> int:
        """Runs held by every session of this server."""
        with cls._all_lock:
            books = list(cls._all)
        return sum(len(book.runs) for book in books)

    def _new_run(self, number: int, cfg: RunConfig, with_baseline: bool, replacing: bool = False) -> Run:
        if not replacing and RunBook.server_runs() >= SERVER_RUNS:
            raise ConfigError(
                f"This server holds its limit of {SERVER_RUNS} runs across all sessions; forget a run you no longer "
                "need (the bin beside the run list), or try again later."
            )
        return self._make_run(number, cfg, with_baseline)

    @property
    def active(self) -> Run | None:
        return self.runs[-1] if self.runs else None

    def activate(self, number: int, worker: Worker) -> Run:
        """Make a kept run the active one (it moves to the end); the worker pauses."""
        worker.pause()
        run = next(r for r in self.runs if r.number == number)
        self.runs.remove(run)
        self.runs.append(run)
        return run

    def delete(self, number: int, worker: Worker) -> None:
        """Forget a run; the worker pauses if it was training it."""
        run = next(r for r in self.runs if r.number == number)
        if run in worker.runs:
            worker.forget(run)
        self.runs.remove(run)

    def add(self, cfg: RunConfig, with_baseline: bool, worker: Worker) -> tuple[Run, str | None]:
        """A new run kept beside the others, the active one unchanged (for comparisons); the oldest
        other run goes beyond the limit. Returns the run and a sentence if one was removed."""
        run = self._new_run(self._counter + 1, cfg, with_baseline, replacing=len(self.runs) >= self.limit)
        self._counter += 1
        self.runs.insert(max(len(self.runs) - 1, 0), run)
        return run, self._evict(worker)

    def _evict(self, worker: Worker) -> str | None:
        """Beyond the limit, the oldest run goes (and stops training); the sentence that says so."""
        if len(self.runs) <= self.limit:
            return None
        dropped = self.runs.pop(0)
        worker.forget(dropped)
        return f"Run {dropped.number} was removed to keep memory bounded ({self.limit} runs at most)."

    @property
    def notice(self) -> str | None:
        """The last change's sentence, while the active run is the run it is about and was not reset since."""
        said, run = self._notice, self.active
        if said is None or run is None or run.number != said.run or _first(run) is not said.since:
            return None
        return said.text

    def dismiss_notice(self) -> None:
        self._notice = None

    def sync(self, cfg: RunConfig, with_baseline: bool, worker: Worker) -> str | None:
        """Make the active run match the settings: a live change where the model can take it, else a
        new run (an untrained active run is replaced, a trained one kept). Returns a sentence saying
        what happened, if anything did (kept as `notice`); a ConfigError from building the run leaves
        everything as it was."""
        notice = self._sync(cfg, with_baseline, worker)
        if notice is not None and self.active is not None:
            self._notice = Notice(self.active.number, _first(self.active), notice)
        return notice

    def _sync(self, cfg: RunConfig, with_baseline: bool, worker: Worker) -> str | None:
        current = self.active
        if current is not None:
            changes = config_changes(current.trainer.settings, cfg)  # not the experts it has split or removed
            same_baseline = (current.baseline is not None) == with_baseline
            if not changes and same_baseline:
                return None
            if set(changes) <= LIVE_KEYS and same_baseline:
                live = cfg.replace(**{"model.n_experts": current.cfg.model.n_experts})
                return self._apply_live(current, live, changes)
        was_playing = worker.playing
        worker.pause()  # before reading the step count, so the run cannot train past step 0 meanwhile
        try:
            notice = self._replace_or_add(current, cfg, with_baseline, worker)
        finally:
            if was_playing and self.active is not None:
                worker.play(self.active)
        return notice

    @staticmethod
    def _apply_live(run: Run, cfg: RunConfig, changes: dict) -> str:
        with run.lock:
            texts = run.trainer.apply_live(cfg)
            if run.baseline is not None:
                run.baseline.apply_live(cfg.replace(**{"model.arch": "dense"}))
            return change_notes.live_notice(run.trainer.step_count, texts, changes)

    def _replace_or_add(self, current: Run | None, cfg: RunConfig, with_baseline: bool, worker: Worker) -> str | None:
        untrained = current is not None and current.trainer.step_count == 0
        number = current.number if untrained else self._counter + 1  # a replaced run keeps its number
        run = self._new_run(number, cfg, with_baseline, replacing=untrained or len(self.runs) >= self.limit)
        self._counter = max(self._counter, number)
        notice = None
        if current is not None:
            changes = config_changes(current.trainer.settings, cfg)
            baseline = (current.baseline is not None, with_baseline)
            kept = None if untrained else current.number
            notice = change_notes.new_model_notice(
                changes, baseline if baseline[0] != baseline[1] else None, number, kept
            )
        if untrained:
            self.runs.pop()
        self.runs.append(run)
        removed = self._evict(worker)
        return f"{notice} {removed}" if notice and removed else notice or removed
