"""Lessons: each builds valid configurations, and its verdict, computed from real runs at a reduced
size, holds on its default seed and on at least 3 of 4 other seeds; what each lesson's texts state (its
help, what to watch, its verdict's words) agrees with the numbers of its run on the default seed."""

import functools
import math

import numpy as np
import pytest

from moe_core.experiments.lessons import LESSONS, Outcome, run_lesson
from moe_core.experiments.verdicts import EVEN_LOAD, own_experts
from moe_core.training.trainer import Trainer


@functools.cache
def outcome(name: str, seed: int) -> Outcome:
    return run_lesson(name, seed, small=True, with_map=True)


@pytest.mark.parametrize("name", LESSONS.names())
def test_each_lesson_builds_valid_configurations_and_says_what_to_watch(name):
    lesson = LESSONS[name]
    for small in (False, True):
        cfg = lesson.config(3, small)
        assert cfg.train.seed == 3
        for key, values in lesson.grid.items():
            for value in values:
                cfg.replace(**{key: value})  # raises ConfigError where a side-by-side run is impossible
    assert lesson.label and lesson.help and lesson.formula and lesson.watch and lesson.judge is not None


@pytest.mark.parametrize("name", LESSONS.names())
def test_each_lessons_verdict_holds_on_its_default_seed_and_most_others(name):
    outcomes = [outcome(name, seed) for seed in range(5)]
    assert outcomes[0].verdict.held, outcomes[0].verdict.sentence
    others = [o for o in outcomes[1:] if o.verdict.held]
    assert len(others) >= 3, [o.verdict.sentence for o in outcomes]
    for o in outcomes:
        assert o.verdict.numbers and all(isinstance(v, float) for v in o.verdict.numbers.values())
        assert len(o.rows) == math.prod(len(v) for v in LESSONS[name].grid.values())  # every combination


def by(o: Outcome, key: str) -> dict:
    return {row.settings[key]: row for row in o.rows}


def metric(row, name: str, at: slice = slice(None)) -> list[float]:
    return [float(s[name]) for s in row.history[at]]


def dropped(row) -> int:
    return sum(row.map["points"]["dropped"])


def routing(o: Outcome) -> dict[str, bool]:
    (row,) = o.rows
    experts, clusters = own_experts(row)
    colours = len(np.unique(row.map["winner"]))
    return {
        "watch: cluster NMI climbs": o.verdict.numbers["nmi_end"] > o.verdict.numbers["nmi_early"],
        "watch: one region per cluster (the map's colours)": colours >= clusters,
        "verdict: each cluster to its own expert, said only when so": (
            "each cluster to its own expert" in o.verdict.sentence) == (experts == clusters),
    }  # fmt: skip


def sparsity(o: Outcome) -> dict[str, bool]:
    runs = by(o, "model.top_k")
    return {"help: top-1 does a quarter of top-4's expert work": runs[1].metrics["experts_per_point"] * 4
            == runs[4].metrics["experts_per_point"]}  # fmt: skip


def collapse(o: Outcome) -> dict[str, bool]:
    runs, n = by(o, "model.balance"), o.verdict.numbers
    parts = dict(part.split(": ", 1) for part in o.verdict.sentence.split("With balancing: ")[1].split("; "))
    named = {"aux_loss": "auxiliary loss", "importance": "importance + load CV²", "bias": "bias, loss-free"}
    claims = {
        "help: a few experts do all the work": n["idle_experts_none"] >= 8,
        "help: collapse costs accuracy": n["accuracy_none"] <= n["accuracy_aux_loss"] - 0.10,
        "watch: without balancing the load entropy stays low": max(metric(runs["none"], "load_entropy", slice(4, None)))
        < 0.5,
    }  # fmt: skip
    for name, words in named.items():
        even = n[f"load_entropy_{name}"] >= EVEN_LOAD
        claims[f"verdict: {words}'s load said even only when so"] = ("load even" in parts[words]) == even
        claims[f"verdict: {words}'s load entropy as the curve ends"] = (
            f"load entropy {runs[name].history[-1]['load_entropy']:.2f}" in parts[words])  # fmt: skip
    return claims


def exploration(o: Outcome) -> dict[str, bool]:
    runs, n = by(o, "model.gate_noise"), o.verdict.numbers
    first = Trainer(LESSONS["exploration"].config(0).replace(**{"model.gate_noise": 0.0}), probe_size=None)
    first.fit(0, 1)  # step 0, before any update: the router's scores all zero
    quarter = slice(0, len(runs[0.0].history) // 4)
    early_share_E = np.mean([s["load_share"] for s in runs[0.0].history[quarter]], axis=0)
    experts, clusters = own_experts(runs[1.0])
    return {
        "help: without noise, expert 0 takes every point at the first step": first.history[0].load_share[0] == 1.0,
        "help: without noise, some experts join late": early_share_E.min() < 0.05,
        "help: with noise, every expert gets a share from the first step": min(runs[1.0].history[0]["load_share"])
        > 0.02,
        "watch: load entropy higher with noise early": n["early_load_entropy_noise"] > n["early_load_entropy_plain"],
        "watch: accuracy rises sooner with noise": n["mean_accuracy_noise"] > n["mean_accuracy_plain"],
        "verdict: each cluster an expert of its own, said only when so": (
            f"each of the {clusters} clusters ended with an expert of its own" in o.verdict.sentence)
        == (experts == clusters),
    }  # fmt: skip


def growing(o: Outcome) -> dict[str, bool]:
    shift = LESSONS["growing"].base["data.shift_step"]

    def around(row) -> tuple[float, float, float]:
        accuracy = {s["step"]: s["test_accuracy"] for s in row.history}
        before, after = max(s for s in accuracy if s <= shift), min(s for s in accuracy if s > shift)
        return accuracy[before], accuracy[after], row.metrics["test_accuracy"]

    seen = [around(row) for row in o.rows]
    fixed = next(row for row in o.rows if row.settings == {"model.n_experts": 2, "train.split_above": None})
    grown = next(row for row in o.rows if row.settings == {"model.n_experts": 2, "train.split_above": 1.05})
    return {
        "watch: every run dips at the shift": all(after < before for before, after, _ in seen),
        "watch: the fixed pair stays down": around(fixed)[2] < around(fixed)[0] - 0.03,
        "help: the splitting run grows": len(grown.history[-1]["load_share"]) > 2,
    }


def capacity(o: Outcome) -> dict[str, bool]:
    runs = by(o, "model.capacity_factor")
    return {"maps: fewer red crosses as capacity grows": dropped(runs[0.5]) > dropped(runs[1.0]) >= dropped(runs[2.0])
            and dropped(runs[2.0]) == 0}  # fmt: skip


def expert_choice(o: Outcome) -> dict[str, bool]:
    (row,) = o.rows
    return {"help: every expert exactly as busy": row.metrics["load_cv2"] < 1e-6, "maps: crosses where no expert "
            "took a point": dropped(row) > 0}  # fmt: skip


def nonlinear_experts(o: Outcome) -> dict[str, bool]:
    runs = by(o, "model.expert_activation")
    experts, clusters = own_experts(runs["cubic"])
    mixed = runs["linear"].metrics["dispatch_entropy"] > 1.0
    return {"help: cubic experts each take a cluster": experts == clusters,
            "help: linear experts cannot tell the clusters apart": mixed}  # fmt: skip


def latent_clusters(o: Outcome) -> dict[str, bool]:
    n = o.verdict.numbers
    return {"help: the dense network tends to miss the global direction": n["alignment_dense"] < n["alignment_moe"]}


def verdict_only(o: Outcome) -> dict[str, bool]:
    return {"verdict": o.verdict.held}  # the texts state what the verdict checks, no more


CLAIMS = {"routing": routing, "sparsity": sparsity, "collapse": collapse, "exploration": exploration,
          "hierarchical": verdict_only, "top_p": verdict_only, "growing": growing, "capacity": capacity,
          "expert_choice": expert_choice, "nonlinear_experts": nonlinear_experts,
          "latent_clusters": latent_clusters}  # fmt: skip


@pytest.mark.parametrize("name", LESSONS.names())
def test_what_each_lessons_texts_say_agrees_with_its_run_on_the_default_seed(name):
    claims = CLAIMS[name](outcome(name, 0))
    assert all(claims.values()), {claim: held for claim, held in claims.items() if not held}
