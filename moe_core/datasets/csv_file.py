"""Read a user's CSV file into features, a target and optional cluster ids, with one-sentence errors.

Format: a header row; numeric feature columns; a target column named `y`, `label` or `target` (or
chosen); integer or text targets are classes, decimal targets are a regression; an optional integer
`cluster` column is used only by the specialisation metrics. Nothing is executed or unpickled.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moe_core.datasets.dataset import Dataset, assemble
from moe_core.errors import ConfigError
from moe_core.settings.table import DataConfig

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"  # CSVs that ship with the package
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 130
MIN_ROWS = 4
TARGET_NAMES = ("y", "label", "target")


class MissingTarget(ConfigError):
    """The file reads, but which column is the target must be chosen."""


@dataclass(frozen=True)
class CsvTable:
    x_ND: np.ndarray
    y_N: np.ndarray  # int64 class ids or float32 values
    cluster_N: np.ndarray | None
    feature_names: tuple[str, ...]
    target_name: str
    class_names: tuple[str, ...]  # empty for a regression

    def describe(self) -> str:
        """e.g. "regression, 5 features, 400 rows (target y)"."""
        task = f"classification with {len(self.class_names)} classes" if self.class_names else "regression"
        return f"{task}, {len(self.feature_names)} features, {len(self.y_N)} rows (target {self.target_name})"


def read_csv(source: str | Path | bytes, target: str | None = None) -> CsvTable:
    """Parse a CSV from a path or raw bytes; every problem raises ConfigError naming the column or line."""
    raw = _read_bytes(source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("The file is not UTF-8 text; save it as a plain UTF-8 CSV.") from None
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)]
    except csv.Error as err:  # a NUL byte, a quote left open at the end, and the like
        raise ConfigError(f"The file cannot be read as CSV ({err}); save it as a plain comma-separated file.") from None
    if not rows:
        raise ConfigError("The CSV file is empty; it needs a header row and data rows.")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    _check_shape(header, body)
    target_col = _find_target(header, target)
    cluster_col = header.index("cluster") if "cluster" in header and target_col != header.index("cluster") else None
    feature_cols = [i for i in range(len(header)) if i not in (target_col, cluster_col)]
    if not feature_cols:
        raise ConfigError("The CSV file has no feature column besides the target; add at least one numeric column.")
    x_ND = _features(header, body, feature_cols)
    y_N, class_names = _target_column(header[target_col], [r[target_col] for r in body])
    cluster_N = None if cluster_col is None else _cluster_column([r[cluster_col] for r in body])
    names = tuple(header[i] for i in feature_cols)
    return CsvTable(x_ND.astype(np.float32), y_N, cluster_N, names, header[target_col], class_names)


def sample_files() -> list[str]:
    """The bundled sample CSVs, by file name."""
    return sorted(p.name for p in SAMPLES.glob("*.csv"))


def resolve(path: str | Path) -> Path:
    """A CSV path as given, or else the bundled sample of that name (so `iris.csv` works anywhere)."""
    given = Path(path)
    if given.is_file():
        return given
    if (SAMPLES / given.name).is_file() and given.name == str(path):
        return SAMPLES / given.name
    raise ConfigError(f"The CSV file '{path}' does not exist; the bundled samples are {', '.join(sample_files())}.")


def _read_bytes(source: str | Path | bytes) -> bytes:
    if isinstance(source, bytes):
        raw = source
    else:
        path = resolve(source)
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(f"The CSV file is larger than {MAX_BYTES // 2**20} MB; use fewer rows.")
        raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"The CSV file is larger than {MAX_BYTES // 2**20} MB; use fewer rows.")
    return raw


def header_columns(source: str | Path | bytes) -> list[str]:
    """The column names of a CSV file's header row (empty when there is none), for a target picker."""
    try:
        first = next(csv.reader(io.StringIO(_read_bytes(source).decode("utf-8-sig"))), [])
    except (ConfigError, UnicodeDecodeError):
        return []
    return [name.strip() for name in first if name.strip()]


def _check_shape(header: list[str], body: list[list[str]]) -> None:
    if len(header) < 2:
        raise ConfigError("The CSV file has only one column; it needs feature columns and a target column.")
    if len(header) > MAX_COLUMNS:
        raise ConfigError(f"The CSV file has {len(header)} columns; the limit is {MAX_COLUMNS}.")
    if len(set(header)) != len(header) or "" in header:
        raise ConfigError("Every column needs its own non-empty name in the header row.")
    if not body:
        raise ConfigError("The CSV file has a header but no data rows.")
    # the first ragged line before the row counts: a ragged file's rows are not the rows it meant
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ConfigError(
                f"Line {line} has {len(row)} fields but the header has {len(header)}; every line needs one value "
                "per column."
            )
    if len(body) < MIN_ROWS:
        raise ConfigError(f"The CSV file has {len(body)} data rows; it needs at least {MIN_ROWS}.")
    if len(body) > MAX_ROWS:
        raise ConfigError(f"The CSV file has {len(body)} data rows; the limit is {MAX_ROWS}.")


def _find_target(header: list[str], target: str | None) -> int:
    if target is not None:
        if target not in header:
            raise ConfigError(f"The target column '{target}' is not in the file; its columns are {', '.join(header)}.")
        return header.index(target)
    for name in TARGET_NAMES:
        if name in header:
            return header.index(name)
    raise MissingTarget(
        f"No column is named y, label or target; pick the target among {', '.join(header)} (the Target column "
        "picker in the app, data.target in a config)."
    )


def _features(header: list[str], body: list[list[str]], columns: list[int]) -> np.ndarray:
    """The feature columns as numbers; a problem is reported at the first bad cell in reading order
    (line by line), not column by column."""
    x_ND = np.empty((len(body), len(columns)), dtype=np.float64)
    for row, cells in enumerate(body):
        for j, col in enumerate(columns):
            x_ND[row, j] = _number(header[col], cells[col], row + 2)
    return x_ND


def _number(name: str, cell: str, line: int) -> float:
    text = cell.strip()
    if text == "" or text.lower() in ("nan", "na", "null", "none"):
        raise ConfigError(f"Column '{name}' has a missing value on line {line}; fill it in or remove the row.")
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(
            f"Column '{name}' holds the text '{text[:20]}' on line {line}; feature columns must be numbers."
        ) from None
    if not math.isfinite(value):
        raise ConfigError(f"Column '{name}' has an infinite value ('{text[:20]}') on line {line}; use finite numbers.")
    return value


def _numeric_column(name: str, cells: list[str]) -> np.ndarray:
    return np.array([_number(name, cell, line) for line, cell in enumerate(cells, start=2)], dtype=np.float64)


def _target_column(name: str, cells: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    texts = [c.strip() for c in cells]
    for line, text in enumerate(texts, start=2):
        if text == "" or text.lower() in ("nan", "na", "null", "none"):
            raise ConfigError(
                f"The target column '{name}' has a missing value on line {line}; fill it in or remove the row."
            )
    decimals = [t for t in texts if _parses(t, float) and not _parses(t, int)]
    if not decimals:
        return _classes(name, texts)
    for line, text in enumerate(texts, start=2):
        if not _parses(text, float):
            raise ConfigError(
                f"The target column '{name}' mixes numbers with the text '{text[:20]}' on line {line}; "
                "use only numbers (a regression) or only class names."
            )
    return _numeric_column(name, texts).astype(np.float32), ()


def _classes(name: str, texts: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    labels = sorted(set(texts), key=lambda t: (not _parses(t, int), int(t) if _parses(t, int) else 0, t))
    if len(labels) < 2:
        raise ConfigError(f"The target column '{name}' has only one class; a classification needs at least two.")
    if len(labels) > 64:
        raise ConfigError(f"The target column '{name}' has {len(labels)} classes; the limit is 64.")
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[t] for t in texts], dtype=np.int64), tuple(labels)


def _cluster_column(cells: list[str]) -> np.ndarray:
    for line, cell in enumerate(cells, start=2):
        if not _parses(cell.strip(), int):
            raise ConfigError(f"Column 'cluster' must hold whole numbers; line {line} has '{cell.strip()[:20]}'.")
    return np.array([int(c) for c in cells], dtype=np.int64)


def _parses(text: str, kind: type) -> bool:
    """Whether int(text) or float(text) succeeds."""
    try:
        kind(text)
    except ValueError:
        return False
    return True


def load_csv(cfg: DataConfig) -> Dataset:
    """The Dataset of a CSV file: features standardised, a regression target too, a seeded split."""
    table = read_csv(cfg.csv_path, cfg.target)
    x = table.x_ND
    # Standardised features keep one learning rate sensible for every file.
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    task = "classification" if table.class_names else "regression"
    y = table.y_N
    if task == "regression":
        y = ((y - y.mean()) / (y.std() if y.std() > 0 else 1.0)).astype(np.float32)
    train = _split(len(x), cfg.n_test / (cfg.n_train + cfg.n_test), cfg.seed)
    return assemble(cfg, task, x, y, table.cluster_N, train, table.feature_names, table.class_names or None)


def _split(n: int, test_share: float, seed: int) -> np.ndarray:
    """Sorted training rows of a seeded random split, leaving at least one row on each side."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = min(n - 1, max(1, round(n * test_share)))
    return np.sort(order[n_test:])
