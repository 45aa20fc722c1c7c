"""Batched seeds: the seeds of one setting trained together as one stacked model, each run with its own
initial weights, batch order and gate noise, as if it trained alone (to float tolerance).

    batch = SeedBatch([cfg.replace(**{"train.seed": s}) for s in range(8)])
    batch.fit(2000)
    batch.runs[3].history  # seed 3's measurements, as a Trainer of its own keeps them

Each seed has a `Trainer` of its own (its model built from its seed, its generator, its history,
its measurements); only the training steps run stacked (`moe_core.layer.stacking`): S blocks of points,
each through its own seed's gate and experts, one loss that is the sum of the seeds' own, one
optimiser step over all of them. Small models cost little more per step stacked than alone, so S
seeds take far less than S runs one after another (benchmarks/bench_sweep.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from moe_core.datasets.dataset import Dataset, make_dataset
from moe_core.errors import ConfigError
from moe_core.layer.build import Build
from moe_core.layer.fast import FAST
from moe_core.layer.kernels import Kernels
from moe_core.layer.stacking import stack_axes, stack_states, unstack_state
from moe_core.models.points import build_model, objective_loss
from moe_core.settings.config import RunConfig
from moe_core.training import schedules
from moe_core.training.divergence import Checkpoints, copy_state
from moe_core.training.loss import optimise
from moe_core.training.optimizers import run_optimizer
from moe_core.training.trainer import SEEDING, Snapshot, StepReport, Trainer


class SeedBatch:
    """S runs of one configuration that differ only in `train.seed`, trained as one stacked model."""

    def __init__(
        self,
        cfgs: Sequence[RunConfig],
        data: Dataset | None = None,
        probe_size: int | None = 2000,
        kernels: Kernels = FAST,
    ) -> None:
        _check_same_setting(cfgs)
        data = data if data is not None else make_dataset(cfgs[0].data)
        self.runs = [Trainer(cfg, data, probe_size, kernels) for cfg in cfgs]
        first = self.runs[0]
        self.cfg, self.kernels, self.stack = first.cfg, kernels, len(cfgs)
        with SEEDING, torch.random.fork_rng(devices=[]):  # its own initial draws are replaced below
            model = build_model(self.cfg.model, Build.of(data, 0, kernels, self.stack))
        self._axes = stack_axes(first.model.state_dict(), model.state_dict(), self.stack)
        model.load_state_dict(stack_states([run.model.state_dict() for run in self.runs], self._axes))
        self.model = model.to(first.device)
        self.model.train()
        self.optimizer = run_optimizer(self.cfg, self.model)
        if first.is_moe:
            self.model.router.generator = [run.generator for run in self.runs]
        self.step_count = 0
        self.seconds = 0.0
        self.checkpoints = Checkpoints()  # the stack's weights a diverging seed goes back to, as its Trainer would

    @property
    def running(self) -> list[int]:
        """The seeds (by position) still training: not stopped by a non-finite loss."""
        return [s for s, run in enumerate(self.runs) if run.diverged is None]

    def step(self, n: int = 1) -> list[StepReport]:
        """Advance every running seed n optimiser steps; each seed's report, as `Trainer.step` gives it.
        A seed whose loss turns non-finite stops as its Trainer would: back to its weights of a checkpoint
        (`moe_core.training.divergence.Checkpoints`), its run marked diverged at that step."""
        if not self.running or n <= 0:
            return [StepReport(run.step_count, float("nan"), run.diverged) for run in self.runs]
        started = time.perf_counter()
        self.checkpoints.offer(self.step_count, lambda: copy_state(self.model.state_dict()))
        losses_nS = torch.stack([self._one_step(self.step_count + i) for i in range(n)]).cpu()  # one host sync
        state = self.model.state_dict()  # the last step's update is in no loss yet: check each seed's weights
        weights_S = torch.tensor([_finite(unstack_state(state, self._axes, s, self.stack)) for s in range(self.stack)])
        finite_nS = torch.cat([torch.isfinite(losses_nS), weights_S.view(1, -1)])
        self.seconds += time.perf_counter() - started
        reports = [StepReport(run.step_count, float("nan"), run.diverged) for run in self.runs]
        for s in self.running:
            run = self.runs[s]
            if bool(finite_nS[:, s].all()):
                run.step_count += n
                reports[s] = StepReport(run.step_count, float(losses_nS[-1, s]), None)
                continue
            # Its block of the stack trains on, unseen: every stacked operation keeps seeds apart (per-expert
            # matmuls, per-row top-k, elementwise Adam, sums of per-seed losses), so its NaNs reach no other seed.
            step, saved = self.checkpoints.oldest()
            bad = run.step_count + min(int((~finite_nS[:, s]).nonzero()[0]) + 1, n)
            run.go_back(step, unstack_state(saved, self._axes, s, self.stack), None, bad)
            reports[s] = StepReport(run.step_count, float("nan"), run.diverged)
        self.step_count += n
        return reports

    def _one_step(self, step: int) -> torch.Tensor:
        """One step of every seed; each seed's task loss, [S]."""
        cfg, first = self.cfg, self.runs[0]
        schedules.follow(self.model, cfg, step)
        for run in self.runs:
            run.follow_shift(step)
        batches = [run.batch() for run in self.runs]  # each seed's own, as it would draw it alone
        x_N = torch.cat([x_B for x_B, _ in batches])
        out = self.model(x_N)
        y_N = torch.cat([y_B for _, y_B in batches])
        loss_N = objective_loss(out, y_N, first.classification, cfg.model.objective, "none", self.kernels)
        task_S = loss_N.view(self.stack, -1).mean(dim=1)  # each seed's mean: the loss it minimises alone
        optimise(self.model, self.optimizer, self.kernels, out, task_S.sum(), x_N)  # other losses: summed per seed
        return task_S.detach()

    def sync(self) -> None:
        """Copy each running seed's weights out of the stack into its own Trainer's model."""
        state = self.model.state_dict()
        for s in self.running:
            self.runs[s].model.load_state_dict(unstack_state(state, self._axes, s, self.stack))

    def snapshot(self, seeds: Sequence[int] | None = None) -> list[Snapshot]:
        """Measure the given seeds (default: the running ones) as their Trainers do, appending to their history."""
        self.sync()
        return [self.runs[s].snapshot() for s in (self.running if seeds is None else seeds)]

    def fit(self, steps: int, snapshot_every: int | None = None) -> list[Snapshot]:
        """`Trainer.fit` for every seed: train `steps` steps, snapshotting every `snapshot_every` steps
        along the way and at the end; a seed that diverges is measured once more at the end, where it
        stopped. Returns every seed's last snapshot, in order."""
        if snapshot_every is not None and snapshot_every < 1:
            raise ConfigError(f"Snapshots every {snapshot_every} steps is impossible; use 1 or more.")
        every = snapshot_every or steps or 1
        target = self.step_count + steps
        while self.step_count < target and self.running:
            self.step(min(every, target - self.step_count))
            if self.running and self.step_count < target:
                self.snapshot()
        for run in self.runs:
            run.seconds = self.seconds / self.stack  # the batch's time, an even share each
        return self.snapshot(range(self.stack))


def _check_same_setting(cfgs: Sequence[RunConfig]) -> None:
    if not cfgs:
        raise ConfigError("A batch of seeds needs at least one run.")
    seeds = [cfg.train.seed for cfg in cfgs]
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"A batch of seeds needs different seeds, got {seeds}.")
    first = cfgs[0]
    if first.train.resizes_experts:
        raise ConfigError("Seeds whose experts split or go each change shape on their own; train them one by one.")
    for cfg in cfgs[1:]:
        if cfg.replace(**{"train.seed": first.train.seed}) != first:
            raise ConfigError("A batch of seeds trains one setting: its runs may differ only in train.seed.")


def _finite(state: dict[str, torch.Tensor]) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point())
