"""Lessons: presets that set a run (or a few side by side) up, say what to watch, train, and then say
whether the expected thing happened in this run, with the numbers it rests on.

    from moe_core.experiments.lessons import LESSONS, run_lesson
    outcome = run_lesson("capacity", seed=0)
    outcome.verdict.held, outcome.verdict.sentence

`python -m moe_core lessons` lists them; `python -m moe_core lesson NAME [--seed N] [--json]` runs one.
Each verdict's thresholds come from runs over several seeds (tests/test_lessons.py holds them on seeds 0-4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from moe_core.experiments import verdicts
from moe_core.experiments.replications import CHEN_MOE, REPLICATIONS
from moe_core.experiments.trials import Row
from moe_core.experiments.verdicts import Verdict
from moe_core.settings.config import RunConfig
from moe_core.settings.registry import Entry, Registry


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


def run_lesson(name: str, seed: int = 0, small: bool = False, with_map: bool = False) -> Outcome:
    """Train the lesson's runs on one seed (side by side runs share it) and judge them; `with_map` keeps
    each run's final routing map, as the Lessons page draws it."""
    from moe_core.experiments.sweep import sweep

    lesson = LESSONS[name]
    result = sweep(lesson.config(seed, small), lesson.grid, seeds=[seed], with_history=True, with_map=with_map)
    return Outcome(name, seed, result.rows, lesson.judge(result.rows))


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
            judge=verdicts.routing,
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
            judge=verdicts.sparsity,
            small={"data.n_train": 800, "data.n_test": 400, "train.steps": 600},
        ),
        Lesson(
            "collapse",
            "Collapse and its cures",
            "With top-1 routing and nothing to stop it, the expert that starts a little better gets more points, "
            "learns faster, and gets more still, until a few experts do all the work. Here each expert is tiny "
            "(two hidden units) and the task, handwritten digits, needs many of them: collapse costs accuracy. "
            "The auxiliary loss, Shazeer's importance loss and DeepSeek-V3's bias each try to keep the load even. "
            "The bias has a hard time here: it moves which expert is picked, never the weights, so at top-1 an "
            "expert picked for the bias gets its small softmax weight, and with weights renormalised to 1 the "
            "router would get no gradient at all; DeepSeek-V3 picks 8 of 256.",
            formula=r"\mathcal{L}_{\mathrm{aux}} = \alpha\, E \sum_{i=1}^{E} f_i\, P_i, \quad "
            r"f_i = \frac{\#\{x \to i\}}{N}, \quad P_i = \frac{1}{N}\sum_x p_i(x)",
            watch="Load entropy over training (1 is an even load): without balancing it stays low, a few experts "
            "taking every point; which cure holds it near 1, and which recovers the accuracy?",
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
            judge=verdicts.collapse,
            metric="load_entropy",
            small={"train.steps": 800},
        ),
        Lesson(
            "exploration",
            "Noise helps exploration",
            "Chen et al.'s router (and Shazeer et al.'s) starts at zero, so at first every expert scores the same. "
            "Without noise the tie goes to expert 0: at the first step it takes every point, and the others join "
            "only where the router learns that expert 0 does worse, some of them late. With noise added to the "
            "scores while training, every expert gets a random share of every cluster from the first step, trains "
            "on it, and the router can learn which expert is good where. Both runs start from the same weights; "
            "four experts for four clusters.",
            formula=r"i^*(x) = \arg\max_i \big(h_i(x) + r_i\big), \qquad "
            r"r_i \sim U(0, 1) \text{ while training, } r_i = 0 \text{ at test}",
            watch="Load entropy in the first steps: higher with noise (more of the four experts in use) than "
            "without; then accuracy, which rises sooner with noise.",
            base={
                **REPLICATIONS["chen2022"].base,
                **CHEN_MOE,
                "model.n_experts": 4,
                "model.expert_activation": "cubic",
                "data.n_train": 4000,
                "data.n_test": 2000,
                "train.batch_size": 4000,
                "train.steps": 150,
            },
            grid={"model.gate_noise": [1.0, 0.0]},
            judge=verdicts.exploration,
            metric="load_entropy",
        ),
        Lesson(
            "hierarchical",
            "Hierarchical routing: groups, then experts",
            "Jordan and Jacobs' hierarchical mixture routes in two steps: a first gate picks a group of experts, a "
            "second gate picks an expert inside the group, and an expert's probability is the product. Six "
            "clusters, three groups of two experts: the first gate should cut the plane into three coarse regions "
            "of two clusters each, the second cut each region in two.",
            formula=r"p_{ij}(x) = g_i(x)\, g_{j \mid i}(x), \qquad g = \mathrm{softmax}(V x), \quad "
            r"g_{\cdot \mid i} = \mathrm{softmax}(V_i x)",
            watch="On the Train page, the map's Expert group view (the coarse level) against Winning expert (the "
            "fine level); here, cluster NMI of the tree beside flat top-1.",
            base={"data.n_clusters": 6, "model.n_experts": 6, "model.n_groups": 3, "train.steps": 1500},
            grid={"model.router": ["hierarchical", "topk"]},
            judge=verdicts.hierarchical,
            metric="cluster_nmi",
            small={"train.steps": 1000},
        ),
        Lesson(
            "top_p",
            "Top-p: as many experts as the point needs",
            "Top-k gives every point the same number of experts. Top-p gives each point the fewest experts whose "
            "probabilities add up to p: one where the gate is sure, more near borders where it is not. Does that "
            "keep top-2's quality for less compute?",
            formula=r"S(x) = \text{the fewest top experts with } \sum_{i \in S(x)} p_i(x) \ge p",
            watch="Experts per point over training; on the Train page, the Experts per point view of the map.",
            base={
                "data.n_clusters": 8,
                "model.n_experts": 8,
                "model.expert_hidden": 4,
                "model.top_k": 2,
                "model.top_p": 0.5,
                "train.steps": 1500,
            },
            grid={"model.router": ["top_p", "topk"]},
            judge=verdicts.top_p,
            metric="experts_per_point",
        ),
        Lesson(
            "growing",
            "A task that grows: distribution shift and dynamic experts",
            "Two clusters at first; two more appear at step 1,000. Two tiny experts (two hidden units each) handle "
            "the first two clusters, but not four. A run that may split its busiest expert (when its share "
            "of the points is 5% above fair) grows, up to four experts, as the task grows; compare it with two "
            "and four experts fixed from the start (four cannot grow: splitting changes nothing there).",
            formula=r"\text{split } e \text{ when } \frac{\#\{x \to e\}}{N} > \frac{1.05}{E}: \quad "
            r"f_{E} = f_e + \varepsilon, \quad h_e, h_E \leftarrow h_e - \log 2",
            watch="Accuracy over training: every run dips at the shift; the fixed pair stays down.",
            base={
                "data.shift_step": 1000,
                "data.shift_kind": "add",
                "model.expert_hidden": 2,
                "model.balance": "none",
                "train.max_experts": 4,
                "train.grow_every": 250,
                "train.steps": 2500,
            },
            grid={"model.n_experts": [2, 4], "train.split_above": [None, 1.05]},
            judge=verdicts.growing,
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
            judge=verdicts.capacity,
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
            judge=verdicts.expert_choice,
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
            judge=verdicts.nonlinear_experts,
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
            judge=verdicts.latent_clusters,
            metric="global_alignment",
            # No smaller version: at 3,000 steps the MoE found w_g on 5 of seeds 0-9, at the full 4,000 on
            # all of seeds 0-4 (|cos| 0.94-0.98), so a quick version would mostly teach noise.
        ),
    ],
)
