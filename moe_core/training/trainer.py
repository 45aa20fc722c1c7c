"""The step-wise trainer: `step(n)` trains, `snapshot()` measures, `reset()` rewinds to the same start.

A UI or CLI drives it; nothing here loops forever, prints, sleeps or changes process-wide settings
(`moe_core.runtime.configure` does that, where the caller wants it). A non-finite loss stops the
run with a message naming the step, and keeps the last good weights and the history.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from moe_core.datasets.dataset import Dataset, make_dataset
from moe_core.errors import ConfigError
from moe_core.layer.build import Build
from moe_core.layer.fast import FAST
from moe_core.layer.kernels import Kernels
from moe_core.layer.moe import MoE
from moe_core.measure.directions import alignment
from moe_core.measure.metrics import Metrics, load_share, measure
from moe_core.measure.probe import GridProbe, probe_grid, probe_points
from moe_core.models.points import build_model, objective_loss
from moe_core.settings.choices import SHIFTS
from moe_core.settings.config import RunConfig, config_changes
from moe_core.settings.table import LIVE_KEYS
from moe_core.training import dynamic, regularisation, saving, schedules
from moe_core.training.divergence import Checkpoints, copy_state, diverged_message, finite_weights
from moe_core.training.loss import optimise
from moe_core.training.optimizers import group_lr, run_optimizer

# Models are initialised from torch's global generator, seeded per run: two threads building at once
# (the app's page and a sweep) would draw from each other's seeds.
SEEDING = threading.Lock()


# Snapshots a run keeps: the app takes about five a second, so this is over ten minutes of Play before the
# oldest start to thin, and a run's history stays within a few MB however long it plays.
HISTORY_LIMIT = 4000


@dataclass(frozen=True)
class StepReport:
    step: int
    loss: float  # the objective on the last batch
    diverged: str | None  # the message, once the run has stopped on a non-finite loss


@dataclass(frozen=True)
class Snapshot:
    metrics: Metrics
    grid: GridProbe | None


def resolve_device(name: str) -> torch.device:
    """`auto` picks CUDA, then MPS, then the CPU; a device this machine lacks raises ConfigError."""
    available = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": True}
    if name == "auto":
        return torch.device(next(kind for kind, present in available.items() if present))
    if not available[name]:
        raise ConfigError(f"train.device is '{name}' but this machine has no {name.upper()} device; use auto or cpu.")
    return torch.device(name)


def _change_text(key: str, old, new) -> str:
    """A live change in a few words: "lr 0.01 → 0.003"; a long text (the drawn centres) by its name alone."""
    name = key.partition(".")[2]
    if max(len(str(old)), len(str(new))) > 20:
        return f"{name} changed"
    return f"{name} {old} → {new}"


class Trainer:
    """Trains one run of a RunConfig on its dataset; holds the model, optimiser and history."""

    def __init__(
        self, cfg: RunConfig, data: Dataset | None = None, probe_size: int | None = 2000, kernels: Kernels = FAST
    ) -> None:
        self.cfg = cfg
        self.kernels = kernels
        self.device = resolve_device(cfg.train.device)
        self.data = data if data is not None else make_dataset(cfg.data)
        self.classification = self.data.classification
        self.model = self.new_model(cfg)
        self._initial = copy_state(self.model.state_dict())
        self._start_data, self._probe_size = self.data, probe_size
        self._start_experts = cfg.model.n_experts
        self.reset()

    def new_model(self, cfg: RunConfig) -> torch.nn.Module:
        """A model of `cfg` as this run builds it (its seed, data, device and kernels), at its initial weights."""
        with SEEDING, torch.random.fork_rng(devices=[]):  # torch's global generator, one thread at a time
            torch.manual_seed(cfg.train.seed)
            model = build_model(cfg.model, Build.of(self.data, cfg.train.seed, self.kernels))
        return model.to(self.device)

    def _use(self, data: Dataset) -> None:
        """Train and measure on `data` (the start's, or after a distribution shift)."""
        self.data = data
        self.x_train, self.y_train = data.x_train.to(self.device), data.y_train.to(self.device)
        # Metrics use the first probe_size test (and train) points; None uses them all.
        probe = slice(self._probe_size)
        self._probe_x, self._probe_y = data.x_test[probe].to(self.device), data.y_test[probe].to(self.device)
        clusters = data.cluster_test
        self._probe_clusters = None if clusters is None else clusters[probe].numpy()
        self._train_x, self._train_y = data.x_train[probe].to(self.device), data.y_train[probe].to(self.device)
        self._last_first = None  # other probe points: no flips to count across the change

    def follow_shift(self, step: int) -> None:
        """The data of `step`: those after the distribution shift from its step on (`data.shift_step`)."""
        start = self._start_data
        wanted = start if start.shift_step is None or step < start.shift_step else start.after_shift
        if self.data is not wanted:
            self._use(wanted)
            if wanted is not start:
                self.events.append((step, f"data shift: {SHIFTS[self.cfg.data.shift_kind].label}"))

    @property
    def settings(self) -> RunConfig:
        """The run's configuration as set: its expert count the one it started with, however many
        experts splits and removals (`moe_core.training.dynamic`) have left it with now."""
        return self.cfg.replace(**{"model.n_experts": self._start_experts})

    @property
    def is_moe(self) -> bool:
        return isinstance(self.model, MoE)

    def reset(self) -> None:
        """Back to step 0 with the same initial weights, batches and noise, the data of the settings now
        (centres drawn since included), and the experts of the start (where some were split or removed)."""
        self._use(self._start_data)
        if self.cfg != self.settings:  # experts were split or removed: the model of the start again
            self.cfg = self.settings
            self.model = self.new_model(self.cfg)
        self.model.load_state_dict(self._initial)
        if self.is_moe:
            self.model.set_config(self.cfg.model)  # the settings of step 0, before any schedule moved them
        self.model.train()
        self.optimizer = run_optimizer(self.cfg, self.model)
        self.generator = torch.Generator(self.device).manual_seed(self.cfg.train.seed + 1)
        self._online = np.random.default_rng([self.cfg.train.seed, 1])  # online batches, where the data draw them
        if self.is_moe:
            self.model.router.generator = self.generator
        self.step_count = 0
        self.history: list[Metrics] = []
        self.events: list[tuple[int, str]] = []  # (step, what changed) for settings applied mid-run
        self.diverged: str | None = None
        self.diverged_at: int | None = None  # the step whose loss was not finite; the weights are an earlier step's
        self.seconds = 0.0
        self.checkpoints = Checkpoints()  # (weights, optimiser) states a divergence goes back to

    def drop_checkpoints(self) -> None:
        """The weights changed outside training (experts split or removed, a file loaded): a diverged run
        must not go back past them."""
        self.checkpoints.clear()

    def go_back(self, step: int, weights: dict, optimiser: dict | None, bad: int) -> None:
        """Back to the weights (and optimiser state) of `step` after a non-finite loss at step `bad`,
        forgetting the history and events after it."""
        self.model.load_state_dict(weights)
        if optimiser is not None:
            self.optimizer.load_state_dict(optimiser)
        self.step_count = step
        self.history = [m for m in self.history if m.step <= step]
        self.events = [e for e in self.events if e[0] <= step]
        self.diverged_at = bad
        self.diverged = diverged_message(bad, self.cfg.train.lr, step)

    def apply_live(self, cfg: RunConfig) -> list[str]:
        """Take a config that differs only in live options mid-run; returns the changes as text, logged in
        events. A run stopped by divergence trains on once its learning rate is lowered."""
        changes = config_changes(self.cfg, cfg)
        if not set(changes) <= LIVE_KEYS:
            raise ValueError(f"these settings need a new model: {sorted(set(changes) - LIVE_KEYS)}")
        resume = self.diverged is not None and cfg.train.lr < self.cfg.train.lr
        if any(key.startswith("data.") for key in changes):  # drawn centres: new points, same model, from now on
            self._start_data = make_dataset(cfg.data)  # before any change, so a ConfigError leaves the run as it was
            self._use(self._start_data)
        self.cfg = cfg
        if self.is_moe:
            self.model.set_config(cfg.model)
        if resume:  # a lower learning rate: train on from the last good weights
            self.diverged = self.diverged_at = None
        for group in self.optimizer.param_groups:
            group.update(lr=group_lr(group, cfg), weight_decay=cfg.train.weight_decay)
        texts = [_change_text(key, old, new) for key, (old, new) in changes.items() if key != "train.steps"]
        self.events.extend((self.step_count, text) for text in texts)
        return texts

    def step(self, n: int = 1, stop: Callable[[], bool] | None = None) -> StepReport:
        """Advance up to n optimiser steps, fewer if `stop()` turns true between two (a Pause acts after
        the step in progress); one host synchronisation per call, to check the losses (one per stretch
        between the dynamic-experts rule's checks, where it is on)."""
        if not (self.is_moe and self.cfg.train.resizes_experts):
            return self._advance(n, stop)
        report = StepReport(self.step_count, float("nan"), self.diverged)
        every = self.cfg.train.grow_every
        while n > 0 and not self.diverged:
            chunk = min(n, every - self.step_count % every)
            report, n = self._advance(chunk, stop), n - chunk
            if stop is not None and stop():  # no step of another chunk once asked to stop
                n = 0
            if not self.diverged and self.step_count % every == 0:
                probe = probe_points(self.model, self._probe_x, self._probe_y, self.classification)
                texts = dynamic.apply_rule(self, load_share(probe.load_E))
                if texts:
                    self.drop_checkpoints()
                self.events += [(self.step_count, text) for text in texts]
        return report

    def split_expert(self, e: int) -> str:
        """Split expert e in two now (`moe_core.training.dynamic.split`), logged as an event."""
        text = dynamic.split(self, e)
        self.drop_checkpoints()
        self.events.append((self.step_count, text))
        return text

    def remove_expert(self, e: int) -> str:
        """Remove expert e now (`moe_core.training.dynamic.remove`), logged as an event."""
        text = dynamic.remove(self, e)
        self.drop_checkpoints()
        self.events.append((self.step_count, text))
        return text

    def _advance(self, n: int, stop: Callable[[], bool] | None = None) -> StepReport:
        if self.diverged or n <= 0:
            return StepReport(self.step_count, float("nan"), self.diverged)
        started = time.perf_counter()
        self.checkpoints.offer(self.step_count, self._state)
        losses = []
        while len(losses) < n and not (losses and stop is not None and stop()):
            losses.append(self._one_step(self.step_count + len(losses)))
        losses_n, n = torch.stack(losses), len(losses)
        # the last step's update is in no loss yet: an exploding gradient shows in the weights
        finite = torch.cat([torch.isfinite(losses_n), finite_weights(self.model).view(1)])
        self.seconds += time.perf_counter() - started
        if bool(finite.all()):
            self.step_count += n
            return StepReport(self.step_count, float(losses_n[-1]), None)
        step, (weights, optimiser) = self.checkpoints.oldest()
        self.go_back(step, weights, optimiser, self.step_count + min(int((~finite).nonzero()[0]) + 1, n))
        return StepReport(self.step_count, float("nan"), self.diverged)

    def _state(self) -> tuple[dict, dict]:
        return copy_state(self.model.state_dict()), copy_state(self.optimizer.state_dict())

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next training batch (x [B, D], y [B]): points of the training set drawn by the run's
        generator, or with online sampling fresh points from the dataset's generator."""
        size = self.cfg.train.batch_size
        if self.data.draw is not None:
            x_B, y_B = self.data.draw(size, self._online)
            return x_B.to(self.device), y_B.to(self.device)
        index_B = torch.randint(len(self.x_train), (size,), generator=self.generator, device=self.device)
        return self.x_train[index_B], self.y_train[index_B]

    def _one_step(self, step: int) -> torch.Tensor:
        schedules.follow(self.model, self.cfg, step)
        self.follow_shift(step)
        x_B, y_B = self.batch()
        out = self.model(x_B)
        task = objective_loss(out, y_B, self.classification, self.cfg.model.objective, "mean", self.kernels)
        optimise(self.model, self.optimizer, self.kernels, out, task, x_B)
        return task.detach()

    def snapshot(self, grid_resolution: int | None = None) -> Snapshot:
        """Measure on the fixed probe set, append to the history, and optionally evaluate the map grid."""
        test = probe_points(self.model, self._probe_x, self._probe_y, self.classification)
        train = probe_points(self.model, self._train_x, self._train_y, self.classification)
        metrics = measure(
            self.step_count,
            train,
            test,
            self._probe_y.cpu().numpy(),
            self._probe_clusters,
            self.classification,
            self._last_first,
            self.data.n_clusters,
        )
        if self.data.directions is not None:
            metrics = dataclasses.replace(metrics, **alignment(self.model, self.data.directions))
        if self.is_moe:  # what the schedules had set for the last step
            router_cfg = self.model.router.cfg
            with torch.no_grad():
                outputs = regularisation.expert_outputs(self.model.experts, self._probe_x)
                similarity = float(regularisation.mean_similarity(outputs))
            metrics = dataclasses.replace(
                metrics,
                gate_noise=router_cfg.gate_noise,
                balance_weight=router_cfg.aux_loss_coef,
                expert_similarity=similarity,
            )
        self._last_first = test.first_N
        self.history.append(metrics)
        if len(self.history) > HISTORY_LIMIT:  # hours of Play: the older half thinned to every other snapshot
            half = len(self.history) // 2
            self.history = self.history[:half:2] + self.history[half:]
        grid = (
            None
            if grid_resolution is None
            else probe_grid(self.model, self.data, grid_resolution, self.device, with_experts=True)
        )
        return Snapshot(metrics, grid)

    def save(self, path: str | Path) -> None:
        """The whole run as it is now, to resume bit for bit (`moe_core.training.saving`)."""
        saving.save(self, path)

    @classmethod
    def load(cls, path: str | Path, **trainer_args) -> Trainer:
        """A run saved by `save`, ready to train on as it would have; `trainer_args` as for Trainer."""
        return saving.load(path, **trainer_args)

    def fit(self, steps: int, snapshot_every: int | None = None) -> Snapshot:
        """Train `steps` steps (stopping early on divergence), snapshotting every `snapshot_every`
        steps along the way (None: only at the end) and at the end."""
        if snapshot_every is not None and snapshot_every < 1:
            raise ConfigError(f"Snapshots every {snapshot_every} steps is impossible; use 1 or more.")
        every = snapshot_every or steps or 1
        target = self.step_count + steps
        while self.step_count < target and not self.diverged:
            self.step(min(every, target - self.step_count))
            if not self.diverged and self.step_count < target:
                self.snapshot()
        return self.snapshot()
