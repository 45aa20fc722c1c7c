"""The lessons' verdicts: each reads the rows of a lesson's runs (in grid order) and says whether the
expected thing happened, in one sentence with the numbers it rests on. Thresholds come from runs over
several seeds (tests/test_lessons.py holds each verdict on its default seed and most of seeds 1-4)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from moe_core.experiments.trials import Row


@dataclass(frozen=True)
class Verdict:
    held: bool  # whether the run showed what the lesson expects
    sentence: str  # what happened, with the numbers
    numbers: dict[str, float] = field(default_factory=dict)


def _metric(row: Row, name: str) -> float:
    value = row.metrics[name]
    return float("nan") if value is None else float(value)


def routing(rows: Sequence[Row]) -> Verdict:
    (row,) = rows
    early, last = row.history[0], _metric(row, "cluster_nmi")
    experts, clusters = own_experts(row)
    held = last >= 0.6
    what = "the map has not split by cluster"
    if held:
        what = ("the gate sends each cluster to its own expert" if experts == clusters
                else f"the gate splits the plane by cluster, {clusters} clusters among {experts} experts")  # fmt: skip
    sentence = f"Cluster NMI is {last:.2f} (at step {early['step']} it was {early['cluster_nmi']:.2f}): {what}."
    numbers = {"nmi_early": float(early["cluster_nmi"]), "nmi_end": last, "experts_with_a_cluster": float(experts)}
    return Verdict(held, sentence, numbers)


def own_experts(row: Row) -> tuple[int, int]:
    """(how many experts are the main expert of some cluster, how many clusters) at the end of a run, from
    its dispatch table: as many as there are clusters when each cluster has an expert of its own."""
    table_EC = np.array(row.history[-1]["contingency"], dtype=float)
    return len(set(table_EC.argmax(axis=0).tolist())), table_EC.shape[1]


def sparsity(rows: Sequence[Row]) -> Verdict:
    accuracy = {row.settings["model.top_k"]: _metric(row, "test_accuracy") for row in rows}
    held = accuracy[1] >= accuracy[4] - 0.02
    parts = ", ".join(f"top-{k} {a:.1%}" for k, a in accuracy.items())
    tail = "the same quality for a quarter of the expert compute" if held else "top-1 falls short of top-4"
    return Verdict(held, f"{parts}: {tail}.", {f"accuracy_top{k}": a for k, a in accuracy.items()})


EVEN_LOAD = 0.8  # load entropy (1 = even) above which a load counts as even; the default seed's cures end
# at 0.92 (auxiliary loss), 0.64 (importance) and 0.37 (bias), no balancing at 0.23


def collapse(rows: Sequence[Row]) -> Verdict:
    by = {row.settings["model.balance"]: row for row in rows}
    accuracy = {name: _metric(row, "test_accuracy") for name, row in by.items()}
    entropy = {name: _metric(row, "load_entropy") for name, row in by.items()}
    idle, experts = by["none"].metrics["dead_experts"], len(by["none"].history[-1]["load_share"])
    held = entropy["none"] < 0.5 and accuracy["aux_loss"] - accuracy["none"] >= 0.10

    def cure(name: str) -> str:
        recovers = accuracy[name] >= accuracy["none"] + 0.05
        even = entropy[name] >= EVEN_LOAD
        how = ("recovers, the load even" if even else "recovers, but the load stays uneven") if recovers else (
            "does not recover" + (", though the load is even" if even else ""))  # fmt: skip
        return f"{balance_words(name)}: {accuracy[name]:.1%} accurate, load entropy {entropy[name]:.2f} ({how})"

    sentence = (
        f"Without balancing the load entropy fell to {entropy['none']:.2f} ({idle} of {experts} experts idle) and "
        f"accuracy to {accuracy['none']:.1%}"
        + (": the router collapsed and it cost accuracy" if held else "")
        + f". With balancing: {'; '.join(cure(name) for name in by if name != 'none')}"
    )
    numbers = {f"accuracy_{name}": a for name, a in accuracy.items()}
    numbers |= {f"load_entropy_{name}": h for name, h in entropy.items()} | {"idle_experts_none": float(idle)}
    return Verdict(held, sentence + ".", numbers)


def balance_words(name: str) -> str:
    """A balance strategy as the charts' legends name it, without its source: 'auxiliary loss'."""
    from moe_core.settings.table import OPTIONS  # here: the options table loads every registry, which verdicts need not

    return OPTIONS["model.balance"].choices[name].label.split(" (")[0]


def capacity(rows: Sequence[Row]) -> Verdict:
    by = {row.settings["model.capacity_factor"]: row for row in rows}
    drops = {cf: _metric(row, "drop_rate") for cf, row in by.items()}
    accuracy = {cf: _metric(row, "test_accuracy") for cf, row in by.items()}
    held = drops[0.5] > 0.3 and drops[2.0] < 0.01 and accuracy[0.5] < accuracy[2.0] - 0.05
    parts = "; ".join(f"capacity {cf:g}: {drops[cf]:.0%} dropped, {accuracy[cf]:.1%} accurate" for cf in by)
    tail = "too little capacity drops points and costs accuracy" if held else "capacity made no clear difference"
    numbers = {f"drop_rate_{cf:g}": drops[cf] for cf in by} | {f"accuracy_{cf:g}": accuracy[cf] for cf in by}
    return Verdict(held, f"{parts}: {tail}.", numbers)


def expert_choice(rows: Sequence[Row]) -> Verdict:
    (row,) = rows
    cv2, unrouted = _metric(row, "load_cv2"), _metric(row, "unrouted_rate")
    held = cv2 < 1e-6 and unrouted > 0
    sentence = (
        f"Load CV² is {cv2:.3f} (every expert took exactly its capacity) and {unrouted:.1%} of points were taken "
        f"by no expert{': balance is perfect by design, at the price of unserved points' if held else ''}."
    )
    return Verdict(held, sentence, {"load_cv2": cv2, "unrouted_rate": unrouted})


def nonlinear_experts(rows: Sequence[Row]) -> Verdict:
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


def latent_clusters(rows: Sequence[Row]) -> Verdict:
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


def exploration(rows: Sequence[Row]) -> Verdict:
    by = {row.settings["model.gate_noise"] > 0: row for row in rows}
    early = {noisy: _early(row, "load_entropy") for noisy, row in by.items()}
    speed = {noisy: _mean(row, "test_accuracy") for noisy, row in by.items()}
    final = {noisy: _metric(row, "test_accuracy") for noisy, row in by.items()}
    dispatch = {noisy: _metric(row, "dispatch_entropy") for noisy, row in by.items()}
    own = {noisy: own_experts(row) for noisy, row in by.items()}
    held = early[True] >= early[False] + 0.2 and speed[True] > speed[False] and final[True] >= final[False] - 0.01
    (experts, clusters), plain = own[True], own[False][0]
    found = (f"each of the {clusters} clusters ended with an expert of its own" if experts == clusters
             else f"its {clusters} clusters ended with {experts} experts of their own")  # fmt: skip
    sentence = (
        f"Over the first quarter of training the load entropy was {early[True]:.2f} with noise and "
        f"{early[False]:.2f} without; accuracy averaged over training {speed[True]:.1%} against {speed[False]:.1%}, "
        f"and ended at {final[True]:.1%} against {final[False]:.1%} (dispatch entropy {dispatch[True]:.2f} against "
        f"{dispatch[False]:.2f}): "
        + (
            f"noise let every expert try every cluster early, and {found} (without noise, {plain} experts shared them)"
            if held
            else "noise made no clear difference this time"
        )
    )
    numbers = {f"{key}_{'noise' if noisy else 'plain'}": value[noisy] for noisy in (True, False)
               for key, value in (("early_load_entropy", early), ("mean_accuracy", speed),
                                  ("accuracy", final), ("dispatch_entropy", dispatch))}  # fmt: skip
    numbers |= {f"experts_with_a_cluster_{'noise' if noisy else 'plain'}": float(own[noisy][0]) for noisy in own}
    return Verdict(held, sentence + ".", numbers)


def _early(row: Row, name: str) -> float:
    """The metric's mean over the first quarter of the run's snapshots."""
    values = [float(s[name]) for s in row.history[: max(1, len(row.history) // 4)]]
    return sum(values) / len(values)


def _mean(row: Row, name: str) -> float:
    """The metric's mean over all the run's snapshots: how soon it got there, not only where it ended."""
    return sum(float(s[name]) for s in row.history) / len(row.history)


GROUP_SIZE = 2  # the hierarchical lesson's groups of two experts (the MoE tutorial's diagram: 3 groups of 2)


def hierarchical(rows: Sequence[Row]) -> Verdict:
    from moe_core.measure.metrics import dispatch_entropy  # here: metrics loads scikit-learn, which listings avoid

    by = {row.settings["model.router"]: row for row in rows}
    tree = by["hierarchical"]
    table_EC = np.array(tree.history[-1]["contingency"], dtype=float)
    group_h = dispatch_entropy(table_EC.reshape(-1, GROUP_SIZE, table_EC.shape[1]).sum(axis=1))
    expert_h, clusters = _metric(tree, "dispatch_entropy"), table_EC.shape[1]
    accuracy = {name: _metric(row, "test_accuracy") for name, row in by.items()}
    held = (
        group_h <= 0.6 * math.log(clusters)
        and expert_h < group_h
        and accuracy["hierarchical"] >= accuracy["topk"] - 0.03
    )
    sentence = (
        f"The first gate split the {clusters} clusters among the groups (H(cluster | group) = {group_h:.2f} nats; "
        f"{math.log(clusters):.2f} if it had not) and the experts split them further within each group "
        f"(H(cluster | expert) = {expert_h:.2f}); accuracy {accuracy['hierarchical']:.1%} against "
        f"{accuracy['topk']:.1%} for flat top-1: "
        + ("coarse regions, then finer ones inside them" if held else "the two levels did not show")
    )
    numbers = {"group_dispatch_entropy": group_h, "expert_dispatch_entropy": expert_h}
    numbers |= {f"accuracy_{name}": a for name, a in accuracy.items()}
    return Verdict(held, sentence + ".", numbers)


def top_p(rows: Sequence[Row]) -> Verdict:
    by = {row.settings["model.router"]: row for row in rows}
    used = {name: _metric(row, "experts_per_point") for name, row in by.items()}
    accuracy = {name: _metric(row, "test_accuracy") for name, row in by.items()}
    held = 1.0 < used["top_p"] < used["topk"] and accuracy["top_p"] >= accuracy["topk"] - 0.02
    saved = 1 - used["top_p"] / used["topk"]
    sentence = (
        f"Top-p used {used['top_p']:.2f} experts per point against top-2's {used['topk']:.0f} "
        f"({saved:.0%} less expert compute) at {accuracy['top_p']:.1%} accuracy against {accuracy['topk']:.1%}: "
        + ("one expert where the gate is sure, more where it is not" if held else "no saving this time")
    )
    numbers = {f"experts_per_point_{name}": u for name, u in used.items()}
    numbers |= {f"accuracy_{name}": a for name, a in accuracy.items()}
    return Verdict(held, sentence + ".", numbers)


def growing(rows: Sequence[Row]) -> Verdict:
    by = {(row.settings["model.n_experts"], row.settings["train.split_above"] is not None): row for row in rows}
    fixed2, fixed4, grown = by[2, False], by[4, False], by[2, True]
    final = {"2 experts": _metric(fixed2, "test_accuracy"), "4 experts": _metric(fixed4, "test_accuracy"),
             "2 that split": _metric(grown, "test_accuracy")}  # fmt: skip
    experts = len(grown.history[-1]["load_share"])
    held = experts > 2 and final["2 that split"] > final["2 experts"] + 0.01
    parts = ", ".join(f"{name} {a:.1%}" for name, a in final.items())
    sentence = f"After new clusters appeared: {parts}; the splitting run ended with {experts} experts: " + (
        "growing experts followed the task where a fixed pair could not" if held else "splitting did not help"
    )
    numbers = {f"accuracy_{name.replace(' ', '_')}": a for name, a in final.items()} | {"experts_grown": float(experts)}
    return Verdict(held, sentence + ".", numbers)
