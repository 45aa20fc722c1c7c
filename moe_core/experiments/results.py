"""A sweep's results as a file and as text: rows to CSV, JSON or Parquet (by the file's suffix), read
back for the app's sweep page, and the summary as a terminal table; and one run's metrics over
training as CSV.

CSV and Parquet hold one row per run (settings, seed, outcome, final metrics); JSON holds the grid,
the rows with their histories when recorded, and the summary. Parquet needs pyarrow.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from moe_core.experiments.sweep import METRICS, Row, SweepResult, summarise
from moe_core.measure.metrics import Metrics
from moe_core.settings.config import ConfigError

SHOWN = ("test_accuracy", "test_loss", "load_entropy", "dead_experts", "cluster_nmi")  # the terminal's columns
SUFFIXES = (".csv", ".json", ".parquet")


def check_path(path: str | Path, verb: str = "go to") -> Path:
    """The path, if its suffix names a format results can be written in (else one sentence)."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ConfigError(f"Results {verb} a .csv, .json or .parquet file, not '{path.name}'.")
    folder = path.parent if verb == "go to" else None
    if folder is not None and not (folder.is_dir() and os.access(folder, os.W_OK)):
        raise ConfigError(f"The folder '{folder}' does not exist or cannot be written; results cannot go there.")
    if path.suffix == ".parquet":
        _parquet()
    return path


def write(result: SweepResult, path: str | Path) -> None:
    path = check_path(path)
    if path.suffix == ".csv":
        path.write_text(to_csv(result))
    elif path.suffix == ".json":
        rows = [{**row.flat(), **_extras(row)} for row in result.rows]
        path.write_text(json.dumps({"grid": result.grid, "rows": rows, "summary": result.summary}, indent=1))
    else:
        arrow = _parquet()
        arrow.parquet.write_table(arrow.Table.from_pylist([row.flat() for row in result.rows]), path)


def _extras(row: Row) -> dict:
    """What only JSON keeps: the history and the small map, when the sweep recorded them."""
    return {key: value for key, value in (("history", row.history), ("map", row.map)) if value}


def to_csv(result: SweepResult) -> str:
    """One line per run: settings, seed, outcome and final metrics."""
    return csv_text([row.flat() for row in result.rows])


def csv_text(records: list[dict]) -> str:
    """Records with the same keys as CSV text, lists and dicts as JSON."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else [])
    writer.writeheader()
    for record in records:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in record.items()})
    return out.getvalue()


def history_csv(history: list[Metrics], baseline: list[Metrics] | None = None) -> str:
    """One row per step snapshotted (its last snapshot), a number per cell for a spreadsheet:
    per-expert values as columns load_share_E0, ..., the expert x cluster table as contingency_E0_C0,
    ...; the dense baseline's losses and accuracy at the same step as dense_* columns; columns empty in
    every row left out."""
    dense = {m.step: m for m in baseline or []}
    records = []
    for m in {m.step: m for m in history}.values():
        record = _flat(m.to_dict())
        twin = dense.get(m.step)
        for name in ("train_loss", "test_loss", "test_accuracy"):
            record[f"dense_{name}"] = None if twin is None else getattr(twin, name)
        records.append(record)
    columns = [c for c in dict.fromkeys(c for r in records for c in r) if any(r.get(c) is not None for r in records)]
    return csv_text([{c: r.get(c) for c in columns} for r in records])


def _flat(values: dict) -> dict:
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


def _parquet():
    try:
        import pyarrow.parquet  # binds pyarrow, with its parquet reader and writer
    except ImportError:
        raise ConfigError("Parquet files need pyarrow: pip install pyarrow, or write .csv or .json.") from None
    return pyarrow


def read(path: str | Path) -> SweepResult:
    """A results file written by `write` (or by the CLI), with its summary recomputed from the rows."""
    path = check_path(path, "come from")
    if path.suffix == ".json":
        try:
            doc = json.loads(path.read_text())
        except ValueError as err:  # not JSON, or not text
            raise ConfigError(f"The file is not valid JSON ({err}).") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list) or not isinstance(doc.get("grid"), dict):
            raise ConfigError("The file is JSON but not a sweep's results, which hold a grid and rows.")
        records, keys = doc["rows"], list(doc["grid"])
    elif path.suffix == ".csv":
        try:
            records = list(csv.DictReader(io.StringIO(path.read_text())))
        except (ValueError, csv.Error) as err:
            raise ConfigError(f"The file is not readable CSV text ({err}).") from None
        records = [{k: _parse(v) for k, v in record.items()} for record in records]
        keys = _setting_keys(records)
    else:
        records = _parquet().parquet.read_table(path).to_pylist()
        keys = _setting_keys(records)
    try:
        rows = [_row(record, keys) for record in records]
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ConfigError(f"The file's rows are not a sweep's rows ({type(err).__name__}: {err}).") from None
    grid = {key: list(dict.fromkeys(json.dumps(r.settings[key]) for r in rows)) for key in keys}
    return SweepResult({k: [json.loads(v) for v in values] for k, values in grid.items()}, rows, summarise(rows, keys))


def _setting_keys(records: list[dict]) -> list[str]:
    """The columns before `seed`: the grid's keys (section.name), as `Row.flat` orders them."""
    columns = list(records[0]) if records else []
    if "seed" not in columns or "steps" not in columns:
        raise ConfigError("The file has no seed and steps columns, which a sweep's rows have.")
    keys = columns[: columns.index("seed")]
    if any("." not in key for key in keys):
        raise ConfigError(f"The file's setting columns are not options (section.name): {', '.join(keys)}.")
    return keys


def _parse(text: str):
    if text == "":
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a string setting such as aux_loss


def _row(record: dict, keys: list[str]) -> Row:
    diverged = record.get("diverged")
    return Row(
        settings={key: record[key] for key in keys},
        seed=int(record["seed"]),
        steps=int(record["steps"]),
        diverged="diverged" if diverged in (True, "true", "True") else None,
        seconds=float(record.get("seconds") or 0.0),
        metrics={name: record.get(name) for name in METRICS},
        history=record.get("history"),
        diverged_at=record.get("diverged_at"),
        map=record.get("map"),
    )


def summary_table(result: SweepResult) -> str:
    """The summary as aligned text: the settings, runs, and mean ± 95% interval of a few metrics."""
    keys = list(result.grid)
    header = [*(k.split(".")[1] for k in keys), "runs", *SHOWN]
    lines = []
    for entry in result.summary:
        cells = [str(entry[k]) for k in keys]
        runs = f"{entry['runs']}" + (f" ({entry['diverged']} diverged)" if entry["diverged"] else "")
        cells.append(runs)
        cells.extend(_mean_ci(entry, name) for name in SHOWN)
        lines.append(cells)
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *lines])


def _mean_ci(entry: dict, name: str) -> str:
    mean, half = entry[f"{name}_mean"], entry[f"{name}_ci95"]
    if mean is None:
        return "n/a"
    return f"{mean:.3f}" if half is None else f"{mean:.3f} ± {half:.3f}"
