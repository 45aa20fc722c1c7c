"""What each of the MoE family's variants does against the plain top-k MoE, on data where it should
matter: test accuracy, load entropy, cluster NMI, experts and expert multiply-adds per point, and the
training cost per step (a batched seed's share of its batch: compare within a table; bench_core times
each variant alone), as means over seeds (their measured comparison is docs/variants.md).

    python benchmarks/bench_variants.py [--seeds 3] [--steps 1500] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

from moe_core import RunConfig, runtime
from moe_core.experiments.sweep import sweep

CLUSTERS6 = {"data.n_clusters": 6, "model.n_experts": 6}
# name -> (what it shows, the shared settings, [(row label, the row's own settings)])
COMPARISONS = {
    "hierarchical": (
        "two-level gating on 6 clusters, 3 groups of 2 experts",
        CLUSTERS6,
        [("top-1", {}), ("hierarchical top-1", {"model.router": "hierarchical", "model.n_groups": 3})],
    ),
    "top_p": (
        "as many experts as needed on 8 clusters",
        {"data.n_clusters": 8, "model.n_experts": 8},
        [("top-1", {}), ("top-2", {"model.top_k": 2}),
         ("top-p 0.5", {"model.router": "top_p", "model.top_p": 0.5}),
         ("top-p 0.5 + entropy loss", {"model.router": "top_p", "model.top_p": 0.5,
                                       "model.entropy_loss_coef": 0.01})],
    ),
    "heterogeneous": (
        "linear rules per cluster: do linear experts do, at what cost",
        {**CLUSTERS6, "model.expert_hidden": 32},
        [("MLP 32 experts", {}), ("mixed linear + MLP 32", {"model.expert_kind": "mixed",
                                                            "model.expert_mix": "linear,32"})],
    ),
    "soft": (
        "Soft MoE against top-1 and top-2",
        {"model.n_experts": 4},
        [("top-1", {}), ("top-2", {"model.top_k": 2}), ("Soft MoE, 1 slot", {"model.router": "soft"}),
         ("Soft MoE, 4 slots", {"model.router": "soft", "model.slots_per_expert": 4})],
    ),
    "combination": (
        "how top-2's outputs are combined, 6 clusters",
        {**CLUSTERS6, "model.top_k": 2},
        [("weighted", {}), ("attention", {"model.combine": "attention"}), ("learned", {"model.combine": "learned"})],
    ),
    "regularisation": (
        "dense gating: do penalties make experts differ",
        {"model.router": "dense"},
        [("none", {}), ("expert decay 1e-3", {"model.expert_decay": 0.001}),
         ("diversity by outputs", {"model.diversity_coef": 1.0, "model.diversity_kind": "outputs"}),
         ("diversity by weights", {"model.diversity_coef": 1.0, "model.diversity_kind": "weights"})],
    ),
    "curriculum": (
        "8 clusters, top-1, balance 0.3 and noise 1: constant or annealed",
        {"data.n_clusters": 8, "model.n_experts": 8, "model.aux_loss_coef": 0.3, "model.gate_noise": 1.0},
        [("constant", {}), ("both cosine to 0", {"train.noise_schedule": "cosine", "train.balance_schedule": "cosine"}),
         ("both linear to 0", {"train.noise_schedule": "linear", "train.balance_schedule": "linear"})],
    ),
    "shift_dynamic": (
        "4 clusters, the last 2 appear at 40% of training; 2 experts of 2 hidden units to start",
        {"model.n_experts": 2, "data.shift_kind": "add", "model.balance": "none", "model.expert_hidden": 2},
        [("2 experts", {}), ("4 experts", {"model.n_experts": 4}),
         ("2 + split rule", {"train.split_above": 1.05, "train.max_experts": 4, "train.grow_every": 250})],
    ),
    "shift_move": (
        "4 clusters move half way at 40% of training; does a removal rule help",
        {"data.shift_kind": "move"},
        [("top-1", {}), ("top-1 + remove and split", {"train.remove_below": 0.3, "train.split_above": 1.6,
                                                      "train.grow_every": 200})],
    ),
}  # fmt: skip
SHOWN = ("test_accuracy", "load_entropy", "cluster_nmi", "expert_similarity", "experts_per_point", "expert_flops")


def compare(name: str, seeds: int, steps: int) -> list[dict]:
    what, shared, rows = COMPARISONS[name]
    base = RunConfig().replace(**{"train.steps": steps, **shared})
    if name.startswith("shift"):
        base = base.replace(**{"data.shift_step": int(0.4 * steps)})
    out = []
    for label, changes in rows:
        result = sweep(base.replace(**changes), {}, seeds=seeds)
        row = {"comparison": name, "variant": label}
        for metric in SHOWN:
            values = [r.metrics[metric] for r in result.rows if r.metrics.get(metric) is not None]
            row[metric] = float(np.mean(values)) if values else None
        row["ms_per_step"] = 1000 * float(np.mean([r.seconds / max(r.steps, 1) for r in result.rows]))
        out.append(row)
    print(f"\n{name}: {what} ({seeds} seeds, {steps} steps)")
    print(f"{'variant':<28} {'accuracy':>8} {'load H':>7} {'NMI':>6} {'alike':>6} {'exp/pt':>6} {'flops/pt':>8} "
          f"{'ms/step':>7}")  # fmt: skip
    for row in out:
        cells = [
            f"{row['test_accuracy']:>8.1%}",
            f"{row['load_entropy']:>7.2f}",
            _num(row["cluster_nmi"], 6),
            _num(row["expert_similarity"], 6),
            f"{row['experts_per_point']:>6.2f}",
            f"{row['expert_flops']:>8.0f}",
            f"{row['ms_per_step']:>7.2f}",
        ]
        print(f"{row['variant']:<28} " + " ".join(cells), flush=True)
    return out


def _num(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--only", nargs="*", default=list(COMPARISONS), help="comparisons to run")
    parser.add_argument("--json", action="store_true", help="end with one JSON line: the rows")
    args = parser.parse_args()
    runtime.configure(1)
    started = time.perf_counter()
    rows = [row for name in args.only for row in compare(name, args.seeds, args.steps)]
    print(f"\n{len(rows)} variants in {time.perf_counter() - started:.0f} s")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
