"""The worker thread that trains a session's active run (or, for the Compare page, several runs in
turn) in short chunks; it never calls Streamlit, and the page reads a run under the run's lock.
Sessions share the server's cores through TRAINING_SLOTS, and a Pause takes effect after the step in
progress. A run plays at full speed or at a chosen number of steps a second (a pace a class can
follow: the worker waits between steps), and may pause by itself after a number of steps.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import threading
import time
import weakref
from typing import ClassVar

from moe_core import runtime
from moe_core.errors import one_line
from moe_explorer_app.state.background import Background
from moe_explorer_app.state.runs import Run

LOG = logging.getLogger(__name__)  # MOE_EXPLORER_LOG=INFO shows when training pauses, for page benchmarks


# Training chunks that may run at once across all sessions of the server: one core is left to the
# server's pages (and, on a teacher's laptop, the browser), and sessions take turns on the rest.
TRAINING_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) - 1))
CHUNK_SECONDS = 0.02  # a chunk's length in time: sessions take turns this often
WAIT_SECONDS = 0.05  # the longest nap between paced steps: a Pause or a new speed is seen this soon
# Steps per second to choose from, by label: from a pace a teacher can narrate to full speed (None).
SPEEDS: dict[str, float | None] = {
    **{str(rate): float(rate) for rate in (5, 10, 20, 50, 100, 200, 500)},
    "full": None,
}


def fault_message(run: Run, err: Exception) -> str:
    """One sentence for an error that stopped a run's training."""
    detail = one_line(str(err))[:160] or "no detail"
    return (
        f"Training stopped at step {run.trainer.step_count} on an error ({type(err).__name__}: {detail}); the run "
        "is kept as it was: press Play to try again, or Reset."
    )


class Worker(Background):
    """A daemon thread that trains the session's active run in short chunks while playing."""

    _all: ClassVar[weakref.WeakSet] = weakref.WeakSet()  # every session's worker in this server
    _all_lock: ClassVar[threading.Lock] = threading.Lock()  # sessions start on several threads

    @classmethod
    def playing_count(cls) -> int:
        """How many sessions of this server are training now."""
        with cls._all_lock:
            workers = list(cls._all)
        return sum(1 for worker in workers if worker.playing)

    def __init__(self) -> None:
        super().__init__("moe-explorer-trainer")
        self.runs: list[Run] = []  # trained in turn, a chunk each
        self._playing = threading.Event()
        self._chunk = 5
        self._speed: float | None = None  # steps a second; None: full speed
        self._pace = (0.0, 0)  # (time, the trained run's step) the speed counts from
        self.until: int | None = None  # the step at which it pauses by itself
        self._thread.start()
        with Worker._all_lock:
            Worker._all.add(self)

    @property
    def playing(self) -> bool:
        return self._playing.is_set()

    @property
    def run(self) -> Run | None:
        """The run trained (the first, when several take turns)."""
        return self.runs[0] if self.runs else None

    def play(self, run: Run, speed: float | None = None, steps: int | None = None) -> None:
        """Train a run at `speed` steps a second (None: full speed), pausing by itself after `steps`
        steps if given."""
        self._start([run], speed, None if steps is None else run.trainer.step_count + steps)

    def play_together(self, runs: list[Run]) -> None:
        """Train these runs in turn, a chunk each, at full speed until paused (a diverged run drops out)."""
        self._start(runs, None, None)

    def _start(self, runs: list[Run], speed: float | None, until: int | None) -> None:
        for run in runs:
            run.fault = None  # Play tries again
        self.runs = [run for run in runs if not run.trainer.diverged]
        self.until = until
        self.set_speed(speed)
        if self.runs:
            self._playing.set()

    def set_speed(self, speed: float | None) -> None:
        """Steps a second from now on (None: full speed)."""
        run = self.run
        self._pace = (time.perf_counter(), run.trainer.step_count if run is not None else 0)
        self._speed = speed

    def pause_after(self, steps: int | None) -> None:
        """Pause by itself `steps` steps from now (None: only when paused)."""
        run = self.run
        self.until = None if steps is None or run is None else run.trainer.step_count + steps

    def forget(self, run: Run) -> None:
        """Stop training a run (it is being deleted); the others go on."""
        self.runs = [r for r in self.runs if r is not run]
        with run.lock:  # waits out its chunk in progress: no step of it runs after this returns
            if not self.runs:
                self._playing.clear()

    def pause(self) -> None:
        """Stop training; when this returns no further step runs (the locks wait out the current chunk).
        Runs played together stop at one step: those a chunk behind train up to the leader's."""
        was_playing = self._playing.is_set()
        self._playing.clear()
        runs = list(self.runs)
        if was_playing and len(runs) > 1:
            _in_step(runs)
        for run in runs:
            with run.lock:
                if was_playing:
                    LOG.info("paused at %.3f, step %d", time.time(), run.trainer.step_count)
                    run.snapshot_unless_taken()  # the charts and the record end where it stopped

    def _pausing(self) -> bool:
        """Asked between steps: a Pause (or the session's end) stops the chunk after the step in
        progress, not at its end."""
        return not self._playing.is_set() or self._stop.is_set()

    def stop(self, timeout: float | None = 5.0) -> None:
        """End the thread (the session is gone); returns once it has ended or `timeout` passed."""
        self._stop.set()
        self._playing.set()  # wakes the loop, which then sees the stop
        self._thread.join(timeout)

    def _work(self) -> None:
        runtime.flush_subnormals()  # the CPU's flag is per thread
        _name_os_thread(self._thread.name)
        while not self._stop.is_set():
            if not self._playing.wait(timeout=0.5) or self._stop.is_set():
                continue
            runs = self.runs
            if not runs:
                self._playing.clear()
                continue
            run = min(runs, key=lambda r: r.trainer.step_count)  # the runs keep in step with each other
            if self.until is not None and run.trainer.step_count >= self.until:
                with run.lock:
                    run.snapshot_unless_taken()  # the charts and the record end where it stopped
                self._playing.clear()  # the page sees it stopped by itself and redraws its toolbar
                continue
            allowed = self._allowed(run)
            if allowed <= 0:
                time.sleep(min(self._wait(run), WAIT_SECONDS))
                continue
            with TRAINING_SLOTS, run.lock:
                if not self._playing.is_set():
                    continue
                started, before = time.perf_counter(), run.trainer.step_count
                try:
                    run.advance(allowed, stop=self._pausing)
                except Exception as err:  # the thread, the session and the run live on; the page says why
                    run.fault = fault_message(run, err)
                elapsed = max(time.perf_counter() - started, 1e-4)
                taken = max(run.trainer.step_count - before, 1)
                # read under the lock: a lower learning rate may clear the divergence the moment it is released,
                # and the run must then wait for Play, not train on by itself
                stopped = run.trainer.diverged is not None or run.fault is not None
            if stopped:
                self.runs = [r for r in self.runs if r is not run]
                if not self.runs:
                    self._playing.clear()
            # Size chunks by the steps taken in the time spent training (not waiting for the lock; a paused
            # chunk took fewer than asked), and never below 4 steps.
            self._chunk = int(min(max(taken * CHUNK_SECONDS / elapsed, 4), 2000))
            time.sleep(0.002)  # hand the interpreter to the page's threads between chunks

    def _allowed(self, run: Run) -> int:
        """Steps to train now: a chunk, no further than the step it pauses at, and at a chosen speed no
        more than are due (a machine slower than the speed trains at its own pace, without bursts)."""
        steps = self._chunk if self.until is None else min(self._chunk, self.until - run.trainer.step_count)
        if self._speed is None:
            return steps
        since, start = self._pace
        due = int((time.perf_counter() - since) * self._speed) + 1 - (run.trainer.step_count - start)
        if due > steps:  # behind: count from now, one chunk due
            self._pace = (time.perf_counter() - steps / self._speed, run.trainer.step_count)
        return min(steps, due)

    def _wait(self, run: Run) -> float:
        """Seconds until the chosen speed's next step is due."""
        since, start = self._pace
        return since + (run.trainer.step_count - start) / self._speed - time.perf_counter() if self._speed else 0.0


def _in_step(runs: list[Run]) -> None:
    """Runs trained in turn (a chunk each, the one behind first) differ by at most a chunk: train each
    up to the furthest one's step, so that they are compared at one step. Waits out a chunk in progress."""
    for run in runs:
        with run.lock:  # the chunk in progress ends (Pause has been asked for) before the leader is known
            pass
    target = max(run.trainer.step_count for run in runs)
    for run in runs:
        with run.lock:
            if not run.trainer.diverged and run.trainer.step_count < target:
                run.advance(target - run.trainer.step_count)


def _name_os_thread(name: str) -> None:
    """Give this OS thread its Python name (Linux keeps 15 bytes), so that `top -H` and the load test
    tell training threads from the server's own. Python before 3.14 does not."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # 15: PR_SET_NAME
