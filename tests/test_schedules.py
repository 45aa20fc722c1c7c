"""Curriculum schedules: each shape's values, and a run whose router follows them step by step."""

import math

import pytest

from moe_core.settings.config import RunConfig
from moe_core.training.schedules import factor, scheduled
from moe_core.training.seed_batch import SeedBatch
from moe_core.training.trainer import Trainer


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("constant", [1.0, 1.0, 1.0, 1.0]),
        ("linear", [1.0, 0.6, 0.2, 0.2]),
        ("cosine", [1.0, 0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi / 2)), 0.2, 0.2]),
    ],
)
def test_each_schedule_starts_at_the_set_value_and_ends_at_its_fraction(kind, expected):
    assert [factor(kind, step, 100, 0.2) for step in (0, 50, 100, 400)] == pytest.approx(expected)


def test_nothing_scheduled_leaves_the_model_its_own_settings():
    assert scheduled(RunConfig(), 500) is None


def test_the_router_follows_the_schedules_and_the_snapshots_record_them():
    cfg = RunConfig().replace(**{
        "data.n_train": 300, "model.gate_noise": 1.0, "model.aux_loss_coef": 0.2, "train.noise_schedule": "linear",
        "train.balance_schedule": "cosine", "train.anneal_steps": 100, "train.anneal_to": 0.0,
    })  # fmt: skip
    trainer = Trainer(cfg)
    trainer.fit(150, snapshot_every=50)
    assert [m.step for m in trainer.history] == [50, 100, 150]
    assert [m.gate_noise for m in trainer.history] == pytest.approx([1 - 49 / 100, 1 - 99 / 100, 0.0])  # last step's
    cosine = [0.2 * 0.5 * (1 + math.cos(math.pi * t)) for t in (0.49, 0.99)]
    assert [m.balance_weight for m in trainer.history] == pytest.approx([*cosine, 0.0])
    trainer.reset()
    assert trainer.snapshot().metrics.gate_noise == 1.0  # step 0 again: the values set


def test_batched_seeds_follow_the_schedule_as_each_would_alone():
    cfg = RunConfig().replace(**{"data.n_train": 300, "model.gate_noise": 0.5, "train.noise_schedule": "cosine",
                                 "train.anneal_steps": 20})  # fmt: skip
    batch = SeedBatch([cfg.replace(**{"train.seed": s}) for s in (0, 1)])
    alone = Trainer(cfg.replace(**{"train.seed": 1}))
    batch.fit(30)
    alone.fit(30)
    assert batch.runs[1].history[-1].test_loss == pytest.approx(alone.history[-1].test_loss, rel=1e-4)
