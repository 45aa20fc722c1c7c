"""Where a sweep's numbers come from, carried in every results file: the whole base configuration,
the grid, the seeds, the product's version and commit, and how the runs were trained.

A results file without it cannot say which dataset, expert count or learning rate its rows were
trained with; with it, a file opened elsewhere (the Sweep page, pandas, a notebook) names its own runs.
"""

from __future__ import annotations

import datetime
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from moe_core.settings.config import RunConfig, run_label

PRODUCT = "moe-explorer"
KEY = "moe_explorer.provenance"  # the key in a Parquet schema's metadata and a CSV's first line
ROOT = Path(__file__).resolve().parents[2]


def version() -> str:
    """The installed distribution's version, or "unknown" when the package runs from a bare folder."""
    try:
        return metadata.version(PRODUCT)
    except metadata.PackageNotFoundError:
        return "unknown"


def commit() -> str | None:
    """The git commit the code runs from, with "+changes" when the tree differs from it; None outside
    a checkout (an installed wheel)."""
    if not (ROOT / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=5)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def record(
    base: RunConfig,
    grid: Mapping[str, Sequence],
    seeds: Sequence[int],
    **how: Any,
) -> dict[str, Any]:
    """A sweep's provenance: what it trained (base, grid, seeds) and how (`how`: backend, workers,
    batch_seeds, name, tags, notes, search), with the version, commit and time."""
    return {
        "product": PRODUCT,
        "version": version(),
        "commit": commit(),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "label": run_label(base),
        "base": base.to_dict(),
        "grid": {key: list(values) for key, values in grid.items()},
        "seeds": list(seeds),
        **how,
    }


def base_of(provenance: Mapping[str, Any]) -> RunConfig | None:
    """The base configuration a provenance names; None for a file written without one."""
    base = provenance.get("base")
    return None if base is None else RunConfig.from_dict(base)


def describe(provenance: Mapping[str, Any]) -> str:
    """One line for a page or a terminal: what was swept, from which base, by which version."""
    if not provenance:
        return "a results file without provenance (written before files recorded their base settings)"
    swept = ", ".join(f"{key} over {len(values)} values" for key, values in provenance.get("grid", {}).items())
    at = provenance.get("commit")
    made = f"commit {at[:10]}{'+changes' * at.endswith('+changes')}" if at else provenance.get("version")
    seeds = len(provenance.get("seeds", []))
    return f"{provenance.get('label', 'unknown base')}; {swept or 'no grid'}; {seeds} seeds; {PRODUCT} {made}"
