"""Start-up: how long the command line takes to answer, against importing torch alone.

Each command runs in a fresh interpreter, several times; the table keeps the median wall time.
`--help` and the listings should answer faster than `import torch`; `train --steps 1` pays for torch,
scikit-learn and the first optimiser.

    python benchmarks/bench_startup.py [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "moe_core --help": [sys.executable, "-m", "moe_core", "--help"],
    "moe_core options": [sys.executable, "-m", "moe_core", "options"],
    "moe_core routers": [sys.executable, "-m", "moe_core", "routers"],
    "moe_core datasets": [sys.executable, "-m", "moe_core", "datasets"],
    "moe_core train --steps 1": [sys.executable, "-m", "moe_core", "train", "--steps", "1"],
}


def seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    rows = {name: seconds(command, args.repeats) for name, command in COMMANDS.items()}
    torch_time = rows["python -c 'import torch'"]
    print(f"{'command':<28} {'median s':>9} {'/ import torch':>15}")
    for name, value in rows.items():
        print(f"{name:<28} {value:>9.3f} {value / torch_time:>15.2f}")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
