"""The routing rules, one module each, registered by name. Adding one: a module with a `Router`
subclass, and one line below (or `ROUTERS.register(...)` from your own code).

`uses` names the options that apply to a rule (the sidebar disables the others); `fixed` pins options
the rule defines (Switch routes to one expert); `invariants` names the checks in `invariants.py` (or
gives the rule's own) that every routing of the rule must pass (the tests run them for every
registered router).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moe_core.settings.registry import Entry, Registry

K, NORMALIZE, CAPACITY, NOISE = "model.top_k", "model.normalize", "model.capacity_factor", "model.gate_noise"
NOISE_KIND, TOP_P, GROUPS = "model.noise_kind", "model.top_p", "model.n_groups"
SLOTS, SOFT_GROUP = "model.slots_per_expert", "model.soft_group"


@dataclass(frozen=True)
class RouterSpec(Entry):
    citation: str = ""  # the paper the rule comes from
    fixed: dict[str, Any] = field(default_factory=dict)  # option key -> the only value the rule allows
    fixed_hint: str = ""  # what to do instead, when a pinned option is set otherwise
    # A cross-field rule: the ModelConfig in, the problem as one sentence out (None when fine); and
    # values that satisfy it, which the sidebar sets when the rule is chosen and its check fails.
    check: Callable[[Any], str | None] | None = None
    suggested: dict[str, Any] = field(default_factory=dict)
    suggest: Callable[[Any], dict[str, Any]] | None = None  # such values computed from the ModelConfig instead
    # checks every routing of the rule must pass: names in `invariants.INVARIANTS`, or a rule's own
    # (router, routing) -> a sentence or None, as "module:function" beside the rule
    invariants: tuple[str, ...] = ()
    equal_weights: bool = False  # every chosen expert weighs alike: the weights follow no score
    short: str = ""  # the rule in a run's label; {fields} of the ModelConfig are filled in
    views: tuple[str, ...] = ()  # map views that only this rule has: "experts_per_point", "group"
    note: str = ""  # what to keep in mind reading the map under this rule, shown beneath it
    resizable: bool = False  # whether experts can be split or removed mid-run (`moe_core.training.dynamic`)

    def fitting(self, model_cfg) -> dict[str, Any]:
        """Values ({"model.name": value}) that satisfy the rule's check, for a ModelConfig that breaks it."""
        return self.suggest(model_cfg) if self.suggest else dict(self.suggested)

    def describe(self, model_cfg) -> str:
        """The rule as a run's label names it, e.g. "top-2" or "expert choice"."""
        return self.short.format(**vars(model_cfg)) if self.short else self.name


def _noise_needed(m) -> str | None:
    if m.gate_noise > 0:
        return None
    return (
        "model.gate_noise must be greater than 0 for router 'noisy_topk'; its gates start at zero and need the noise."
    )


def _groups_divide_experts(m) -> str | None:
    if m.n_experts % m.n_groups == 0:
        return None
    return (
        f"Router 'hierarchical' splits the {m.n_experts} experts into {m.n_groups} equal groups; choose a "
        "model.n_groups that divides model.n_experts."
    )


def _dividing_groups(m) -> dict[str, Any]:
    return {GROUPS: max(g for g in range(1, min(m.n_groups, m.n_experts) + 1) if m.n_experts % g == 0)}


def _probabilities_needed(m) -> str | None:
    if m.normalize != "sigmoid":
        return None
    return "Router 'top_p' adds up probabilities; use model.normalize softmax or softmax_topk, not sigmoid."


def _plain_objective(m) -> str | None:
    if m.objective == "blend" and m.combine == "weighted":
        return None
    return "Soft MoE makes its own combination; set model.objective to blend and model.combine to weighted."


ROUTERS: Registry[RouterSpec] = Registry(
    "model.router",
    [
        RouterSpec(
            "topk",
            "top-k: each point picks its k best experts",
            "Softmax (or sigmoid) scores, each point's k highest; an optional capacity per expert.",
            "moe_core.layer.routers.topk:TopK",
            frozenset({K, NORMALIZE, CAPACITY, NOISE, NOISE_KIND}),
            citation="Shazeer et al. 2017; Lepikhin et al. 2020 (GShard); Jiang et al. 2024 (Mixtral)",
            invariants=("k_distinct_experts", "weights_follow_normalize", "capacity_respected"),
            short="top-{top_k}",
            resizable=True,
        ),
        RouterSpec(
            "noisy_topk",
            "noisy top-k (Shazeer 2017): learned noise on the gate",
            "Top-k of the logits plus Gaussian noise whose scale a second linear layer learns; gates start at zero.",
            "moe_core.layer.routers.noisy_topk:NoisyTopK",
            frozenset({K, NORMALIZE, CAPACITY, NOISE}),
            citation="Shazeer et al. 2017, Outrageously Large Neural Networks",
            check=_noise_needed,
            suggested={NOISE: 1.0},
            invariants=("k_distinct_experts", "weights_follow_normalize", "capacity_respected"),
            short="noisy top-{top_k}",
            resizable=True,
        ),
        RouterSpec(
            "top_p",
            "top-p (Huang 2024): as many experts as the point needs",
            "Each point takes the fewest experts whose probabilities add up to p: more where the gate is unsure.",
            "moe_core.layer.routers.top_p:TopP",
            frozenset({TOP_P, NORMALIZE, NOISE, NOISE_KIND}),
            citation="Huang et al. 2024, Harder Tasks Need More Experts: Dynamic Routing in MoE Models",
            check=_probabilities_needed,
            suggested={NORMALIZE: "softmax"},
            invariants=("fewest_experts_reaching_p",),
            short="top-p {top_p:g}",
            views=("experts_per_point",),
            resizable=True,
        ),
        RouterSpec(
            "hierarchical",
            "hierarchical (Jordan & Jacobs 1994): groups, then experts",
            "A gate picks among groups of experts, a second gate among the experts of each group; an expert's "
            "probability is the product, and the top k of those are used.",
            "moe_core.layer.routers.hierarchical:Hierarchical",
            frozenset({K, GROUPS, NORMALIZE, CAPACITY, NOISE, NOISE_KIND}),
            citation="Jordan & Jacobs 1994, Hierarchical Mixtures of Experts and the EM Algorithm",
            check=_groups_divide_experts,
            suggest=_dividing_groups,
            invariants=(
                "k_distinct_experts",
                "weights_follow_normalize",
                "capacity_respected",
                "probabilities_are_two_level",
            ),
            short="hierarchical top-{top_k} of {n_groups} groups",
            views=("group",),
        ),
        RouterSpec(
            "switch",
            "Switch (Fedus 2021): top-1 with a capacity per expert",
            "One expert per point, weighted by its raw probability; points over an expert's capacity are dropped.",
            "moe_core.layer.routers.switch:Switch",
            frozenset({CAPACITY, NOISE, NOISE_KIND}),
            citation="Fedus, Zoph, Shazeer 2021, Switch Transformers",
            fixed={K: 1},
            fixed_hint="use router 'topk' with a capacity_factor for k > 1",
            invariants=("k_distinct_experts", "weights_are_probabilities", "capacity_respected"),
            short="Switch top-1",
            resizable=True,
        ),
        RouterSpec(
            "expert_choice",
            "expert choice (Zhou 2022): experts pick their points",
            "Each expert takes its capacity-many highest-probability points; a point may get none or several.",
            "moe_core.layer.routers.expert_choice:ExpertChoice",
            frozenset({K, CAPACITY, NOISE, NOISE_KIND}),
            citation="Zhou et al. 2022, Mixture-of-Experts with Expert Choice Routing",
            invariants=("equal_expert_load", "experts_take_their_best_points", "weights_are_probabilities"),
            short="expert choice",
            resizable=True,
        ),
        RouterSpec(
            "soft",
            "Soft MoE (Puigcerver 2023): slots mix the points",
            "Each expert's slots take weighted averages of a group of points; each point's output averages the "
            "slots' outputs. Nothing is dropped; a point's output depends on its group.",
            "moe_core.layer.routers.soft:Soft",
            frozenset({SLOTS, SOFT_GROUP}),
            citation="Puigcerver, Riquelme, Mustafa, Houlsby 2023, From Sparse to Soft Mixtures of Experts",
            check=_plain_objective,
            suggested={"model.objective": "blend", "model.combine": "weighted"},
            invariants=("every_expert_runs", "combine_weights_sum_to_one"),
            short="Soft MoE, {slots_per_expert} slot(s) per expert",
            note="Soft MoE: no point is routed; the colour is the expert with the largest share of the point's "
            "output. A point's output depends on its group, so the map and the metrics evaluate every point with "
            "the same model.soft_group - 1 training points.",
        ),
        RouterSpec(
            "dense",
            "dense (Jacobs 1991): every expert, softmax-weighted",
            "Every expert runs on every point; the softmax gate weighs their outputs.",
            "moe_core.layer.routers.dense:Dense",
            frozenset({NOISE, NOISE_KIND}),
            citation="Jacobs, Jordan, Nowlan, Hinton 1991, Adaptive Mixtures of Local Experts",
            invariants=("every_expert_runs", "weights_are_probabilities"),
            short="dense gating",
            resizable=True,
        ),
        RouterSpec(
            "hash",
            "hash: fixed random partition, no learned router",
            "Each point goes to the experts of its nearest frozen random centroids, with equal weights.",
            "moe_core.layer.routers.hash:Hash",
            frozenset({K, CAPACITY}),
            citation="Roller et al. 2021, Hash Layers For Large Sparse Models",
            invariants=("k_distinct_experts", "nearest_centroids", "capacity_respected"),
            equal_weights=True,
            short="hash top-{top_k}",
        ),
    ],
)
