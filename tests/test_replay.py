"""Replay without Streamlit: a run's weights kept at its snapshots (every step of its start), the run as it
was at a recorded step drawn from a copy that leaves the live model alone, the flip-book's maps, the
downloads, and weights loaded into a run."""

import csv
import io

import numpy as np
import pytest
import torch

from moe_core.errors import ConfigError
from moe_core.measure.probe import probe_grid
from moe_core.models import weights
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer
from moe_explorer_app.state import replay, view_model
from moe_explorer_app.state.runs import Run
from tests.runs_support import wait_until

SMALL = {"data.n_train": 300, "data.n_test": 100}


def trained_run(steps: int = 5, every: int = 10, changes: dict | None = None) -> Run:
    cfg = RunConfig().replace(**SMALL, **(changes or {}))
    # a clock that stands still: the run snapshots on its schedule of steps alone
    run = Run(1, Trainer(cfg), Trainer(cfg.replace(**{"model.arch": "dense"})), clock=lambda: 0.0)
    run.snapshot()
    for _ in range(steps):
        run.advance(every)
        run.snapshot_unless_taken()  # as the page's Step does
    return run


def state(run: Run) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in run.trainer.model.state_dict().items()}


def test_a_run_keeps_its_weights_at_each_snapshot_and_reset_forgets_them():
    run = trained_run()
    assert run.timeline.steps() == list(range(51))  # every step of the start
    assert all(torch.equal(run.timeline.at(50).state[k], v) for k, v in state(run).items())
    run.reset()
    assert run.timeline.steps() == [0]


def test_the_run_at_a_past_step_draws_its_weights_then_and_leaves_the_live_model_alone():
    run = trained_run()
    live = state(run)
    past = replay.as_of(run, run.timeline.at(20))
    assert past.trainer.step_count == 20 and [m.step for m in past.trainer.history] == list(range(21))
    assert [m.step for m in past.baseline.history] == list(range(21))
    assert all(torch.equal(past.trainer.model.state_dict()[k], v) for k, v in run.timeline.at(20).state.items())
    shown = view_model.map_view(past)
    expected = probe_grid(past.trainer.model, run.trainer.data, view_model.MAP_RESOLUTION)
    assert shown.step == 20 and (shown.grid.winner_RR == expected.winner_RR).all()
    run.advance(10)  # the live run trains on; the past one stays where it was
    assert all(torch.equal(run.timeline.at(20).state[k], v) for k, v in past.trainer.model.state_dict().items())
    assert past.trainer.step_count == 20 and run.trainer.step_count == 60
    assert not all(torch.equal(run.trainer.model.state_dict()[k], v) for k, v in live.items())


def test_the_past_uses_the_live_options_of_its_time():
    run = trained_run(2, changes={"model.balance": "bias"})
    run.trainer.apply_live(run.cfg.replace(**{"model.balance": "none"}))
    run.advance(10)
    run.snapshot()
    past = replay.as_of(run, run.timeline.at(10))
    assert past.cfg.model.balance == "bias" and past.trainer.model.cfg.balance == "bias"
    assert run.trainer.model.cfg.balance == "none"


def test_after_a_thousand_steps_of_play_replay_csv_and_flipbook_hold_the_first_hundred_densely(worker):
    # The first hundred steps are where routing forms and collapses; a time-based record kept two of them.
    run = Run(1, Trainer(RunConfig().replace(**SMALL)), None)
    run.snapshot()
    worker.play(run, steps=1000)
    wait_until(lambda: not worker.playing)
    assert run.trainer.step_count == 1000
    rows = [int(r["step"]) for r in csv.DictReader(io.StringIO(replay.metrics_file(run)))]
    assert set(range(101)) <= set(rows) and rows[-1] == 1000 and len(rows) < 500
    assert set(range(101)) <= set(run.timeline.steps())
    early = [frame.step for frame in replay.map_frames(run, resolution=8) if frame.step < 100]
    assert len(early) >= 10 and max(np.diff(early)) <= 10, early  # evenly there, then thinning as 1/step


def test_the_flipbooks_maps_spread_over_the_run_and_end_now():
    run = trained_run(8)
    run.advance(3)
    frames = replay.map_frames(run, count=4, resolution=12)
    steps = [frame.step for frame in frames]
    assert steps[0] == 0 and steps[-1] == 83 and len(steps) == 4 and steps == sorted(steps)
    assert frames[-1].grid.winner_RR.shape == (12, 12) and frames[-1].dropped_N is None  # top-k drops nothing
    page = replay.flipbook_file(run)
    assert page.count('"name":"') >= 4 and "Run 1: routing map over training" in page


def test_with_a_capacity_the_flipbook_crosses_out_what_the_live_map_does_at_each_step():
    run = trained_run(3, changes={"model.router": "switch", "model.capacity_factor": 0.5})
    frames = replay.map_frames(run, count=4, resolution=12)
    live = view_model.map_view(run, resolution=12)
    assert np.array_equal(frames[-1].dropped_N, live.points.dropped_N) and frames[-1].dropped_N.mean() > 0.3
    assert all(frame.dropped_N is not None for frame in frames)
    page = replay.flipbook_file(run)
    assert "got no expert (dropped)" in page


def test_the_downloads_hold_the_weights_and_the_history():
    run = trained_run()
    raw = replay.weights_file(run)
    assert weights.saved_config(raw) == run.cfg and weights.read(raw)[1][weights.STEP_KEY] == "50"
    rows = list(csv.DictReader(io.StringIO(replay.metrics_file(run))))
    assert [int(r["step"]) for r in rows] == list(range(51)) and "dense_test_loss" in rows[0]


def test_weights_load_into_a_run_at_its_step_and_a_file_that_does_not_fit_changes_nothing():
    source, target = trained_run(), trained_run(1, changes={"train.seed": 3})
    step = target.load_weights(replay.weights_file(source), "source.safetensors")
    assert step == 10 and (10, "weights from source.safetensors") in target.trainer.events
    assert all(torch.equal(target.trainer.model.state_dict()[k], v) for k, v in state(source).items())
    target.advance(5)  # trains on from them, with an optimiser of its own for the new weights
    assert target.trainer.step_count == 15 and target.trainer.diverged is None
    other = trained_run(1, changes={"model.n_experts": 6})
    before = state(other)
    with pytest.raises(ConfigError, match="has 4 experts' weights"):
        other.load_weights(replay.weights_file(source), "source.safetensors")
    assert all(torch.equal(other.trainer.model.state_dict()[k], v) for k, v in before.items())
    assert not other.trainer.events
