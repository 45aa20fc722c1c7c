"""A sweep's results as a file and as text: rows to CSV, JSON or Parquet (by the file's suffix), read
back for the app's sweep page, and the summary as a terminal table; and one run's metrics over
training as CSV.

Every file carries the sweep's provenance (`moe_core.experiments.provenance`): a CSV as its first
line, "# moe_explorer.provenance {...}" (pandas: `read_csv(path, skiprows=1)`), a Parquet file in its
schema's metadata under that key, a JSON document as its "provenance". CSV and Parquet hold one row
per run (settings, seed, name, tags, outcome, final metrics, and the history and small map as JSON
text where the sweep recorded them); JSON holds the grid, the rows with their histories and maps, and
the summary. A recorded history also goes, in long format (one row per run and snapshot), to a file
beside a CSV or Parquet one: rows.csv gets rows.history.csv.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

from moe_core.experiments import provenance as origin
from moe_core.experiments.histories import history_records, history_rows
from moe_core.experiments.summary import summarise
from moe_core.experiments.sweep import SweepResult
from moe_core.experiments.trials import METRICS, Row
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


def write(result: SweepResult, path: str | Path) -> list[Path]:
    """The rows (and, for CSV and Parquet, the long-format history beside them, where recorded) in the
    format the suffix names; the paths written."""
    path = check_path(path)
    if path.suffix == ".json":
        rows = [{**row.flat(), **_extras(row)} for row in result.rows]
        doc = {"provenance": result.provenance, "grid": result.grid, "rows": rows, "summary": result.summary}
        path.write_text(json.dumps(doc, indent=1))
        return [path]
    records = [{**row.flat(), **{k: json.dumps(v) for k, v in _extras(row).items()}} for row in result.rows]
    write_table(records, path, result.provenance)
    history = history_records(result)
    if not history:
        return [path]
    beside = history_path(path)
    write_table(history, beside, result.provenance)
    return [path, beside]


def history_path(path: Path) -> Path:
    """Where the long-format history of a rows file goes: rows.csv -> rows.history.csv."""
    return path.with_name(f"{path.stem}.history{path.suffix}")


def write_table(records: list[dict], path: Path, provenance: dict) -> None:
    if path.suffix == ".csv":
        path.write_text(f"# {origin.KEY} {json.dumps(provenance)}\n" + csv_text(records))
        return
    arrow = _parquet()
    table = arrow.Table.from_pylist(records)
    arrow.parquet.write_table(table.replace_schema_metadata({origin.KEY: json.dumps(provenance)}), path)


def _extras(row: Row) -> dict:
    """The history and the small map, when the sweep recorded them."""
    return {key: value for key, value in (("history", row.history), ("map", row.map)) if value}


def to_csv(result: SweepResult) -> str:
    """One line per run (settings, seed, outcome and final metrics), after the provenance line."""
    return f"# {origin.KEY} {json.dumps(result.provenance)}\n" + csv_text([row.flat() for row in result.rows])


def csv_text(records: list[dict]) -> str:
    """Records with the same keys as CSV text, lists and dicts as JSON."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else [])
    writer.writeheader()
    for record in records:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in record.items()})
    return out.getvalue()


def history_csv(history: list[Metrics], baseline: list[Metrics] | None = None) -> str:
    """`history_rows` as CSV text, for a spreadsheet."""
    return csv_text(history_rows(history, baseline))


def write_history(history: list[Metrics], cfg, path: str | Path) -> Path:
    """One run's snapshots (`history_rows`) as a results file, its configuration as the provenance."""
    path = check_path(path)
    provenance = origin.record(cfg, {}, [cfg.train.seed], command="train")
    if path.suffix == ".json":
        path.write_text(json.dumps({"provenance": provenance, "history": [m.to_dict() for m in history]}, indent=1))
    else:
        write_table(history_rows(history), path, provenance)
    return path


def _parquet():
    try:
        import pyarrow.parquet  # binds pyarrow, with its parquet reader and writer
    except ImportError:
        raise ConfigError("Parquet files need pyarrow: pip install pyarrow, or write .csv or .json.") from None
    return pyarrow


def read(path: str | Path) -> SweepResult:
    """A results file written by `write` (or by the CLI), with its summary recomputed from the rows;
    its provenance where it carries one (files written before it did read with an empty one)."""
    path = check_path(path, "come from")
    if not path.is_file():
        raise ConfigError(f"The results file '{path}' does not exist.")
    if path.suffix == ".json":
        records, keys, provenance = _read_json(path)
    elif path.suffix == ".csv":
        records, provenance = _read_csv(path)
        keys = _setting_keys(records, provenance)
    else:
        records, provenance = _read_parquet(path)
        keys = _setting_keys(records, provenance)
    try:
        rows = [_row(record, keys) for record in records]
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ConfigError(f"The file's rows are not a sweep's rows ({type(err).__name__}: {err}).") from None
    seen = {key: [json.loads(v) for v in dict.fromkeys(json.dumps(r.settings[key]) for r in rows)] for key in keys}
    grid = provenance.get("grid") or seen
    base = _base(provenance)
    return SweepResult(grid, rows, summarise(rows, keys, base), provenance)


def _read_json(path: Path) -> tuple[list[dict], list[str], dict]:
    try:
        doc = json.loads(path.read_text())
    except ValueError as err:  # not JSON, or not text
        raise ConfigError(f"The file is not valid JSON ({err}).") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list) or not isinstance(doc.get("grid"), dict):
        raise ConfigError("The file is JSON but not a sweep's results, which hold a grid and rows.")
    return doc["rows"], list(doc["grid"]), _checked(doc.get("provenance"))


def _read_csv(path: Path) -> tuple[list[dict], dict]:
    try:
        text = path.read_text()
        provenance = {}
        if text.startswith(f"# {origin.KEY} "):
            first, _, text = text.partition("\n")
            provenance = _checked(json.loads(first.removeprefix(f"# {origin.KEY} ")))
        records = list(csv.DictReader(io.StringIO(text)))
    except (ValueError, csv.Error) as err:
        raise ConfigError(f"The file is not readable CSV text ({err}).") from None
    if any(None in record for record in records):  # DictReader keeps a line's extra fields under None
        raise ConfigError("A line of the file has more fields than its header; the file is not a sweep's rows.")
    return [{k: _parse(v) for k, v in record.items()} for record in records], provenance


def _read_parquet(path: Path) -> tuple[list[dict], dict]:
    arrow = _parquet()
    try:
        table = arrow.parquet.read_table(path)
    except arrow.ArrowException as err:
        raise ConfigError(f"The file is not a readable Parquet file ({err}).") from None
    stored = (table.schema.metadata or {}).get(origin.KEY.encode())
    return table.to_pylist(), _checked(None if stored is None else json.loads(stored))


def _checked(provenance) -> dict:
    """A provenance as read: a JSON object, or none."""
    if provenance is None:
        return {}
    if not isinstance(provenance, dict) or not isinstance(provenance.get("grid", {}), dict):
        raise ConfigError("The file's provenance is not a JSON object with a grid; it was not written by MoE Explorer.")
    return provenance


def _base(provenance: dict):
    try:
        return origin.base_of(provenance)
    except ConfigError as err:
        raise ConfigError(f"The file's base configuration cannot be read: {err}") from None


def _setting_keys(records: list[dict], provenance: dict) -> list[str]:
    """The grid's keys (section.name): the provenance's, else the columns before `seed`, as `Row.flat`
    orders them."""
    columns = list(records[0]) if records else []
    if "seed" not in columns or "steps" not in columns:
        raise ConfigError("The file has no seed and steps columns, which a sweep's rows have.")
    keys = list(provenance["grid"]) if "grid" in provenance else columns[: columns.index("seed")]
    if any("." not in key for key in keys) or not set(keys) <= set(columns):
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
        history=_json_text(record.get("history")),
        diverged_at=record.get("diverged_at"),
        map=_json_text(record.get("map")),
        name=str(record.get("run") or ""),
        tags=tuple(_json_text(record.get("tags")) or ()),
    )


def _json_text(value):
    """A column CSV and Parquet hold as JSON text (a history, a map, tags), as its value."""
    return json.loads(value) if isinstance(value, str) else value


def summary_table(result: SweepResult, metrics: Sequence[str] = SHOWN) -> str:
    """The summary as aligned text: the settings, runs, and each metric's mean with its 95% interval
    over the seeds (Student's t, clipped to the metric's range), under a line that says so."""
    keys = list(result.grid)
    header = [*(k.split(".")[1] for k in keys), "runs", *metrics]
    lines = []
    for entry in result.summary:
        cells = [str(entry[k]) for k in keys]
        runs = f"{entry['runs']}" + (f" ({entry['diverged']} diverged)" if entry["diverged"] else "")
        cells.append(runs)
        cells.extend(_mean_interval(entry, name) for name in metrics)
        lines.append(cells)
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    said = "each cell: mean [95% interval over seeds, Student's t, clipped to the metric's range]"
    rows = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *lines]]
    return "\n".join([said, *rows])


def _mean_interval(entry: dict, name: str) -> str:
    mean, low, high = entry[f"{name}_mean"], entry[f"{name}_low"], entry[f"{name}_high"]
    if mean is None:
        return "n/a"
    return f"{mean:.3f}" if low is None else f"{mean:.3f} [{low:.3f}, {high:.3f}]"
