"""A run's weights over training, kept so that any recorded step can be drawn again (issue 14, Replay):
a copy of the model's state at each history snapshot, bounded in count and memory. No Streamlit here.

When full, the record keeps an even spread of half its entries (the first and the newest among them)
and from then on records a step only once it is that far past the last one, so the kept steps stay
evenly spread over the whole run however long it trains.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from moe_core.config import RunConfig
from moe_core.update import copy_state

MAX_SNAPSHOTS = 240  # a replay slider's worth of stops
MAX_BYTES = 8 * 2**20  # per run: the default model is 1.4 kB a snapshot, digits with 16 experts 82 kB
MIN_SNAPSHOTS = 8  # even a large model keeps this many


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
        self._gap = 0.0  # steps between records once thinned
        self._lock = threading.Lock()

    def record(self, step: int, state: dict[str, torch.Tensor], cfg: RunConfig) -> None:
        """Keep a copy of `state` at `step` (replacing one at the same step: the weights changed in place)."""
        with self._lock:
            if self._saved and self._saved[-1].step == step:
                self._saved.pop()
            elif self._saved and step - self._saved[-1].step < self._gap:
                return
            self._saved.append(Saved(step, copy_state(state), cfg))
            if len(self._saved) > self._capacity():
                self._thin()

    def clear(self) -> None:
        with self._lock:
            self._saved, self._gap = [], 0.0

    def steps(self) -> list[int]:
        with self._lock:
            return [saved.step for saved in self._saved]

    def at(self, step: int) -> Saved | None:
        with self._lock:
            return next((saved for saved in self._saved if saved.step == step), None)

    def spread(self, count: int, before: int | None = None) -> list[Saved]:
        """At most `count` records (of those before step `before`, if given) evenly spread over the
        steps, the first and the newest among them."""
        with self._lock:
            saved = [s for s in self._saved if before is None or s.step < before]
        return [saved[i] for i in _even([s.step for s in saved], count)]

    def _capacity(self) -> int:
        size = sum(t.numel() * t.element_size() for t in self._saved[0].state.values())
        return max(MIN_SNAPSHOTS, min(self.max_count, self.max_bytes // max(size, 1)))

    def _thin(self) -> None:
        keep = _even([s.step for s in self._saved], self._capacity() // 2)
        self._saved = [self._saved[i] for i in keep]
        self._gap = (self._saved[-1].step - self._saved[0].step) / max(len(self._saved) - 1, 1)


def _even(steps: list[int], count: int) -> list[int]:
    """Indices of at most `count` of these ascending steps, the nearest to `count` evenly spaced steps
    from the first to the last (both kept)."""
    if len(steps) <= count:
        return list(range(len(steps)))
    if count <= 0:
        return []
    targets = np.linspace(steps[0], steps[-1], count)
    nearest = np.abs(np.asarray(steps)[None, :] - targets[:, None]).argmin(axis=1)
    return np.unique(nearest).tolist()
