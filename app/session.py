"""Per-browser-session state: a list of runs and one background worker that trains the active run.

Nothing trainable is shared between sessions: runs live in `st.session_state`; the worker comes from a
session-scoped `st.cache_resource`, whose release (the tab closed) stops its thread. The worker thread
never calls Streamlit; the page reads a run's state under the run's lock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import streamlit as st

from moe_core.config import RunConfig, config_changes
from moe_core.data import Dataset, make_dataset
from moe_core.train import LIVE_FIELDS, Trainer

MAX_RUNS = 6  # memory per session stays bounded; the oldest run goes first
SNAPSHOT_SECONDS = 0.2  # history resolution while training live
CHUNK_SECONDS = 0.02  # the worker holds a run's lock this long at most, so pausing is immediate


@dataclass
class Run:
    """One training run: the MoE, its dense baseline of equal size, and what the page needs to show it."""

    number: int
    trainer: Trainer
    baseline: Trainer | None
    lock: threading.RLock = field(default_factory=threading.RLock)
    _rate: deque = field(default_factory=lambda: deque(maxlen=64))
    _last_snapshot: float = 0.0

    @property
    def cfg(self) -> RunConfig:
        return self.trainer.cfg

    @property
    def name(self) -> str:
        m = self.cfg.model
        return f"Run {self.number}: {self.cfg.data.name}, {m.n_experts} experts, top-{m.top_k}, {m.balance}"

    def advance(self, n: int) -> None:
        """Train n steps (the baseline too) and keep the history at about five snapshots a second."""
        with self.lock:
            self.trainer.step(n)
            if self.baseline is not None:
                self.baseline.step(n)
            now = time.perf_counter()
            self._rate.append((now, self.trainer.step_count))
            if now - self._last_snapshot >= SNAPSHOT_SECONDS or self.trainer.diverged:
                self.snapshot()

    def snapshot(self) -> None:
        with self.lock:
            self.trainer.snapshot()
            if self.baseline is not None:
                self.baseline.snapshot()
            self._last_snapshot = time.perf_counter()

    def reset(self) -> None:
        with self.lock:
            self.trainer.reset()
            if self.baseline is not None:
                self.baseline.reset()
            self._rate.clear()
            self.snapshot()

    def steps_per_second(self) -> float:
        """Training speed over the last two seconds of worker chunks (0 when idle)."""
        now = time.perf_counter()
        recent = [(t, s) for t, s in self._rate if now - t < 2.0]
        if len(recent) < 2 or now - recent[-1][0] > 0.5:
            return 0.0
        (t0, s0), (t1, s1) = recent[0], recent[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0


class Worker:
    """A daemon thread that trains the session's active run in short chunks while playing."""

    def __init__(self) -> None:
        self.run: Run | None = None
        self._playing = threading.Event()
        self._stopped = threading.Event()
        self._chunk = 5
        self._thread = threading.Thread(target=self._loop, name="moe-explorer-trainer", daemon=True)
        self._thread.start()

    @property
    def playing(self) -> bool:
        return self._playing.is_set()

    def play(self, run: Run) -> None:
        self.run = run
        if not run.trainer.diverged:
            self._playing.set()

    def pause(self) -> None:
        """Stop training; when this returns no further step runs (the lock waits out the current chunk)."""
        self._playing.clear()
        run = self.run
        if run is not None:
            with run.lock:
                pass

    def stop(self) -> None:
        self._stopped.set()
        self._playing.set()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            if not self._playing.wait(timeout=0.5) or self._stopped.is_set():
                continue
            run = self.run
            if run is None:
                self._playing.clear()
                continue
            with run.lock:
                if not self._playing.is_set():
                    continue
                started = time.perf_counter()
                run.advance(self._chunk)
                elapsed = max(time.perf_counter() - started, 1e-4)
            if run.trainer.diverged:
                self._playing.clear()
            # Size chunks by time spent training, not waiting for the lock, and never below 4 steps.
            self._chunk = int(min(max(self._chunk * CHUNK_SECONDS / elapsed, 4), 2000))
            time.sleep(0.002)  # hand the interpreter to the page's threads between chunks


@st.cache_resource(scope="session", on_release=lambda worker: worker.stop(), show_spinner=False)
def worker() -> Worker:
    return Worker()


@st.cache_data(show_spinner=False, max_entries=16)
def dataset(cfg) -> Dataset:
    return make_dataset(cfg)


def runs() -> list[Run]:
    return st.session_state.setdefault("runs", [])


def active_run() -> Run | None:
    return runs()[-1] if runs() else None


def _new_run(cfg: RunConfig, with_baseline: bool) -> Run:
    data = dataset(cfg.data)
    trainer = Trainer(cfg, data)
    baseline = Trainer(cfg.replace(**{"model.arch": "dense"}), data) if with_baseline else None
    number = st.session_state.get("run_counter", 0) + 1
    st.session_state["run_counter"] = number
    run = Run(number, trainer, baseline)
    run.snapshot()
    return run


def sync(cfg: RunConfig, with_baseline: bool) -> str | None:
    """Make the active run match the settings; returns a sentence saying what happened, if anything did."""
    current = active_run()
    if current is not None:
        changes = config_changes(current.cfg, cfg)
        baseline_matches = (current.baseline is not None) == with_baseline
        if not changes and baseline_matches:
            return None
        if set(changes) <= LIVE_FIELDS and baseline_matches:
            with current.lock:
                texts = current.trainer.apply_live(cfg)
                if current.baseline is not None:
                    current.baseline.apply_live(cfg.replace(**{"model.arch": "dense"}))
            return f"Applied at step {current.trainer.step_count} without restarting: {'; '.join(texts)}."
    run = _new_run(cfg, with_baseline)  # may raise ConfigError: then nothing has changed
    was_playing = worker().playing
    worker().pause()
    all_runs = runs()
    notice = None
    if current is not None and current.trainer.step_count == 0:
        all_runs.pop()  # an untrained run is simply replaced
    elif current is not None:
        notice = f"That setting needs a new model: started run {run.number} at step 0 (run {current.number} is kept)."
    all_runs.append(run)
    if len(all_runs) > MAX_RUNS:
        dropped = all_runs.pop(0)
        notice = (notice or "") + f" Run {dropped.number} was removed to keep memory bounded ({MAX_RUNS} runs at most)."
    if was_playing:
        worker().play(run)
    return notice
