"""Random search: ranges parsed and checked, the same samples from the same base seed, rows and
provenance as a grid's; and early stopping by ASHA on a local Ray Tune."""

import math

import pytest

from moe_core.experiments.search import parse_range, random_search, sample
from moe_core.settings.config import ConfigError, RunConfig

BASE = RunConfig().replace(**{"data.n_train": 300, "data.n_test": 100, "train.steps": 40})
RANGES = {"train.lr": "0.001:0.1:log", "model.n_experts": "2:8"}
CHOICES = {"model.balance": ["none", "aux_loss"]}


def test_samples_fall_in_their_ranges_repeat_for_a_seed_and_change_with_it():
    trials = sample(BASE, RANGES, CHOICES, samples=20, seeds=2)
    assert len(trials) == 40 and [t.seed for t in trials[:4]] == [0, 1, 0, 1]
    drawn = [t.settings for t in trials[::2]]
    assert all(0.001 <= s["train.lr"] <= 0.1 and s["model.balance"] in ("none", "aux_loss") for s in drawn)
    assert all(isinstance(s["model.n_experts"], int) and 2 <= s["model.n_experts"] <= 8 for s in drawn)
    logs = sorted(math.log10(s["train.lr"]) for s in drawn)
    assert logs[0] < -2.3 and logs[-1] > -1.7  # uniform in the logarithm: both decades reached
    assert [t.settings for t in sample(BASE, RANGES, CHOICES, 20, 2)] == [t.settings for t in trials]
    other = sample(BASE.replace(**{"train.seed": 5}), RANGES, CHOICES, 20, 1)
    assert [t.settings for t in other] != drawn


@pytest.mark.parametrize(
    ("key", "text", "says"),
    [
        ("train.lr", "0.1", "needs the form LOW:HIGH or LOW:HIGH:log"),
        ("train.lr", "0.1:0.01", "must run from low to high"),
        ("model.gate_noise", "0:1:log", "must start above 0"),
        ("model.balance", "0:1", "is not a number; list its values instead"),
        ("model.n_experts", "0:8", "model.n_experts"),
        ("train.lr", "a:b", "needs numbers at both ends"),
    ],
)
def test_a_bad_range_is_one_sentence(key, text, says):
    with pytest.raises(ConfigError, match=says):
        parse_range(key, text)


def test_a_random_search_gives_a_row_per_sample_and_seed_with_the_search_in_its_provenance():
    result = random_search(BASE, {"train.lr": "0.003:0.03"}, CHOICES, samples=3, tags=["scan"])
    assert len(result.rows) == 3 and all(r.steps == 40 and r.tags == ("scan",) for r in result.rows)
    search = result.provenance["search"]
    assert search == {"kind": "random", "samples": 3, "ranges": {"train.lr": "0.003:0.03"}, "choices": CHOICES,
                      "sample_seed": 0, "asha": None, "rungs": None}  # fmt: skip
    assert result.grid["train.lr"] == [r.settings["train.lr"] for r in result.rows]
    with pytest.raises(ConfigError, match="needs ranges"):
        random_search(BASE, {}, {}, samples=2)


def test_asha_on_a_local_ray_stops_trailing_runs_early_and_keeps_their_rows():
    pytest.importorskip("ray.tune", reason="the ray extra: pip install 'moe-explorer[ray]' (the test installs it)")
    result = random_search(BASE, {"train.lr": "0.0005:0.2:log"}, samples=6, asha="test_loss", workers=2)
    assert len(result.rows) == 6 and result.provenance["search"]["asha"] == "test_loss"
    stopped = [r for r in result.rows if r.steps < 40]
    assert stopped and all(r.steps in (10, 20, 30) for r in stopped)  # at a rung: a quarter, a half, three quarters
    assert all(len(r.history) == r.steps // 10 for r in result.rows)  # one report per rung reached
    finished = [r for r in result.rows if r.steps == 40]
    alone = random_search(BASE, {"train.lr": "0.0005:0.2:log"}, samples=6)  # the same samples, trained to the end
    kept = {r.name: r.metrics["test_loss"] for r in alone.rows}
    assert all(r.metrics["test_loss"] == pytest.approx(kept[r.name], rel=1e-5) for r in finished)
