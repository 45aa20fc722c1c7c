"""Paired comparisons against a baseline: differences seed by seed, scipy's paired tests, Holm's
adjustment by hand, and verdict lines that say which way a setting moves a metric."""

import numpy as np
import pytest
from scipy import stats

from moe_core.experiments.paired import compare, holm, parse_baseline, table
from moe_core.experiments.sweep import SweepResult
from moe_core.experiments.trials import METRICS, Row
from moe_core.settings.config import ConfigError

GRID = {"model.top_k": [1, 2], "model.balance": ["none", "aux_loss"]}
BASELINE = {"model.top_k": 1, "model.balance": "none"}
NMI = {  # per combination, per seed 0..4
    (1, "none"): [0.50, 0.55, 0.40, 0.60, 0.52],
    (1, "aux_loss"): [0.70, 0.72, 0.65, 0.81, 0.69],
    (2, "none"): [0.52, 0.50, 0.45, 0.58, 0.55],
    (2, "aux_loss"): [0.50, 0.55, 0.40, 0.60, 0.52],  # the baseline's numbers exactly
}


def row(k: int, balance: str, seed: int, nmi: float | None, diverged: str | None = None) -> Row:
    metrics = dict.fromkeys(METRICS)
    metrics.update(cluster_nmi=nmi, dead_experts=3 - k if balance == "none" else 0)
    return Row({"model.top_k": k, "model.balance": balance}, seed, 100, diverged, 0.1, metrics)


def result(rows=None) -> SweepResult:
    rows = rows or [row(k, b, s, v) for (k, b), values in NMI.items() for s, v in enumerate(values)]
    return SweepResult(GRID, rows)


def test_holm_steps_down_as_computed_by_hand_and_skips_the_unknown():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None, 0.2]) == [pytest.approx(0.5), None, pytest.approx(0.4)]
    assert holm([0.9, 0.8]) == [1.0, 1.0]  # capped at one


def test_each_comparison_is_the_paired_difference_with_scipys_interval_and_tests():
    found = {tuple(c.settings.values()): c for c in compare(result(), BASELINE, ["cluster_nmi"])}
    assert set(found) == {(1, "aux_loss"), (2, "none"), (2, "aux_loss")}
    aux = found[(1, "aux_loss")]
    x, b = np.array(NMI[(1, "aux_loss")]), np.array(NMI[(1, "none")])
    test = stats.ttest_rel(x, b)
    assert aux.seeds == 5 and aux.mean == pytest.approx((x - b).mean())
    assert (aux.low, aux.high) == pytest.approx(tuple(test.confidence_interval(0.95)))
    assert aux.p_t == pytest.approx(test.pvalue) and aux.p_wilcoxon == pytest.approx(stats.wilcoxon(x - b).pvalue)
    p_t = [found[k].p_t for k in ((1, "aux_loss"), (2, "none"))]
    assert [found[k].p_holm_t for k in ((1, "aux_loss"), (2, "none"))] == pytest.approx(holm([*p_t, 1.0])[:2])
    same = found[(2, "aux_loss")]
    assert same.mean == 0 and same.p_t == 1.0 and same.reading() == "no clear difference"


def test_the_verdicts_name_the_direction_that_is_better_and_sort_the_clearest_first():
    comparisons = compare(result(), BASELINE, ["cluster_nmi", "dead_experts"])
    lines = table(comparisons).splitlines()
    assert lines[0].startswith("  top_k=1, balance=aux_loss: NMI +0.200 [+0.")
    assert lines[0].endswith("(better)") and "p_holm 0.00" in lines[0]
    dead = [line for line in lines if "Dead experts" in line]
    assert all(line.endswith("(better)") for line in dead if "aux_loss" in line)  # fewer dead experts is better
    assert table(comparisons, "wilcoxon").splitlines()[0].endswith("(no clear difference)")  # 5 seeds: p >= 1/16


def test_seeds_pair_only_where_both_runs_finished():
    rows = [r for r in result().rows if not (r.settings["model.top_k"] == 2 and r.seed == 4)]
    rows = [row(1, "none", 0, 0.5, diverged="diverged") if r.seed == 0 and r.settings == BASELINE else r for r in rows]
    found = {tuple(c.settings.values()): c for c in compare(result(rows), BASELINE, ["cluster_nmi"])}
    assert found[(2, "none")].seeds == 3 and found[(1, "aux_loss")].seeds == 4


def test_a_baseline_names_one_of_the_grids_values_for_every_key():
    assert parse_baseline(["model.top_k=1,model.balance=none"], GRID) == BASELINE
    assert parse_baseline(["model.top_k=1", "model.balance=none"], GRID) == BASELINE
    with pytest.raises(ConfigError, match=r"needs a value for model\.balance too"):
        parse_baseline(["model.top_k=1"], GRID)
    with pytest.raises(ConfigError, match=r"model\.top_k=4 is not among the grid's values \(1, 2\)"):
        parse_baseline(["model.top_k=4,model.balance=none"], GRID)
    with pytest.raises(ConfigError, match=r"sets model\.n_experts, which the grid does not sweep"):
        parse_baseline(["model.n_experts=4"], GRID)
    with pytest.raises(ConfigError, match="no finished runs of the baseline"):
        compare(SweepResult(GRID, result().rows[5:]), BASELINE, ["cluster_nmi"])
