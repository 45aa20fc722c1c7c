"""Runs' metrics over training as records, one per snapshot, a number per cell: for one run (the
Train page's metrics CSV, `train --out`) and for a sweep's recorded histories in long format (one
record per run and snapshot, `SweepResult.history_frame`, the rows.history.csv beside rows.csv)."""

from __future__ import annotations

from moe_core.experiments.sweep import SweepResult
from moe_core.measure.metrics import Metrics


def history_records(result: SweepResult) -> list[dict]:
    """The recorded histories in long format: per run and snapshot its settings, seed and name, then
    the step's metrics (per-expert values as columns load_share_E0, ...); columns empty in every row
    left out."""
    records = [
        {**row.settings, "seed": row.seed, "run": row.name, **flat_metrics(snapshot)}
        for row in result.rows
        for snapshot in row.history or []
    ]
    return filled(records)


def history_rows(history: list[Metrics], baseline: list[Metrics] | None = None) -> list[dict]:
    """One record per step snapshotted (its last snapshot), a number per cell: per-expert values as
    columns load_share_E0, ..., the expert x cluster table as contingency_E0_C0, ...; the dense
    baseline's losses and accuracy at the same step as dense_* columns where one is given."""
    dense = {m.step: m for m in baseline or []}
    records = []
    for m in {m.step: m for m in history}.values():
        record = flat_metrics(m.to_dict())
        twin = dense.get(m.step)
        for name in ("train_loss", "test_loss", "test_accuracy") if baseline is not None else ():
            record[f"dense_{name}"] = None if twin is None else getattr(twin, name)
        records.append(record)
    return filled(records)


def filled(records: list[dict]) -> list[dict]:
    """The records with the same columns, those empty in every record left out."""
    columns = [c for c in dict.fromkeys(c for r in records for c in r) if any(r.get(c) is not None for r in records)]
    return [{c: r.get(c) for c in columns} for r in records]


def flat_metrics(values: dict) -> dict:
    """Tuples spread into one column per expert (E0, E1, ...) and, nested, per cluster (C0, C1, ...)."""
    flat = {}
    for name, value in values.items():
        if not isinstance(value, (tuple, list)):
            flat[name] = value
            continue
        for e, item in enumerate(value):
            if isinstance(item, (tuple, list)):
                flat.update({f"{name}_E{e}_C{c}": v for c, v in enumerate(item)})
            else:
                flat[f"{name}_E{e}"] = item
    return flat
