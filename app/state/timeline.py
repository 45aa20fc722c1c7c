"""A run's weights over training, kept so that any recorded step can be drawn again (README, Replay):
a copy of the model's state at each history snapshot, bounded in count and memory. No Streamlit here.

The start of a run is where routing forms and collapses, so the record is dense there and thins with
the step: when full, it keeps every record of the first DENSE_STEPS steps (while they fit in half of
it) and half of the later ones, spread evenly in the logarithm of the step (the first and the newest
among them), so the kept steps' density falls as 1/step however long the run trains.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from moe_core.settings.config import RunConfig
from moe_core.training.divergence import copy_state

MAX_SNAPSHOTS = 240  # a replay slider's worth of stops
MAX_BYTES = 8 * 2**20  # per run: the default model is 1.4 kB a snapshot, digits with 16 experts 82 kB
MIN_SNAPSHOTS = 8  # even a large model keeps this many
DENSE_STEPS = 100  # the run's start, every step of which the runs snapshot (runs.SnapshotSchedule)


@dataclass(frozen=True)
class Saved:
    """The model's weights at a step, with the configuration it ran under (live options change)."""

    step: int
    state: dict[str, torch.Tensor]  # cloned: never changed after recording
    cfg: RunConfig


class WeightTimeline:
    """The recorded weights of one run, oldest first; safe to read while the worker records."""

    def __init__(self, max_count: int = MAX_SNAPSHOTS, max_bytes: int = MAX_BYTES) -> None:
        self.max_count, self.max_bytes = max_count, max_bytes
        self._saved: list[Saved] = []
        self._lock = threading.Lock()

    def record(self, step: int, state: dict[str, torch.Tensor], cfg: RunConfig) -> None:
        """Keep a copy of `state` at `step` (replacing one at the same step: the weights changed in place)."""
        with self._lock:
            if self._saved and self._saved[-1].step == step:
                self._saved.pop()
            self._saved.append(Saved(step, copy_state(state), cfg))
            if len(self._saved) > self._capacity():
                self._thin()

    def clear(self) -> None:
        with self._lock:
            self._saved = []

    def forget_after(self, step: int) -> None:
        """Drop the records of steps after `step` (a diverged run went back to it)."""
        with self._lock:
            self._saved = [saved for saved in self._saved if saved.step <= step]

    def steps(self) -> list[int]:
        with self._lock:
            return [saved.step for saved in self._saved]

    def at(self, step: int) -> Saved | None:
        with self._lock:
            return next((saved for saved in self._saved if saved.step == step), None)

    def spread(self, count: int, before: int | None = None) -> list[Saved]:
        """At most `count` records (of those before step `before`, if given), dense at the start and
        thinning as 1/step later, the first and the newest among them."""
        with self._lock:
            saved = [s for s in self._saved if before is None or s.step < before]
        return [saved[i] for i in _spread([s.step for s in saved], count)]

    def _capacity(self) -> int:
        size = sum(t.numel() * t.element_size() for t in self._saved[0].state.values())
        return max(MIN_SNAPSHOTS, min(self.max_count, self.max_bytes // max(size, 1)))

    def _thin(self) -> None:
        """Keep the start's records (an even spread of them if they fill half the record) and half the
        room left of the later ones."""
        capacity, steps = self._capacity(), [s.step for s in self._saved]
        head = [i for i, step in enumerate(steps) if step <= DENSE_STEPS]
        head = [head[i] for i in _spread([steps[i] for i in head], capacity // 2)]
        tail = [i for i, step in enumerate(steps) if step > DENSE_STEPS]
        tail = [tail[i] for i in _spread([steps[i] for i in tail], max(2, (capacity - len(head)) // 2))]
        self._saved = [self._saved[i] for i in head + tail]


def _warped(steps: np.ndarray) -> np.ndarray:
    """The step up to DENSE_STEPS, its logarithm beyond (continuous, of slope 1 at DENSE_STEPS): steps
    evenly spread in it are dense at the start and as 1/step later."""
    later = DENSE_STEPS * (1 + np.log(np.maximum(steps, DENSE_STEPS) / DENSE_STEPS))
    return np.where(steps <= DENSE_STEPS, steps, later)


def _spread(steps: list[int], count: int) -> list[int]:
    """Indices of at most `count` of these ascending steps, the nearest to `count` points evenly spaced
    in the warped step from the first to the last (both kept; the last alone for a count of one)."""
    if len(steps) <= count:
        return list(range(len(steps)))
    if count <= 0:
        return []
    if count == 1:
        return [len(steps) - 1]
    warped = _warped(np.asarray(steps, dtype=np.float64))
    targets = np.linspace(warped[0], warped[-1], count)
    nearest = np.abs(warped[None, :] - targets[:, None]).argmin(axis=1)
    return np.unique(nearest).tolist()
