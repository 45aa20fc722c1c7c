"""Training-step speed: ours against the tutorial's MoE and a per-expert loop, on the same configurations.

Each row trains (forward, backward, and the product's Adam step from moe_core.layer.fast.fused_adam for all three)
one configuration three ways: moe_core's MoE (moe_core/layer/fast/dispatch.py: on the CPU slots sorted by expert and
packed into batched matmuls, on a GPU a grouped matmul or dense experts), the
tutorial's implementation (benchmarks/tutorial_moe.py: every expert on every point, masks to combine)
and a Mixtral-style per-expert loop over stacked weights (benchmarks/loop_moe.py). All three get the
same gate weights, so they route the same way: "balanced" spreads points evenly, "collapsed" sends
every first choice to expert 0. Then the default app configuration's headless training speed, each
variant's (top-p, hierarchical, mixed experts, Soft MoE, the combinations, regularisation, schedules,
the split rule), and the cost of one 100 x 100 map probe.

    python benchmarks/bench_core.py [--quick] [--threads 1] [--device cpu] [--json]

With --device cuda each round ends with a synchronisation, so a round times the GPU's work too.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from floor_moe import NoDispatchMoE
from loop_moe import LoopMoE
from tutorial_moe import MixtureOfExperts

from moe_core import RunConfig, Trainer, runtime
from moe_core.layer import losses
from moe_core.layer.build import Build
from moe_core.layer.fast import FAST, fused_adam
from moe_core.layer.moe import MoE
from moe_core.measure.probe import probe_grid
from moe_core.settings.table import ModelConfig
from moe_core.training.optimizers import make_optimizer

IMPLEMENTATIONS = ("ours", "tutorial", "loop")
GRID = {
    "dim": (2, 32),
    "hidden": (16, 128),
    "experts": (4, 16, 64),
    "top_k": (1, 2),
    "batch": (512, 4096),
    "routing": ("balanced", "collapsed"),
}
N_OUT = 2
# Each implementation is timed in REPEATS rounds, interleaved with the others, and keeps its best
# round: on a small shared machine the least disturbed round is the most faithful.
REPEATS, ROUND_SECONDS, MIN_STEPS, MAX_STEPS = 5, 0.1, 3, 100


def gate_weights(dim: int, n_experts: int, routing: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Gate rows spread evenly over directions (balanced), or a bias that wins every first choice (collapsed)."""
    g = torch.Generator().manual_seed(seed)
    if dim == 2:
        angle = 2 * math.pi * torch.arange(n_experts) / n_experts
        weight = 3 * torch.stack([angle.cos(), angle.sin()], dim=1)
    else:
        weight = 3 * F.normalize(torch.randn(n_experts, dim, generator=g), dim=1)
    bias = torch.zeros(n_experts)
    if routing == "collapsed":
        bias[0] = 50.0
    return weight, bias


def build(kind: str, dim: int, hidden: int, n_experts: int, top_k: int) -> torch.nn.Module:
    if kind == "ours":
        cfg = ModelConfig(
            n_experts=n_experts, top_k=top_k, normalize="softmax_topk", balance="none", expert_hidden=hidden
        )
        return MoE(cfg, Build(dim, N_OUT, classification=True))
    if kind == "tutorial":
        return MixtureOfExperts(dim, hidden, N_OUT, n_experts, top_k)
    if kind == "floor":  # benchmarks/bench_floor.py's
        return NoDispatchMoE(dim, hidden, N_OUT, n_experts, top_k)
    return LoopMoE(dim, hidden, N_OUT, n_experts, top_k)


def _gate(model: torch.nn.Module) -> torch.nn.Linear:
    return model.router.gate if isinstance(model, MoE) else model.gate


def _logits(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    return out.output_NO if isinstance(model, MoE) else out


def trainer_step(kind: str, row: dict, device: str = "cpu"):
    """A function that runs one training step of this implementation on this configuration."""
    torch.manual_seed(0)
    model = build(kind, row["dim"], row["hidden"], row["experts"], row["top_k"])
    weight, bias = gate_weights(row["dim"], row["experts"], row["routing"])
    with torch.no_grad():
        _gate(model).weight.copy_(weight)
        _gate(model).bias.copy_(bias)
    model.to(device)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(row["batch"], row["dim"], generator=g).to(device)
    y = torch.randint(0, N_OUT, (row["batch"],), generator=g).to(device)
    optimizer = make_optimizer("adam", model.parameters(), lr=1e-3)

    def step() -> None:
        loss = losses.task_loss(_logits(model, x), y, True, "mean", FAST.log_softmax)  # the product's loss
        fused_adam.clear_grads(optimizer)
        loss.backward()
        fused_adam.step(optimizer)

    for _ in range(2):
        step()
    return step


def _synchronize(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _round_ms(step, device: str = "cpu") -> float:
    steps, start = 0, time.perf_counter()
    while steps < MIN_STEPS or (time.perf_counter() - start < ROUND_SECONDS and steps < MAX_STEPS):
        step()
        steps += 1
    _synchronize(device)
    return (time.perf_counter() - start) / steps * 1000


def time_row(row: dict, kinds: tuple[str, ...] = IMPLEMENTATIONS, device: str = "cpu") -> dict[str, float]:
    """Best-of-REPEATS milliseconds per step for each implementation, rounds interleaved."""
    steps = {kind: trainer_step(kind, row, device) for kind in kinds}
    best = dict.fromkeys(kinds, float("inf"))
    for _ in range(REPEATS):
        for kind, step in steps.items():
            _synchronize(device)
            best[kind] = min(best[kind], _round_ms(step, device))
    return best


# The MoE family's variants (README, The MoE family), each the default run with its settings: what each costs a step.
VARIANTS = {
    "top-1 (default)": {},
    "top-2": {"model.top_k": 2},
    "top-p 0.5": {"model.router": "top_p", "model.top_p": 0.5},
    "hierarchical 2x2, top-1": {"model.router": "hierarchical", "model.n_groups": 2},
    "mixed linear + MLP 16": {"model.expert_kind": "mixed", "model.expert_mix": "linear,16"},
    "Soft MoE, 1 slot per expert": {"model.router": "soft"},
    "attention combination, top-2": {"model.combine": "attention", "model.top_k": 2},
    "learned combination, top-2": {"model.combine": "learned", "model.top_k": 2},
    "diversity by outputs": {"model.diversity_coef": 0.1, "model.diversity_kind": "outputs"},
    "expert decay": {"model.expert_decay": 0.001},
    "noise + balance schedules": {"model.gate_noise": 1.0, "train.noise_schedule": "cosine",
                                  "train.balance_schedule": "linear"},
    "split rule every 250 steps": {"train.split_above": 1.5, "train.max_experts": 8},
}  # fmt: skip


def default_app_steps_per_second(
    rounds: int = 15, steps: int = 200, device: str = "cpu", changes: dict | None = None
) -> float:
    """Training steps per second of the app's default run (with `changes`), headless: the best of
    `rounds` calls of `step(steps)`, as the app's trainer thread makes them (and as the rows above keep
    their best round). Each call ends with a host synchronisation (its loss check), so GPU work is counted."""
    trainer = Trainer(RunConfig().replace(**{"train.device": device, **(changes or {})}))
    trainer.step(steps)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        trainer.step(steps)
        best = min(best, time.perf_counter() - start)
    return steps / best


def map_probe_ms(n_experts: int, repeats: int = 20, device: str = "cpu") -> float:
    trainer = Trainer(RunConfig().replace(**{"model.n_experts": n_experts, "train.device": device}))
    probe_grid(trainer.model, trainer.data, 100, trainer.device)
    start = time.perf_counter()
    for _ in range(repeats):
        probe_grid(trainer.model, trainer.data, 100, trainer.device)
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the product uses 1 on a small CPU)")
    parser.add_argument("--quick", action="store_true", help="only the 16-expert, batch-512 rows")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the tensors and models live there)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line: the rows")
    args = parser.parse_args()
    runtime.configure(args.threads)
    device = args.device
    keys = list(GRID)
    rows = [dict(zip(keys, values, strict=True)) for values in itertools.product(*GRID.values())]
    if args.quick:
        rows = [r for r in rows if r["experts"] == 16 and r["batch"] == 512]
    where = (
        torch.cuda.get_device_name() if torch.device(device).type == "cuda" else f"{torch.get_num_threads()} thread(s)"
    )
    print(f"torch {torch.__version__}, {where}, ms per training step (lower is better)")
    header = f"{'dim':>4} {'hidden':>6} {'experts':>7} {'k':>2} {'batch':>6} {'routing':>10} | {'ours':>8} "
    print(header + f"{'tutorial':>9} {'loop':>8} | {'tut/ours':>8} {'loop/ours':>9}")
    for row in rows:
        row.update({f"{kind}_ms": round(ms, 3) for kind, ms in time_row(row, device=device).items()})
        row["tutorial_over_ours"] = round(row["tutorial_ms"] / row["ours_ms"], 2)
        row["loop_over_ours"] = round(row["loop_ms"] / row["ours_ms"], 2)
        print(
            f"{row['dim']:>4} {row['hidden']:>6} {row['experts']:>7} {row['top_k']:>2} {row['batch']:>6} "
            f"{row['routing']:>10} | {row['ours_ms']:>8.2f} {row['tutorial_ms']:>9.2f} {row['loop_ms']:>8.2f} | "
            f"{row['tutorial_over_ours']:>8.2f} {row['loop_over_ours']:>9.2f}",
            flush=True,
        )
    _summary(rows)
    print(f"default app configuration, headless: {default_app_steps_per_second(device=device):,.0f} steps/s")
    print("the MoE family's variants, headless (the default run with each change):")
    for name, changes in VARIANTS.items():
        rate = default_app_steps_per_second(rounds=5, device=device, changes=changes)
        print(f"  {name:<32} {rate:>7,.0f} steps/s  {1000 / rate:>6.2f} ms/step", flush=True)
    probes = f"{map_probe_ms(4, device=device):.1f} ms with 4 experts, {map_probe_ms(64, device=device):.1f} ms with 64"
    print(f"one 100 x 100 map probe: {probes}")
    if args.json:
        print(json.dumps(rows))


def _summary(rows: list[dict]) -> None:
    big = [r for r in rows if r["experts"] >= 16]
    pairs = {}
    for r in rows:
        pairs.setdefault(tuple(r[k] for k in GRID if k != "routing"), {})[r["routing"]] = r["ours_ms"]
    collapse = [p["collapsed"] / p["balanced"] for p in pairs.values() if len(p) == 2]
    print(
        f"tutorial/ours: min {min(r['tutorial_over_ours'] for r in rows):.2f} overall, "
        f"min {min((r['tutorial_over_ours'] for r in big), default=float('nan')):.2f} at 16+ experts, "
        f"5x or more on {sum(r['tutorial_over_ours'] >= 5 for r in big)} of {len(big)} rows at 16+ experts"
    )
    print(
        f"loop/ours: min {min(r['loop_over_ours'] for r in rows):.2f} overall, "
        f"min {min((r['loop_over_ours'] for r in big), default=float('nan')):.2f} at 16+ experts, "
        f"1.3x or more on {sum(r['loop_over_ours'] >= 1.3 for r in big)} of {len(big)} rows at 16+ experts"
    )
    if collapse:
        print(f"ours collapsed/balanced: max {max(collapse):.2f}")


if __name__ == "__main__":
    main()
