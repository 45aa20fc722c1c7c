"""A sweep's summary per combination: mean, sample standard deviation and Student's t interval as
numpy and scipy give them, values that are not finite left out, intervals clipped to each metric's range."""

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from moe_core.experiments.summary import summarise
from moe_core.experiments.sweep import sweep
from moe_core.settings.config import RunConfig

BASE = RunConfig().replace(**{"data.n_train": 400, "data.n_test": 200, "train.steps": 30})
GRID = {"model.top_k": [1, 2], "model.balance": ["none", "aux_loss"]}


@pytest.fixture(scope="module")
def result():
    return sweep(BASE, GRID, seeds=2)


def test_the_summary_gives_mean_sample_std_and_a_students_t_interval(result):
    assert len(result.summary) == 4
    entry = result.summary[0]
    values = np.array([r.metrics["test_loss"] for r in result.rows[:2]])
    assert (entry["model.top_k"], entry["model.balance"], entry["runs"], entry["diverged"]) == (1, "none", 2, 0)
    assert entry["test_loss_mean"] == pytest.approx(values.mean())
    assert entry["test_loss_std"] == pytest.approx(values.std(ddof=1))
    assert entry["test_loss_ci95"] == pytest.approx(stats.t.ppf(0.975, 1) * values.std(ddof=1) / math.sqrt(2))
    one = summarise(result.rows[:1], list(GRID))[0]
    assert one["test_loss_std"] is None and one["test_loss_ci95"] is None


def test_the_summary_leaves_out_values_that_are_not_finite(result):
    broken = [dataclasses.replace(result.rows[0], metrics={**result.rows[0].metrics, "test_loss": float("nan")}),
              *result.rows[1:2]]  # fmt: skip
    entry = summarise(broken, list(GRID))[0]
    assert entry["test_loss_mean"] == result.rows[1].metrics["test_loss"] and entry["test_loss_std"] is None


def test_the_summary_clips_each_interval_to_the_range_its_metric_can_take(result):
    for entry in result.summary:
        for name, (low, high) in (("cluster_nmi", (0, 1)), ("load_entropy", (0, 1)), ("dead_experts", (0, 4))):
            mean, half = entry[f"{name}_mean"], entry[f"{name}_ci95"]
            assert entry[f"{name}_low"] == max(low, mean - half) and entry[f"{name}_high"] == min(high, mean + half)
    clipped = [e for e in result.summary if e["load_entropy_mean"] + e["load_entropy_ci95"] > 1]
    assert clipped and all(e["load_entropy_high"] == 1 for e in clipped)  # two seeds: t's interval is wide
