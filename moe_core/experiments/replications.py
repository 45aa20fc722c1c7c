"""The theory papers' experiments as presets: each model of a paper's table as a RunConfig, trained over
seeds (batched, `moe_core.training.seed_batch`) and summarised as the paper reports it, beside its numbers.

    from moe_core.experiments.replications import REPLICATIONS, replicate
    rows = replicate("chen2022", seeds=3)  # one dict per model: means, stds, the paper's values

`python -m moe_core replicate NAME [--seeds N] [--quick] [--json]` prints the same table.
docs/replications.md records what these gave, with settings and times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moe_core.settings.config import RunConfig
from moe_core.settings.registry import Entry, Registry


@dataclass(frozen=True)
class PaperModel:
    """One row of a paper's table: its name, the settings that make it, the paper's numbers (as text)."""

    name: str
    changes: dict[str, Any]
    paper: dict[str, str]


@dataclass(frozen=True)
class Replication(Entry):
    citation: str = ""
    base: dict[str, Any] = field(default_factory=dict)  # every model's settings
    models: tuple[PaperModel, ...] = ()
    metrics: tuple[str, ...] = ()  # the final metrics the paper reports, in its order
    aliases: dict[str, str] = field(default_factory=dict)  # a name the paper's readers know -> our metric
    # The lesson-sized version: these settings, and every model's steps times quick_steps.
    quick: dict[str, Any] = field(default_factory=dict)
    quick_steps: float = 1.0

    def configs(self, quick: bool = False, overrides: dict | None = None) -> list[tuple[PaperModel, RunConfig]]:
        """Each model's RunConfig; `overrides` ({"section.name": value}) apply last, to every model."""
        base = RunConfig().replace(**{**self.base, **(self.quick if quick else {})})
        out = []
        for model in self.models:
            cfg = base.replace(**model.changes)
            if quick:
                cfg = cfg.replace(**{"train.steps": max(1, round(cfg.train.steps * self.quick_steps))})
            out.append((model, cfg.replace(**(overrides or {}))))
        return out


# Chen et al.'s setting 1, from their released notebooks (../shared/reference, section 4b): 4 clusters,
# 4 patches of 50, noise 1/sqrt(50), inputs times 10, 16,000 points trained full batch; MoE: 8 experts
# of 8 filters per class, started at 0.001 of the default, normalised GD at 1e-3; the router shared by
# the patches, zero at start, U(0, 1) noise, top-1, SGD at 0.1, no balancing.
CHEN_MOE = {
    "model.n_experts": 8,
    "model.expert_hidden": 16,
    "model.expert_init_scale": 0.001,
    "train.optimizer": "ngd",
    "train.lr": 0.001,
    "train.router_optimizer": "sgd",
    "train.router_lr": 0.1,
    "train.steps": 500,
}
# Their single models: one ConvNet of 64 filters, default start, Adam with weight decay 5e-4, 800 epochs.
_CHEN_SINGLE = {"model.n_experts": 1, "model.expert_hidden": 64, "train.optimizer": "adam",
                "train.weight_decay": 0.0005, "train.steps": 800}  # fmt: skip

REPLICATIONS: Registry[Replication] = Registry(
    "replication",
    [
        Replication(
            "chen2022",
            "Chen et al. 2022: why nonlinear experts specialise",
            "Cubic MoE experts split the clusters between them (dispatch entropy near 0) and solve the task; "
            "linear experts do not specialise, and single models stay far below.",
            citation="Chen, Deng, Wu, Gu, Li 2022, Towards Understanding Mixture of Experts in Deep Learning "
            "(arXiv 2208.02813), setting 1",
            base={
                "data.name": "cluster_signals",
                "data.dim": 200,
                "data.n_clusters": 4,
                "data.noise": 0.1414,
                "data.input_scale": 10.0,
                "data.seed": 12,
                "data.n_train": 16000,
                "data.n_test": 16000,
                "model.expert_kind": "patch",
                "model.gate": "patch",
                "model.router": "topk",
                "model.top_k": 1,
                "model.noise_kind": "uniform",
                "model.gate_noise": 1.0,
                "model.balance": "none",
                "train.batch_size": 16000,
            },
            models=(
                PaperModel(
                    "MoE, cubic experts",
                    {**CHEN_MOE, "model.expert_activation": "cubic"},
                    {"test_accuracy": "99.46 ± 0.55 %", "dispatch_entropy": "0.098 ± 0.100"},
                ),
                PaperModel(
                    "MoE, linear experts",
                    {**CHEN_MOE, "model.expert_activation": "linear"},
                    {"test_accuracy": "93.00 ± 2.11 %", "dispatch_entropy": "1.300 ± 0.044"},
                ),
                PaperModel(
                    "single model, cubic",
                    {**_CHEN_SINGLE, "model.expert_activation": "cubic", "train.lr": 0.01},
                    {"test_accuracy": "68-79 % (single models)"},
                ),
                PaperModel(
                    "single model, linear",
                    {**_CHEN_SINGLE, "model.expert_activation": "linear", "train.lr": 0.003},
                    {"test_accuracy": "68-79 % (single models)"},
                ),
            ),
            metrics=("test_accuracy", "dispatch_entropy"),
            quick={"data.n_train": 4000, "data.n_test": 2000, "train.batch_size": 4000},
            quick_steps=0.3,
        ),
        Replication(
            "kawata2025",
            "Kawata et al. 2025: MoE finds the latent clusters",
            "With a global single-index signal whose sign flips between clusters, the same-size dense network "
            "learns the clusters' own directions but not the global one; the MoE's experts find it within their "
            "clusters, and its loss falls well below.",
            citation="Kawata, Matsutani, Kinoshita, Nishikawa, Suzuki 2025, Mixture of Experts Provably Detect and "
            "Learn the Latent Cluster Structure in Gradient-Based Learning (arXiv 2506.01656); our parameters",
            # In their spirit (../shared/reference, section 4a): d = 128, 4 clusters at distance 3, He_3 tasks,
            # online SGD, a budget of 4,000 steps of 256 fresh points (1M samples).
            base={
                "data.name": "cluster_single_index",
                "data.dim": 128,
                "data.n_clusters": 4,
                "data.noise": 0.1,
                "data.sampling": "online",
                "data.n_test": 4000,
                "model.n_experts": 8,
                "model.expert_hidden": 16,
                "model.top_k": 1,
                "model.gate_noise": 1.0,
                "train.batch_size": 256,
                "train.lr": 0.003,
                "train.steps": 4000,
            },
            models=(
                PaperModel(
                    "MoE, 8 experts x 16 neurons",
                    {},
                    {"test_loss": "learns (Thm 4.7)", "global_alignment": "recovers w_g"},
                ),
                PaperModel(
                    "dense network, same size",
                    {"model.arch": "dense"},
                    {"test_loss": "fails (Thm 4.3)", "global_alignment": "about 1/sqrt(d)"},
                ),
            ),
            metrics=("test_loss", "global_alignment", "local_alignment"),
            aliases={"alignment": "global_alignment"},
            quick_steps=0.75,
        ),
    ],
)


def replicate(
    name: str,
    seeds: int = 3,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
    overrides: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Train every model of the replication over `seeds` seeds; one dict per model: `model`, `runs`,
    `diverged`, `<metric>_mean` and `_std` for the paper's metrics (and test loss), `paper_<metric>`,
    and `seconds`. Every model's configuration is checked before the first one trains."""
    from moe_core.experiments.sweep import sweep

    spec = REPLICATIONS[name]
    rows = []
    for model, cfg in spec.configs(quick, overrides):
        started = time.perf_counter()
        result = sweep(cfg, {}, seeds=seeds)
        (summary,) = result.summary
        row: dict[str, Any] = {"model": model.name, "runs": summary["runs"], "diverged": summary["diverged"]}
        for metric in (*spec.metrics, "test_loss"):
            row[f"{metric}_mean"], row[f"{metric}_std"] = summary[f"{metric}_mean"], summary[f"{metric}_std"]
        for alias, metric in spec.aliases.items():
            row[f"{alias}_mean"], row[f"{alias}_std"] = row[f"{metric}_mean"], row[f"{metric}_std"]
        row.update({f"paper_{metric}": text for metric, text in model.paper.items()})
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        if progress is not None:
            progress(model.name)
    return rows


def table(name: str, rows: list[dict[str, Any]]) -> str:
    """The rows as the paper's table: mean ± std per metric (accuracy in %), the paper's value beside."""
    spec = REPLICATIONS[name]
    header = ["model"] + [part for m in spec.metrics for part in (m.replace("_", " "), "paper")] + ["seconds"]
    lines = [header]
    for row in rows:
        cells = [row["model"]]
        for metric in spec.metrics:
            cells += [_spread(metric, row[f"{metric}_mean"], row[f"{metric}_std"]), row.get(f"paper_{metric}", "")]
        lines.append([*cells, f"{row['seconds']:.0f}"])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    body = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    return "\n".join(["each cell: mean ± one standard deviation over the seeds (n - 1)", *body])


def _spread(metric: str, mean: float | None, std: float | None) -> str:
    if mean is None:
        return "n/a"
    scale, unit = (100, " %") if metric == "test_accuracy" else (1, "")
    return f"{mean * scale:.2f}{'' if std is None else f' ± {std * scale:.2f}'}{unit}"
