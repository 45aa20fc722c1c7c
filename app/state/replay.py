"""A run as it was at a recorded step, and what the Save and share section downloads (README, Replay):
the weights as safetensors, the metrics history as CSV, the flip-book of the routing map as HTML.

No Streamlit here: the downloads are built on a thread of their own when clicked. Everything is read
from the run under its lock, and past steps are drawn with a throwaway copy of the model, so the
live model is never disturbed.
"""

from __future__ import annotations

import copy

from torch import nn

from moe_core.experiments.results import history_csv
from moe_core.layer.moe import MoE
from moe_core.measure.probe import probe_grid
from moe_core.models import weights
from moe_core.training.divergence import copy_state
from moe_core.training.trainer import Trainer
from moe_explorer_app.figures.flipbook import MapFrame, flipbook, flipbook_html
from moe_explorer_app.state import view_model
from moe_explorer_app.state.runs import Run
from moe_explorer_app.state.timeline import Saved

FLIPBOOK_FRAMES = 40  # enough to see the map form; a file that builds in about a second
FLIPBOOK_RESOLUTION = 60


def as_of(run: Run, saved: Saved) -> Run:
    """The run as it was at a recorded step: its own copy of the model holding that step's weights, and
    the histories and live changes up to that step. It is drawn, never trained."""
    with run.lock:
        model = _model_for(run, saved)
        trainer = _cut(run.trainer, saved.step)
        baseline = None if run.baseline is None else _cut(run.baseline, saved.step)
    _load(model, saved)
    trainer.model, trainer.cfg = model, saved.cfg
    return Run(run.number, trainer, baseline, live=run)


def _cut(trainer: Trainer, step: int) -> Trainer:
    """A shallow copy of a trainer (data and settings shared, read only) whose record ends at `step`."""
    past = copy.copy(trainer)
    past.history = [m for m in trainer.history if m.step <= step]
    past.events = [event for event in trainer.events if event[0] <= step]
    past.step_count, past.diverged = step, None
    return past


def _model_for(run: Run, saved: Saved) -> nn.Module:
    """A throwaway model to hold a recorded step's weights: a copy of the run's, or, where experts have
    been split or removed since, one built for that step's expert count."""
    if saved.cfg.model.n_experts == run.cfg.model.n_experts:
        return copy.deepcopy(run.trainer.model)
    return run.trainer.new_model(saved.cfg)


def _load(model: nn.Module, saved: Saved) -> None:
    model.load_state_dict(saved.state)
    if isinstance(model, MoE):
        model.set_config(saved.cfg.model)  # the live options of then (a balance strategy's bias, say)


def map_frames(run: Run, count: int = FLIPBOOK_FRAMES, resolution: int = FLIPBOOK_RESOLUTION) -> list[MapFrame]:
    """The routing map, and the test points no expert served, at up to `count` recorded steps spread over
    the run, ending with its weights now."""
    with run.lock:
        now = Saved(run.trainer.step_count, copy_state(run.trainer.model.state_dict()), run.cfg)
    data, device = run.trainer.data, run.trainer.device
    chosen = run.timeline.spread(count - 1, before=now.step)
    frames: list[MapFrame] = []
    for saved in [*chosen, now]:
        model = _model_for(run, saved)
        _load(model, saved)
        dropped = view_model.unserved(model, data, device)[0] if view_model.may_drop(model) else None
        frames.append(MapFrame(saved.step, probe_grid(model, data, resolution, device), dropped))
    return frames


def flipbook_file(run: Run) -> str:
    """The flip-book of the run's routing map as one offline HTML page."""
    data = run.trainer.data
    frames = map_frames(run)
    # where experts were removed, earlier frames had more than the run has now
    experts = max(run.cfg.model.n_experts, *(int(frame.grid.winner_RR.max()) + 1 for frame in frames))
    fig = flipbook(
        frames,
        experts,
        view_model.axis_names(data.dim),
        view_model.map_points(data),
        f"Run {run.number}: routing map over training",
    )
    return flipbook_html(fig)


def weights_file(run: Run) -> bytes:
    """The model's weights now, as safetensors with the configuration and step in its metadata."""
    with run.lock:
        return weights.to_bytes(run.trainer.model, run.cfg, run.trainer.step_count)


def metrics_file(run: Run) -> str:
    """The run's metrics at every snapshot as CSV, with its dense baseline's losses beside them."""
    history, baseline = view_model.histories(run)
    return history_csv(history, baseline)
