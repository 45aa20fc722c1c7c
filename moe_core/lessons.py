"""Lessons: presets that set a run (or a few side by side) up, say what to watch, train, and then say
whether the expected thing happened in this run, with the numbers it rests on.

    from moe_core.lessons import LESSONS, run_lesson
    outcome = run_lesson("capacity", seed=0)
    outcome.verdict.held, outcome.verdict.sentence

`python -m moe_core lessons` lists them; `python -m moe_core lesson NAME [--seed N] [--json]` runs one.
Each verdict's thresholds come from runs over several seeds (the session notes of issue 14).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from moe_core.config import RunConfig
from moe_core.registry import Entry, Registry
from moe_core.replications import CHEN_MOE, REPLICATIONS
from moe_core.trials import Row


@dataclass(frozen=True)
class Verdict:
    held: bool  # whether the run showed what the lesson expects
    sentence: str  # what happened, with the numbers
    numbers: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Lesson(Entry):
    formula: str = ""  # LaTeX
    watch: str = ""  # what to look at while it trains
    base: dict[str, Any] = field(default_factory=dict)  # the preset's settings
    grid: dict[str, list] = field(default_factory=dict)  # runs side by side, one per value
    judge: Callable[[Sequence[Row]], Verdict] | None = None  # the rows in grid order -> the verdict
    metric: str = "test_accuracy"  # the curve to watch over training
    small: dict[str, Any] = field(default_factory=dict)  # a reduced size, for tests

    def config(self, seed: int = 0, small: bool = False) -> RunConfig:
        return RunConfig().replace(**{**self.base, **(self.small if small else {}), "train.seed": seed})


@dataclass(frozen=True)
class Outcome:
    lesson: str
    seed: int
    rows: list[Row]
    verdict: Verdict


def run_lesson(name: str, seed: int = 0, small: bool = False) -> Outcome:
    """Train the lesson's runs on one seed (side by side runs share it) and judge them."""
    from moe_core.sweep import sweep

    lesson = LESSONS[name]
    result = sweep(lesson.config(seed, small), lesson.grid, seeds=[seed], with_history=True)
    return Outcome(name, seed, result.rows, lesson.judge(result.rows))


def _metric(row: Row, name: str) -> float:
    value = row.metrics[name]
    return float("nan") if value is None else float(value)


def _routing(rows: Sequence[Row]) -> Verdict:
    (row,) = rows
    early, last = row.history[0], _metric(row, "cluster_nmi")
    held = last >= 0.6
    what = "the gate sends each cluster to its own expert" if held else "the map has not split by cluster"
    sentence = f"Cluster NMI is {last:.2f} (at step {early['step']} it was {early['cluster_nmi']:.2f}): {what}."
    return Verdict(held, sentence, {"nmi_early": float(early["cluster_nmi"]), "nmi_end": last})


def _sparsity(rows: Sequence[Row]) -> Verdict:
    accuracy = {row.settings["model.top_k"]: _metric(row, "test_accuracy") for row in rows}
    held = accuracy[1] >= accuracy[4] - 0.02
    parts = ", ".join(f"top-{k} {a:.1%}" for k, a in accuracy.items())
    tail = "the same quality for a quarter of the expert compute" if held else "top-1 falls short of top-4"
    return Verdict(held, f"{parts}: {tail}.", {f"accuracy_top{k}": a for k, a in accuracy.items()})


def _collapse(rows: Sequence[Row]) -> Verdict:
    by = {row.settings["model.balance"]: row for row in rows}
    accuracy = {name: _metric(row, "test_accuracy") for name, row in by.items()}
    entropy = {name: _metric(row, "load_entropy") for name, row in by.items()}
    held = entropy["none"] < 0.5 and accuracy["aux_loss"] - accuracy["none"] >= 0.10
    cures = ", ".join(
        f"{name} {accuracy[name]:.1%} ({'recovers' if accuracy[name] >= accuracy['none'] + 0.05 else 'does not'})"
        for name in by
        if name != "none"
    )
    sentence = (
        f"Without balancing the load entropy fell to {entropy['none']:.2f} and accuracy to {accuracy['none']:.1%}"
        + (": the router collapsed and it cost accuracy" if held else "")
        + f". With balancing: {cures}"
    )
    numbers = {f"accuracy_{name}": a for name, a in accuracy.items()}
    numbers |= {f"load_entropy_{name}": h for name, h in entropy.items()}
    return Verdict(held, sentence + ".", numbers)


def _capacity(rows: Sequence[Row]) -> Verdict:
    by = {row.settings["model.capacity_factor"]: row for row in rows}
    drops = {cf: _metric(row, "drop_rate") for cf, row in by.items()}
    accuracy = {cf: _metric(row, "test_accuracy") for cf, row in by.items()}
    held = drops[0.5] > 0.3 and drops[2.0] < 0.01 and accuracy[0.5] < accuracy[2.0] - 0.05
    parts = "; ".join(f"capacity {cf:g}: {drops[cf]:.0%} dropped, {accuracy[cf]:.1%} accurate" for cf in by)
    tail = "too little capacity drops points and costs accuracy" if held else "capacity made no clear difference"
    numbers = {f"drop_rate_{cf:g}": drops[cf] for cf in by} | {f"accuracy_{cf:g}": accuracy[cf] for cf in by}
    return Verdict(held, f"{parts}: {tail}.", numbers)


def _expert_choice(rows: Sequence[Row]) -> Verdict:
    (row,) = rows
    cv2, unrouted = _metric(row, "load_cv2"), _metric(row, "unrouted_rate")
    held = cv2 < 1e-6 and unrouted > 0
    sentence = (
        f"Load CV² is {cv2:.3f} (every expert took exactly its capacity) and {unrouted:.1%} of points were taken "
        f"by no expert{': balance is perfect by design, at the price of unserved points' if held else ''}."
    )
    return Verdict(held, sentence, {"load_cv2": cv2, "unrouted_rate": unrouted})


def _nonlinear_experts(rows: Sequence[Row]) -> Verdict:
    by = {row.settings["model.expert_activation"]: row for row in rows}
    cubic_acc, cubic_h = _metric(by["cubic"], "test_accuracy"), _metric(by["cubic"], "dispatch_entropy")
    linear_acc, linear_h = _metric(by["linear"], "test_accuracy"), _metric(by["linear"], "dispatch_entropy")
    held = cubic_acc >= 0.95 and cubic_h < 0.2 and linear_h > 1.0
    sentence = (
        f"Cubic experts: {cubic_acc:.1%} accurate, dispatch entropy {cubic_h:.2f}; linear experts: {linear_acc:.1%}, "
        f"entropy {linear_h:.2f} (log 4 = 1.39 is no specialisation): "
        + ("nonlinear experts each took one cluster, linear ones mixed them" if held else "the pattern did not show")
    )
    numbers = {"accuracy_cubic": cubic_acc, "dispatch_entropy_cubic": cubic_h}
    numbers |= {"accuracy_linear": linear_acc, "dispatch_entropy_linear": linear_h}
    return Verdict(held, sentence + ".", numbers)


def _latent_clusters(rows: Sequence[Row]) -> Verdict:
    by = {row.settings["model.arch"]: row for row in rows}
    moe_loss, dense_loss = _metric(by["moe"], "test_loss"), _metric(by["dense"], "test_loss")
    moe_align, dense_align = _metric(by["moe"], "global_alignment"), _metric(by["dense"], "global_alignment")
    held = moe_align >= 0.9 and moe_align >= dense_align - 0.05
    missed = dense_align < moe_align - 0.2
    sentence = (
        f"The MoE's best neuron points along the global direction with |cos| {moe_align:.2f} (test loss "
        f"{moe_loss:.2f}); the dense network's with {dense_align:.2f} (test loss {dense_loss:.2f}): "
        + ("the experts found the global direction within their clusters" if held else "the MoE missed it this time")
        + ("; the dense network missed it" if held and missed else "")
    )
    numbers = {"test_loss_moe": moe_loss, "test_loss_dense": dense_loss}
    numbers |= {"alignment_moe": moe_align, "alignment_dense": dense_align}
    return Verdict(held, sentence + ".", numbers)


LESSONS: Registry[Lesson] = Registry(
    "lesson",
    [
        Lesson(
            "routing",
            "Routing: the map forms",
            "A dense softmax gate weighs all four experts for every point. On data made of clusters, each "
            "with its own class boundary, the gate learns to send each cluster to the expert that handles it: "
            "the routing map splits the plane into regions.",
            formula=r"y(x) = \sum_{i=1}^{E} p_i(x)\, f_i(x), \qquad p(x) = \mathrm{softmax}(W_g x + b_g)",
            watch="The routing map: colours sort themselves into one region per cluster; cluster NMI climbs.",
            base={"model.router": "dense", "model.n_experts": 4, "train.steps": 1000},
            judge=_routing,
            metric="cluster_nmi",
            small={"data.n_train": 800, "data.n_test": 400, "train.steps": 500},
        ),
        Lesson(
            "sparsity",
            "Sparsity: top-k 1 vs 2 vs 4",
            "A sparse MoE runs only each point's k best experts. With four experts, top-1 does a quarter of the "
            "expert work of top-4. Does quality follow?",
            formula=r"y(x) = \sum_{i \in \mathrm{TopK}(p(x),\,k)} w_i(x)\, f_i(x)",
            watch="Accuracy of the three runs side by side, against the expert compute per point (k).",
            base={"model.n_experts": 4, "train.steps": 1500},
            grid={"model.top_k": [1, 2, 4]},
            judge=_sparsity,
            small={"data.n_train": 800, "data.n_test": 400, "train.steps": 600},
        ),
        Lesson(
            "collapse",
            "Collapse and its cures",
            "With top-1 routing and nothing to stop it, the expert that starts a little better gets more points, "
            "learns faster, and gets more still, until a few experts do all the work. Here each expert is tiny "
            "(two hidden units) and the task, handwritten digits, needs many of them: collapse costs accuracy. "
            "The auxiliary loss, Shazeer's importance loss and DeepSeek-V3's bias each try to keep the load even. "
            "Watch the bias fail here: it moves which expert is picked, never the weights, so at top-1 an expert "
            "picked for the bias gets its small softmax weight (40% accurate), and with weights renormalised to 1 "
            "the router gets no gradient at all (66%); DeepSeek-V3 picks 8 of 256.",
            formula=r"\mathcal{L}_{\mathrm{aux}} = \alpha\, E \sum_{i=1}^{E} f_i\, P_i, \quad "
            r"f_i = \frac{\#\{x \to i\}}{N}, \quad P_i = \frac{1}{N}\sum_x p_i(x)",
            watch="Load entropy over training: it sinks towards 0 without balancing and stays near 1 with it.",
            base={
                "data.name": "digits",
                "data.dim": 64,
                "data.n_train": 1200,
                "data.n_test": 500,
                "model.n_experts": 16,
                "model.top_k": 1,
                "model.expert_hidden": 2,
                "train.steps": 1500,
            },
            grid={"model.balance": ["none", "aux_loss", "importance", "bias"]},
            judge=_collapse,
            metric="load_entropy",
            small={"train.steps": 800},
        ),
        Lesson(
            "capacity",
            "Capacity: Switch routing with a limit per expert",
            "Switch routing gives each expert room for capacity x N / E points per batch; the rest are dropped "
            "and get no expert's output. Try a capacity factor of 0.5, 1 and 2.",
            formula=r"C = \left\lceil \mathrm{cf} \cdot \frac{k N}{E} \right\rceil",
            watch="The drop rate of each run over training, and what it costs in accuracy (the verdict).",
            base={"model.router": "switch", "model.n_experts": 4, "train.steps": 1000},
            grid={"model.capacity_factor": [0.5, 1.0, 2.0]},
            judge=_capacity,
            metric="drop_rate",
            small={"data.n_train": 800, "data.n_test": 400, "train.steps": 500},
        ),
        Lesson(
            "expert_choice",
            "Expert choice: perfect balance, and points no expert takes",
            "Turn routing around: each expert picks its own best points, up to its capacity. Every expert is "
            "exactly as busy as the others, but a point that no expert ranks highly enough gets nothing.",
            formula=r"\mathrm{chosen}_e = \mathrm{TopC}\big(p_e(x_1), \dots, p_e(x_N)\big), \quad C = \frac{k N}{E}",
            watch="The share of points that no expert took, over training; the load stays exactly even (CV² 0).",
            base={"model.router": "expert_choice", "model.n_experts": 4, "model.top_k": 1, "train.steps": 1000},
            judge=_expert_choice,
            metric="unrouted_rate",
            small={"data.n_train": 800, "data.n_test": 400, "train.steps": 500},
        ),
        Lesson(
            "nonlinear_experts",
            "Why nonlinear experts (Chen et al. 2022)",
            "Each input holds four patches: a label signal, a cluster centre, noise, and a distracting feature from "
            "another cluster. Experts are filters shared by the patches, the router is shared too and starts at "
            "zero. With cubic experts the router learns to send each cluster to its own expert; with linear "
            "experts it cannot tell them apart.",
            formula=r"f_m(x) = \sum_{p=1}^{P} \sigma\big(\langle w_{m}, x^{(p)} \rangle\big), \quad "
            r"\sigma(z) = z^3 \text{ or } z, \qquad h(x) = \sum_p \Theta^\top x^{(p)}",
            watch="Dispatch entropy: near 0 when every expert sees one cluster, log 4 = 1.39 when none specialises.",
            base={
                **REPLICATIONS["chen2022"].base,
                **CHEN_MOE,
                "data.n_train": 4000,
                "data.n_test": 1000,
                "train.batch_size": 4000,
                "train.steps": 150,
            },
            grid={"model.expert_activation": ["cubic", "linear"]},
            judge=_nonlinear_experts,
            metric="dispatch_entropy",
            small={"data.n_train": 2000, "train.batch_size": 2000, "train.steps": 100},
        ),
        Lesson(
            "latent_clusters",
            "MoE finds latent clusters (Kawata et al. 2025)",
            "The target mixes each cluster's own single-index task with a global one whose sign flips from cluster "
            "to cluster, so that over the whole data it cancels. A dense network sees only the whole and tends "
            "to miss the global direction; each expert sees one cluster, where the global task has one sign.",
            formula=r"y = f_c(\langle w_c, x\rangle) + s_c\, g(\langle w_g, x\rangle), \qquad \sum_c s_c = 0",
            watch="Alignment with the global direction w_g over training, MoE against the same-size dense network.",
            base=REPLICATIONS["kawata2025"].base,
            grid={"model.arch": ["moe", "dense"]},
            judge=_latent_clusters,
            metric="global_alignment",
            small={"train.steps": 3000},
        ),
    ],
)
