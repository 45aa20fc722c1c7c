"""How close a 16-expert step can get to 5x the tutorial: ours, the tutorial and the no-dispatch floor.

The floor (benchmarks/floor_moe.py) routes like ours but runs every slot through one expert: no sort,
gather or pack. Where the tutorial is under 5x the floor, no dispatch reaches 5x there. Timed as in
benchmarks/bench_core.py (best of interleaved rounds, the product's optimiser step, one thread).

    python benchmarks/bench_floor.py [--experts 16]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_core import GRID, time_row

from moe_core import runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=16)
    args = parser.parse_args()
    runtime.configure(1)
    grid = {**GRID, "experts": (args.experts,)}
    rows = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    print(f"ms per training step, {args.experts} experts, one thread")
    header = f"{'dim':>4} {'hidden':>6} {'k':>2} {'batch':>6} {'routing':>10} | "
    print(header + f"{'ours':>6} {'tutorial':>8} {'floor':>6} | {'tut/ours':>8} {'tut/floor':>9}")
    short = 0
    for row in rows:
        ms = time_row(row, ("ours", "tutorial", "floor"))
        over_floor = ms["tutorial"] / ms["floor"]
        short += over_floor < 5
        print(
            f"{row['dim']:>4} {row['hidden']:>6} {row['top_k']:>2} {row['batch']:>6} {row['routing']:>10} | "
            f"{ms['ours']:>6.2f} {ms['tutorial']:>8.2f} {ms['floor']:>6.2f} | "
            f"{ms['tutorial'] / ms['ours']:>8.2f} {over_floor:>9.2f}",
            flush=True,
        )
    print(f"rows where even the floor is under 5x the tutorial: {short} of {len(rows)}")


if __name__ == "__main__":
    main()
