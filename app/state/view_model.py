"""What the live panel shows, computed without Streamlit: the map's data copied from a run in one
locked moment, the readout line, the captions and the inspected point (the collapse watch's words come
from `moe_core.measure.diagnosis`, the inspector's table and sum from `inspector_text`).

The rendering (`live.py`) puts these on the page; tests check them directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from moe_core.datasets.dataset import Dataset
from moe_core.layer.moe import MoE
from moe_core.layer.routers import ROUTERS
from moe_core.measure.metrics import Metrics
from moe_core.measure.probe import GridProbe, Inspection, inspect_point, probe_grid, probe_points
from moe_explorer_app.figures.routing_map import BASE_MODES, MapPoints
from moe_explorer_app.state.runs import Run

MAP_RESOLUTION = 100
MAP_POINTS = 250  # enough to show the data; each is drawn and hit-tested on every repaint
NEAR_TIE = 0.02  # router probabilities closer than this are called a near tie

MAP_CAPTIONS = {
    "expert": "Each colour is the expert the gate sends that region to; faint means the gate is unsure. The key "
    "under the map names the markers (test points). Click a point or a region to inspect it.",
    "second": "Each colour is the expert the gate would pick if its favourite were gone: where experts share "
    "a border, the runner-up is usually the neighbour.",
    "entropy": "Dark means the gate spreads its probability over many experts (undecided); white means it is "
    "sure. Borders between experts are dark.",
    "output": "The whole model's prediction over the plane (after mixing the experts). Compare it with the "
    "winning-expert view to see which expert draws which part of the boundary.",
    "experts_per_point": "Darker means more experts: each region takes as many as it needs to reach the "
    "threshold p. Where the gate is unsure (near borders) points take more; where it is sure, one.",
    "group": "The coarse level: the group the first gate picks. Switch to Winning expert for the fine level, "
    "the expert picked within each group.",
}
CONSTANT_GATE = (
    "With top-1 and the weight renormalised over the chosen expert the gate is always 1: the router "
    "learns only from the balance loss. Try 'softmax, no renormalising'."
)


@dataclass(frozen=True)
class MapView:
    """What the map fragment draws, copied from a run in one locked moment."""

    grid: GridProbe
    points: MapPoints
    step: int
    latest: Metrics | None
    diverged: str | None
    axis_names: tuple[str, str]
    unchosen: np.ndarray  # per map point: no expert chose it (expert choice), as opposed to chosen but full


def expert_kinds(run: Run) -> tuple[list[str], list[float]] | None:
    """Each expert's kind in words and its multiply-adds per point, for a layer of mixed experts."""
    experts = run.trainer.model.experts if run.trainer.is_moe else None
    labels = getattr(experts, "labels", None)
    if labels is None:
        return None
    return labels(), experts.flops_E().tolist()


def busiest_and_idlest(share: tuple[float, ...]) -> tuple[int, int]:
    """The experts with the largest and the smallest load share (the first of equals)."""
    return int(np.argmax(share)), int(np.argmin(share))


def map_modes(run: Run) -> list[str]:
    """The map's views for this run: the ones every router has, then its rule's own (top-p's experts
    per point, hierarchical routing's groups)."""
    return [*BASE_MODES, *ROUTERS[run.cfg.model.router].views]


def map_view(run: Run, resolution: int = MAP_RESOLUTION) -> MapView:
    """The routing map's grid, the test points on it (and which of them capacity leaves without an
    expert), and the run's step and latest metrics."""
    trainer, data = run.trainer, run.trainer.data
    with run.lock:
        grid = probe_grid(trainer.model, data, resolution, trainer.device)
        dropped, unchosen = unserved(trainer.model, data, trainer.device)
        latest = trainer.history[-1] if trainer.history else None
        step, diverged = trainer.step_count, trainer.diverged or run.fault
    return MapView(grid, map_points(data, dropped), step, latest, diverged, axis_names(data.dim), unchosen)


def may_drop(model: torch.nn.Module) -> bool:
    """Whether the model's routing can leave a point without an expert (a capacity, expert choice)."""
    return isinstance(model, MoE) and model.router.may_drop


def unserved(model: torch.nn.Module, data: Dataset, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """Per map point: no expert served it (capacity was full or no expert chose it), and no expert chose
    it (expert choice); all False for a model whose routing never leaves a point out."""
    x, y = data.x_test[:MAP_POINTS], data.y_test[:MAP_POINTS]
    if not may_drop(model):
        return np.zeros(len(x), bool), np.zeros(len(x), bool)
    probe = probe_points(model, x.to(device), y.to(device), data.classification)
    return ~probe.kept_NK.any(axis=1), ~probe.assigned_NK.any(axis=1)


def map_points(data: Dataset, dropped_N: np.ndarray | None = None) -> MapPoints:
    """The first MAP_POINTS test points in the map's plane, with whether capacity left each without an expert."""
    x, y = data.x_test[:MAP_POINTS], data.y_test[:MAP_POINTS]
    dropped_N = np.zeros(len(x), bool) if dropped_N is None else dropped_N
    names = data.class_names if data.classification else ()
    return MapPoints(data.projection.to_view(x).numpy(), y.numpy(), dropped_N, np.arange(len(x)), names)


def axis_names(dim: int) -> tuple[str, str]:
    """The map's axes for inputs of `dim` dimensions: the inputs themselves, or their first two
    principal components."""
    return ("x1", "x2") if dim == 2 else ("PC1", "PC2")


def thumbnail_grid(run: Run, side: int) -> GridProbe:
    """A side x side grid with every expert's own value on every cell, for the thumbnails."""
    trainer = run.trainer
    with run.lock:
        return probe_grid(trainer.model, trainer.data, side, trainer.device, with_experts=True)


def events(run: Run) -> list[tuple[int, str]]:
    """(step, what changed) for the settings applied to the running model, copied under its lock."""
    with run.lock:
        return list(run.trainer.events)


def point_facts(run: Run, view: MapView, index: int | None) -> list[str]:
    """What is true of an inspected test point: its class and whether the model gets it right (or its
    target and the error), and whether capacity left it without an expert in the map's batch."""
    if index is None:
        return ["A spot of the plane, not a data point: it is routed as a point arriving alone."]
    data, trainer = run.trainer.data, run.trainer
    with run.lock:
        probe = probe_points(
            trainer.model,
            data.x_test[index : index + 1].to(trainer.device),
            data.y_test[index : index + 1].to(trainer.device),
            data.classification,
        )
    truth = data.y_test[index].item()
    if data.classification:
        predicted = int(probe.output_NO[0].argmax())
        verdict = "right" if predicted == truth else f"wrong (it predicts {data.class_names[predicted]})"
        facts = [f"**Point #{index}**: class {data.class_names[int(truth)]}; the model is {verdict}."]
    else:
        facts = [f"**Point #{index}**: target {truth:.3f}; the model predicts {probe.output_NO[0, 0]:.3f}."]
    where = np.flatnonzero(view.points.index_N == index)
    if len(where) and view.points.dropped_N[where[0]]:
        facts.append(_drop_reason(bool(view.unchosen[where[0]])))
    return facts


def _drop_reason(unchosen: bool) -> str:
    """Why capacity left a point of the map's batch without an expert: its chosen experts were full
    (token choice), or no expert chose it (expert choice)."""
    why = (
        "no expert chose it among the points it takes (expert choice)"
        if unchosen
        else "every expert it chose was already full (capacity)"
    )
    return (
        f"In the batch the map shows, **no expert took this point**: {why}, so its output is zero (or only "
        "the shared experts'). Below, it is routed as if it came alone."
    )


def histories(run: Run) -> tuple[list[Metrics], list[Metrics] | None]:
    """The run's and its baseline's metric histories, copied under the run's lock."""
    with run.lock:
        return list(run.trainer.history), (list(run.baseline.history) if run.baseline is not None else None)


def readout(run: Run, step: int, latest: Metrics | None, rate: float, replay: bool = False) -> str:
    """The line above the map: step, speed (or that it is a replay), and test accuracy where there is
    one (the sidebar names the run)."""
    accuracy = "" if latest is None or latest.test_accuracy is None else f" · test accuracy {latest.test_accuracy:.1%}"
    if replay:
        return f"**step {step:,}** · replay: the run as it was then{accuracy}"
    return f"**step {step:,}** · {rate:,.0f} steps/s on the {run.trainer.device.type}{accuracy}"


def collapse_caption(n_experts: int) -> str:
    if n_experts > 16:
        return (
            "Each row is one expert; bright means it gets more than its fair share of points, dark less. "
            "Even colour down a column: balanced; one bright row: collapse."
        )
    return (
        "Each band is one expert's share of the routed points. Even bands: balanced; one band swallowing "
        "the rest: collapse."
    )


def inspect(run: Run, index: int | None, xy: tuple[float, float] | None) -> tuple[Inspection, str]:
    """Inspect a test point by index, or a spot of the map by view coordinates; (result, label)."""
    data = run.trainer.data
    if index is not None:
        x_D, label = data.x_test[index], f"#{index}"
    else:
        x_D = data.projection.from_view(torch.tensor([xy], dtype=torch.float32))[0]
        label = f"at ({xy[0]:.2f}, {xy[1]:.2f})"
    with run.lock:
        return inspect_point(run.trainer.model, data, x_D.to(run.trainer.device)), label


def near_tie(result: Inspection) -> str | None:
    """A sentence when the top two experts' probabilities are within NEAR_TIE of each other."""
    if len(result.probs_E) < 2:
        return None
    first, second = np.sort(result.probs_E)[::-1][:2]
    if first - second >= NEAR_TIE:
        return None
    return (
        f"Near tie: the top two experts have probabilities {first:.3f} and {second:.3f}; a small change can "
        "flip the choice."
    )
