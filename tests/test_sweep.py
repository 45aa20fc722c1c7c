"""Sweeps: every combination times every seed, validated first, reproducible per seed whatever the
number of workers, diverged runs kept as rows, a summary whose spread matches numpy and scipy,
provenance in the result, and a stopped sweep resumed to the rows of one never stopped."""

import math
import subprocess
import sys

import numpy as np
import pytest

from moe_core.experiments.sweep import BATCH_LIMIT, parse_grid, plan, sweep, units, unused_settings
from moe_core.experiments.trials import METRICS, run_trial
from moe_core.settings.config import ConfigError, RunConfig

BASE = RunConfig().replace(**{"data.n_train": 400, "data.n_test": 200, "train.steps": 30})
GRID = {"model.top_k": [1, 2], "model.balance": ["none", "aux_loss"]}


@pytest.fixture(scope="module")
def result():
    return sweep(BASE, GRID, seeds=2)


def test_a_2x2_grid_with_2_seeds_gives_8_rows_with_their_settings_and_seeds(result):
    wanted = [(k, b, s) for k in (1, 2) for b in ("none", "aux_loss") for s in (0, 1)]
    assert [(r.settings["model.top_k"], r.settings["model.balance"], r.seed) for r in result.rows] == wanted
    assert all(r.steps == 30 and r.diverged is None for r in result.rows)
    assert set(result.rows[0].flat()) >= {"model.top_k", "model.balance", "seed", "diverged", *METRICS}
    assert result.rows[0].metrics != result.rows[1].metrics  # two seeds, two runs


def agree(rows, others) -> None:
    """The same runs in the same order, their metrics equal to float tolerance."""
    assert [(r.settings, r.seed) for r in rows] == [(r.settings, r.seed) for r in others]
    for mine, theirs in zip(rows, others, strict=True):
        for name in METRICS:
            a, b = mine.metrics[name], theirs.metrics[name]
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6), name


def test_a_sweep_is_reproducible_and_each_row_is_its_run_trained_alone(result):
    again = sweep(BASE, GRID, seeds=2)
    assert [r.metrics for r in again.rows] == [r.metrics for r in result.rows]
    one_by_one = sweep(BASE, GRID, seeds=2, batch_seeds=False)
    agree(result.rows, one_by_one.rows)  # batched seeds: each row as its run alone, to float tolerance
    (alone,) = [t for t in plan(BASE, GRID, 2) if t.settings == {"model.top_k": 2, "model.balance": "none"} and t.seed]
    assert run_trial(alone).metrics == one_by_one.rows[5].metrics


def test_units_of_work_are_each_combinations_seeds_batched_up_to_the_limit():
    trials = plan(BASE, GRID, 3)
    assert [[t.index for t in unit] for unit in units(trials)] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    assert [len(unit) for unit in units(trials, batch_seeds=False)] == [1] * 12
    many = units(plan(BASE, {}, BATCH_LIMIT + 3))
    assert [len(unit) for unit in many] == [10, 9]  # within the limit, as even as can be
    assert [len(unit) for unit in units(plan(BASE, {}, 8), workers=3)] == [3, 3, 2]  # a unit for every worker
    assert [len(unit) for unit in units(trials, workers=8)] == [2, 1] * 4


def test_two_worker_processes_give_the_same_rows(result):
    agree(result.rows, sweep(BASE, GRID, seeds=2, workers=2).rows)


def test_a_diverging_run_is_a_row_marked_at_its_step_and_the_sweep_goes_on():
    base = BASE.replace(
        **{"data.name": "clusters_regression", "model.expert_activation": "cubic", "train.optimizer": "sgd"}
    )
    result = sweep(base, {"train.lr": [1.0, 3.0]}, seeds=1)
    calm, wild = result.rows
    assert calm.diverged is None and calm.steps == 30 and calm.diverged_at is None
    assert 0 < wild.diverged_at <= 30 and wild.diverged.startswith(f"Training diverged at step {wild.diverged_at}:")
    assert wild.flat()["diverged"] is True and wild.flat()["diverged_at"] == wild.diverged_at
    assert [e["diverged"] for e in result.summary] == [0, 1] and result.summary[1]["test_loss_mean"] is None


def test_grids_are_parsed_and_checked_before_anything_trains():
    assert parse_grid(["model.top_k=1,2,4", "model.balance=none,aux_loss"]) == {
        "model.top_k": [1, 2, 4],
        "model.balance": ["none", "aux_loss"],
    }
    with pytest.raises(ConfigError, match=r"did you mean model\.top_k"):
        parse_grid(["model.topk=1,2"])
    with pytest.raises(ConfigError, match="twice"):
        parse_grid(["model.top_k=1", "model.top_k=2"])
    with pytest.raises(ConfigError, match="lists no values"):
        parse_grid(["model.top_k="])
    with pytest.raises(ConfigError, match=r"The combination top_k=8 is impossible: .*top_k"):
        plan(BASE, {"model.top_k": [1, 8]}, 2)
    with pytest.raises(ConfigError, match=r"model\.n_experts"):
        plan(BASE, {"model.n_experts": [4, 0]})
    assert [t.seed for t in plan(BASE.replace(**{"train.seed": 7}), {}, 3)] == [7, 8, 9]
    with pytest.raises(ConfigError, match=r"train\.seed is what the seeds count"):
        plan(BASE, {"train.seed": [1, 2]})
    with pytest.raises(ConfigError, match=r"gives model\.top_k the same value twice"):
        plan(BASE, {"model.top_k": [1, 1]})
    with pytest.raises(ConfigError, match=r"The seeds \[3, 3\] repeat one"):
        plan(BASE, {}, [3, 3])


def test_a_local_ray_gives_the_same_rows_as_the_local_backend(result):
    pytest.importorskip("ray", reason="the ray extra: pip install 'moe-explorer[ray]' (the test command installs it)")
    agree(result.rows, sweep(BASE, GRID, seeds=2, workers=2, backend="ray").rows)


def test_without_ray_the_ray_backend_names_the_extra_to_install():
    code = (
        "import sys; sys.modules['ray'] = None\n"  # as if Ray were not installed: its import fails
        "from moe_core.settings.config import RunConfig\n"
        "from moe_core.experiments.sweep import sweep\n"
        "sweep(RunConfig().replace(**{'train.steps': 1}), {}, backend='ray')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "The Ray backend needs Ray: pip install 'moe-explorer[ray]'." in done.stderr
    with pytest.raises(ConfigError, match="add --backend ray"):
        sweep(BASE, GRID, address="10.0.0.1:6379")


def test_a_stopped_sweep_keeps_the_runs_it_finished():
    done = []
    result = sweep(BASE, GRID, seeds=2, progress=lambda n, total: done.append(n), stop=lambda: len(done) >= 2)
    assert len(result.rows) == 4 and done == [2, 4]  # progress after each batch of two seeds
    assert [e["runs"] for e in result.summary] == [2, 2]
    done.clear()
    one_by_one = sweep(BASE, GRID, seeds=2, batch_seeds=False, progress=lambda n, total: done.append(n),
                       stop=lambda: len(done) >= 3)  # fmt: skip
    assert len(one_by_one.rows) == 3 and done == [1, 2, 3]
    assert [e["runs"] for e in one_by_one.summary] == [2, 1]


def test_a_run_can_keep_a_small_routing_map_of_its_final_model():
    (row,) = sweep(BASE, {}, seeds=1, with_map=True).rows
    winner = np.array(row.map["winner"])
    assert winner.shape == (40, 40) and set(np.unique(winner)) <= set(range(4)) and len(row.map["extent"]) == 4


def test_a_small_map_keeps_its_test_points_by_class_and_the_ones_capacity_dropped():
    grid = {"model.capacity_factor": [0.5, 2.0]}
    tight, roomy = sweep(BASE.replace(**{"model.router": "switch"}), grid, seeds=1, with_map=True).rows
    points = tight.map["points"]
    assert len(points["x"]) == len(points["y"]) == len(points["target"]) == 200  # every test point (under 250)
    assert tight.map["classes"] == ["0", "1"] and set(points["target"]) == {0, 1}
    x0, x1, y0, y1 = tight.map["extent"]
    assert x0 < min(points["x"]) < max(points["x"]) < x1 and y0 < min(points["y"]) < max(points["y"]) < y1
    share = np.mean(points["dropped"])  # capacity 0.5 serves at most half of a batch
    assert share >= 0.4 and not any(roomy.map["points"]["dropped"])
    (plain,) = sweep(BASE, {}, seeds=1, with_map=True).rows
    assert not any(plain.map["points"]["dropped"])  # top-k without a capacity leaves no point out


def test_a_small_map_of_many_inputs_keeps_each_points_first_expert():
    (flat,) = sweep(BASE, {}, seeds=1, with_map=True).rows
    (wide,) = sweep(BASE.replace(**{"data.dim": 4}), {}, seeds=1, with_map=True).rows
    assert "expert" not in flat.map["points"]  # on the input plane the region under a point is its expert
    experts = wide.map["points"]["expert"]
    assert len(experts) == 200 and set(experts) <= set(range(4)) and len(set(experts)) > 1


def test_the_result_carries_its_provenance_and_each_row_its_name_and_tags():
    result = sweep(BASE, {"model.top_k": [1, 2]}, seeds=[3, 5], name="k study", tags=["draft", "cpu"])
    told = result.provenance
    assert told["base"] == BASE.to_dict() and result.base == BASE
    assert told["grid"] == {"model.top_k": [1, 2]} and told["seeds"] == [3, 5] and told["name"] == "k study"
    assert told["product"] == "moe-explorer" and told["version"] and told["planned_runs"] == 4
    assert told["commit"] is None or len(told["commit"].removesuffix("+changes")) == 40
    assert told["label"] == "clusters, 4 experts, top-1, aux_loss" and told["backend"] == "local"
    assert [r.name for r in result.rows][:2] == ["top_k=1, seed 3", "top_k=1, seed 5"]
    assert all(r.tags == ("draft", "cpu") for r in result.rows) and result.rows[0].flat()["tags"] == ["draft", "cpu"]


def test_a_stopped_sweep_resumed_trains_only_the_missing_runs_and_equals_one_never_stopped(result):
    ticks = []
    half = sweep(BASE, GRID, seeds=2, progress=lambda n, total: ticks.append(n), stop=lambda: len(ticks) >= 2)
    assert len(half.rows) == 4
    trained = []
    whole = sweep(BASE, GRID, seeds=2, done=half.rows, progress=lambda n, total: trained.append(n))
    assert trained == [6, 8]  # two more batches of two seeds, counted from the four kept
    assert [r.metrics for r in whole.rows] == [r.metrics for r in result.rows]
    assert whole.rows[:4] == half.rows  # kept as they were, not trained again
    more = sweep(BASE, GRID, seeds=3, done=whole.rows)  # extended by a seed: one run more per combination
    assert len(more.rows) == 12 and [r.seed for r in more.rows[:3]] == [0, 1, 2]


def test_a_grid_over_an_option_no_combination_uses_is_refused_and_a_partly_used_one_noted():
    hashed = BASE.replace(**{"model.router": "hash"})
    with pytest.raises(ConfigError, match=r"sweeps model\.gate_noise, which is not used by the router 'hash'"):
        plan(hashed, {"model.gate_noise": [0.0, 1.0]})
    with pytest.raises(ConfigError, match=r"model\.top_k, which is not used by the router 'dense'"):
        plan(BASE.replace(**{"model.router": "dense"}), {"model.top_k": [1, 3]})
    grid = {"model.router": ["topk", "hash"], "model.gate_noise": [0.0, 1.0]}
    assert unused_settings(grid, plan(BASE, grid)) == {
        "model.gate_noise": "not used by the router 'hash' (in router=hash, gate_noise=0.0)"
    }
