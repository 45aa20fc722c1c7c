"""Sweep speed: the time to train 1, 2, 4, 8 and 16 seeds of one setting batched into one stacked
model, against one after another in this process and with two worker processes, at default settings
and at 16 experts.

    python benchmarks/bench_sweep.py [--steps 500] [--seeds 1,2,4,8,16] [--json]

Each cell is the wall time of `moe_core.experiments.sweep.sweep` for that many seeds (planning, training, the
final measurement of every run; with workers, starting the processes too, about 3 s for torch's
import). The "x one" columns divide by the time of one seed trained alone, after a warm-up run.
The bar: 8 seeds batched in at most 3x the time of one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from moe_core import runtime
from moe_core.experiments.sweep import sweep
from moe_core.settings.config import RunConfig

SETTINGS = {"default": {}, "16 experts": {"model.n_experts": 16}}


def timed(base: RunConfig, seeds: int, workers: int, batch_seeds: bool) -> float:
    started = time.perf_counter()
    sweep(base, {}, seeds=seeds, workers=workers, batch_seeds=batch_seeds)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seeds", default="1,2,4,8,16")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runtime.configure(1)  # as each worker process does: the comparison is of the same single-thread runs
    counts = [int(n) for n in args.seeds.split(",")]
    rows = []
    for name, changes in SETTINGS.items():
        base = RunConfig().replace(**changes, **{"train.steps": args.steps})
        timed(base, 1, 1, False)  # warm-up: the first run of a process builds the data and loads kernels
        one = timed(base, 1, 1, False)
        for n in counts:
            alone = one if n == 1 else timed(base, n, 1, False)
            batched = timed(base, n, 1, True)
            two = timed(base, n, 2, False)
            rows.append({"setting": name, "seeds": n, "one_after_another_s": alone, "batched_s": batched,
                         "two_workers_s": two, "alone_x": alone / one, "batched_x": batched / one,
                         "two_workers_x": two / one})  # fmt: skip
    print(f"{args.steps} steps per run; x one: the time over one seed trained alone")
    print(
        f"{'setting':>11} {'seeds':>5} {'one after another':>18} {'x one':>6} {'batched':>9} {'x one':>6} "
        f"{'2 workers':>10} {'x one':>6}"
    )
    for r in rows:
        print(
            f"{r['setting']:>11} {r['seeds']:>5} {r['one_after_another_s']:>17.2f}s {r['alone_x']:>6.1f} "
            f"{r['batched_s']:>8.2f}s {r['batched_x']:>6.1f} {r['two_workers_s']:>9.2f}s {r['two_workers_x']:>6.1f}"
        )
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
