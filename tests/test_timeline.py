"""A run's recorded weights: bounded in count and memory, every step of the start kept, later steps
thinned as 1/step, the newest always there, and the flip-book's choice dense at the start too."""

import numpy as np
import torch

from moe_core.settings.config import RunConfig
from moe_explorer_app.state.runs import SnapshotSchedule
from moe_explorer_app.state.timeline import DENSE_STEPS, WeightTimeline

WEIGHTS = {"w": torch.zeros(3)}


def scheduled_steps(last: int) -> list[int]:
    """The steps a run playing at full speed snapshots at, up to `last`."""
    schedule, steps = SnapshotSchedule(), [0]
    while steps[-1] < last:
        steps.append(schedule.next_step(steps[-1]))
    return steps


def test_a_long_run_keeps_every_step_of_its_start_and_later_steps_thinning_as_one_over_the_step():
    timeline = WeightTimeline(max_count=240)
    for step in scheduled_steps(50_000):
        timeline.record(step, WEIGHTS, RunConfig())
    steps = timeline.steps()
    assert len(steps) <= 240 and steps[-1] >= 50_000  # bounded, and up to date
    assert set(range(DENSE_STEPS + 1)) <= set(steps)  # where routing forms: every step
    later = np.array([s for s in steps if s > DENSE_STEPS], dtype=float)
    ratios = later[1:] / later[:-1]  # evenly spread in log(step): each the previous times about the same
    assert len(later) >= 40 and ratios.max() <= 1.6 * np.median(ratios)


def test_a_record_taken_every_ten_steps_still_keeps_its_start_whole():
    # at a slow speed the snapshots come by time, evenly in steps; the start is still kept whole
    timeline = WeightTimeline(max_count=60)
    for step in range(0, 20_000, 10):
        timeline.record(step, WEIGHTS, RunConfig())
    steps = timeline.steps()
    assert steps[:11] == list(range(0, 101, 10)) and len(steps) <= 60 and steps[-1] == 19_990
    assert sum(s < 2_000 for s in steps) > sum(s > 18_000 for s in steps)  # denser early than late


def test_large_models_keep_fewer_snapshots_and_the_same_step_is_recorded_once():
    big = {"w": torch.zeros(1000)}  # 4 kB a snapshot
    timeline = WeightTimeline(max_count=240, max_bytes=40_000)
    for step in scheduled_steps(3_000):
        timeline.record(step, big, RunConfig())
    steps = timeline.steps()
    assert len(steps) <= 10 and steps[0] == 0 and steps[-1] >= 3_000
    assert sum(s <= DENSE_STEPS for s in steps) >= 3  # the start keeps its share of a small record
    small = WeightTimeline()
    small.record(5, {"w": torch.zeros(2)}, RunConfig())
    small.record(5, {"w": torch.ones(2)}, RunConfig())  # the weights changed in place (a file loaded)
    assert small.steps() == [5] and torch.equal(small.at(5).state["w"], torch.ones(2))


def test_a_spread_of_the_record_is_dense_at_the_start_and_ends_with_the_newest_before_a_step():
    timeline = WeightTimeline()
    for step in scheduled_steps(5_000):
        timeline.record(step, WEIGHTS, RunConfig())
    chosen = [saved.step for saved in timeline.spread(39, before=5_000)]
    assert chosen[0] == 0 and chosen[-1] == max(s for s in timeline.steps() if s < 5_000)
    assert len(chosen) >= 30 and sum(s < DENSE_STEPS for s in chosen) >= 6
    assert [saved.step for saved in timeline.spread(1)] == [timeline.steps()[-1]]
