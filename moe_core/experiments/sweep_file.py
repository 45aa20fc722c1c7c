"""A sweep defined in a file: one JSON document with the base settings (the sections of a RunConfig)
beside what the sweep itself needs, so a study is one file to keep, share and run again.

    {"model": {"n_experts": 8}, "train": {"lr": 0.01},
     "grid": {"model.top_k": [1, 2], "model.balance": ["none", "aux_loss"]},
     "seeds": 5, "steps": 1000, "metrics": ["cluster_nmi", "test_accuracy"],
     "baseline": {"model.top_k": 1, "model.balance": "none"}, "test": "t", "name": "k x balance", "tags": ["draft"]}

`python -m moe_core sweep --config sweep.json` runs it; flags given beside it add to the grid and
override the rest. A random search names "search": "random", "samples" and "ranges"
(`moe_core.experiments.search`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from moe_core.experiments.trials import METRICS
from moe_core.settings.config import ConfigError
from moe_core.settings.table import SECTIONS

SWEEP_KEYS = (
    "grid", "seeds", "steps", "metrics", "baseline", "test", "name", "tags", "search", "samples", "ranges", "asha",
)  # fmt: skip
TESTS = ("t", "wilcoxon")  # the paired test whose Holm-adjusted p-value a verdict reads (moe_core.experiments.paired)


@dataclass(frozen=True)
class SweepFile:
    """The sweep's part of a sweep file; None where the file leaves a choice to the flags' defaults."""

    grid: dict[str, list] = field(default_factory=dict)
    seeds: int | list[int] | None = None
    metrics: list[str] | None = None
    baseline: dict[str, Any] | None = None
    test: str = "t"
    name: str = ""
    tags: list[str] = field(default_factory=list)
    search: str | None = None
    samples: int | None = None
    ranges: dict[str, str] = field(default_factory=dict)
    asha: bool = False


def split(doc: dict) -> tuple[dict, SweepFile]:
    """(the base configuration's document, the sweep's part) of a sweep file; a key that is neither a
    section of the configuration nor a sweep's is one sentence naming both lists."""
    unknown = [key for key in doc if key not in SWEEP_KEYS and key not in SECTIONS]
    if unknown:
        raise ConfigError(
            f"The sweep file's '{unknown[0]}' is neither a section ({', '.join(SECTIONS)}) nor a sweep's "
            f"key ({', '.join(SWEEP_KEYS)})."
        )
    base = {key: value for key, value in doc.items() if key in SECTIONS}
    if "steps" in doc:
        base = {**base, "train": {**base.get("train", {}), "steps": doc["steps"]}}
    part = {key: doc[key] for key in SWEEP_KEYS if key in doc and key != "steps"}
    _check(part)
    return base, SweepFile(**part)


def _check(part: dict) -> None:
    grid = part.get("grid", {})
    if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
        raise ConfigError('The sweep file\'s "grid" must map options to lists of values, e.g. {"model.top_k": [1, 2]}.')
    seeds = part.get("seeds", 1)
    if not (isinstance(seeds, int) and seeds >= 1) and not (
        isinstance(seeds, list) and all(isinstance(s, int) for s in seeds)
    ):
        raise ConfigError('The sweep file\'s "seeds" must be a count of at least 1 or a list of whole numbers.')
    if "metrics" in part:
        check_metrics(part["metrics"])
    if part.get("test", "t") not in TESTS:
        raise ConfigError(f'The sweep file\'s "test" must be one of {", ".join(TESTS)}.')
    for key, kind in (("baseline", dict), ("name", str), ("tags", list), ("ranges", dict), ("asha", bool)):
        if key in part and not isinstance(part[key], kind):
            raise ConfigError(f'The sweep file\'s "{key}" must be a JSON {kind.__name__.replace("dict", "object")}.')


def check_metrics(names: Sequence[str]) -> list[str]:
    """The metric names, each one a sweep's row keeps (`python -m moe_core metrics` lists them)."""
    if not isinstance(names, list | tuple) or not names:
        raise ConfigError("Name at least one metric, e.g. cluster_nmi,test_accuracy.")
    for name in names:
        if name not in METRICS:
            raise ConfigError(f"The metric '{name}' is not one a sweep keeps; python -m moe_core metrics lists them.")
    return list(names)
