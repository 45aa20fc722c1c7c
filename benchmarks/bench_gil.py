"""Training beside busy Python threads: the floor of one interpreter serving many sessions.

A step of the default run makes some two hundred torch calls; each gives Python's GIL up and must wait
for it back, up to the switch interval, while another thread runs Python (a page's script run, say).
This trains the default run for a few seconds alone and beside N threads that loop in pure Python, at
several switch intervals, and prints steps/s and how much Python work the busy threads got done.

    python benchmarks/bench_gil.py [--seconds 5] [--busy 0 1 3] [--intervals 0.005 0.001 0.0002 0.00005]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from moe_core import runtime
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer


def measure(seconds: float, busy: int, interval: float) -> tuple[float, float]:
    """(steps/s of the trainer, loops/s of the busy threads together)."""
    sys.setswitchinterval(interval)
    trainer = Trainer(RunConfig())
    trainer.step(20)  # first-step costs out of the measure
    stop, loops = threading.Event(), [0] * busy

    def spin(i: int) -> None:
        while not stop.is_set():
            sum(j * j for j in range(2000))
            loops[i] += 1

    threads = [threading.Thread(target=spin, args=(i,)) for i in range(busy)]
    for thread in threads:
        thread.start()
    started, steps = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        trainer.step(5)
        steps += 5
    elapsed = time.perf_counter() - started
    stop.set()
    for thread in threads:
        thread.join()
    return steps / elapsed, sum(loops) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1, 3])
    parser.add_argument("--intervals", type=float, nargs="+", default=[0.005, 0.001, 0.0002, 0.00005])
    args = parser.parse_args()
    runtime.configure()
    default = sys.getswitchinterval()
    print(f"{'switch interval':>16} {'busy threads':>13} {'steps/s':>9} {'busy loops/s':>13}")
    for interval in args.intervals:
        for busy in args.busy:
            steps, loops = measure(args.seconds, busy, interval)
            print(f"{interval * 1000:>13.2f} ms {busy:>13} {steps:>9.0f} {loops:>13.0f}")
    sys.setswitchinterval(default)


if __name__ == "__main__":
    main()
