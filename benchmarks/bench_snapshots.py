"""What a run's record costs and holds: snapshots by time alone (five a second, as the page took them
before) against the schedule that measures every step of a run's start and thins as 1/step later
(`app/state/runs.py` SnapshotSchedule), on the default run at full speed, trained in chunks as the worker does.

Prints, per schedule: steps/s, history rows in all and in the first hundred steps (where routing forms
and collapses), the replay's records in the first hundred, and the flip-book's frames there.

    python benchmarks/bench_snapshots.py [--steps 3000] [--chunk 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from moe_core import runtime
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer
from moe_explorer_app.state.replay import map_frames
from moe_explorer_app.state.runs import Run, SnapshotSchedule

SCHEDULES = {
    "by time (0.2 s)": SnapshotSchedule(dense=-1, growth=1e9),  # a gap of a billion steps: the clock alone
    "dense start, 1/step later": SnapshotSchedule(),
}


def measure(schedule: SnapshotSchedule, steps: int, chunk: int) -> dict:
    cfg = RunConfig()
    run = Run(1, Trainer(cfg), Trainer(cfg.replace(**{"model.arch": "dense"})), schedule=schedule)
    run.snapshot()
    started = time.perf_counter()
    while run.trainer.step_count < steps:
        run.advance(min(chunk, steps - run.trainer.step_count))
    seconds = time.perf_counter() - started
    rows = [m.step for m in run.trainer.history]
    frames = [frame.step for frame in map_frames(run, resolution=8)]
    return {
        "steps/s": steps / seconds,
        "rows": len(rows),
        "rows <= 100": sum(s <= 100 for s in rows),
        "replay <= 100": sum(s <= 100 for s in run.timeline.steps()),
        "flip-book <= 100": sum(s <= 100 for s in frames),
        "flip-book": len(frames),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--chunk", type=int, default=50)
    args = parser.parse_args()
    runtime.configure(1)  # one torch thread, as the app trains
    columns = ["steps/s", "rows", "rows <= 100", "replay <= 100", "flip-book <= 100", "flip-book"]
    print(f"default run, {args.steps:,} steps at full speed in chunks of {args.chunk}")
    print(f"{'schedule':<28}" + "".join(f"{c:>18}" for c in columns))
    for name, schedule in SCHEDULES.items():
        result = measure(schedule, args.steps, args.chunk)
        print(f"{name:<28}" + "".join(f"{result[c]:>18,.0f}" for c in columns))


if __name__ == "__main__":
    main()
