"""A sweep's results as files (CSV, JSON, Parquet) read back as they were written, with their
provenance, histories and maps, readable by pandas and pyarrow, and as a table; one run's history as
CSV."""

import csv
import dataclasses
import io
import json
import re

import pandas as pd
import pyarrow.parquet as pq
import pytest

from moe_core.experiments.results import history_csv, read, summary_table, write
from moe_core.experiments.sweep import sweep
from moe_core.settings.config import ConfigError, RunConfig
from moe_core.training.trainer import Trainer

BASE = RunConfig().replace(**{"data.n_train": 300, "data.n_test": 100, "train.steps": 20})


@pytest.fixture(scope="module")
def result():
    grid = {"model.top_k": [1, 2], "model.balance": ["none", "aux_loss"]}
    return sweep(BASE, grid, seeds=2, with_history=True, with_map=True)


def unrounded(rows):
    return [dataclasses.replace(row, seconds=round(row.seconds, 3)) for row in rows]


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_results_read_back_as_written_with_provenance_histories_and_maps(result, tmp_path, suffix):
    path = tmp_path / f"results{suffix}"
    written = write(result, path)
    back = read(path)
    assert back.grid == result.grid and back.provenance == result.provenance and back.base == BASE
    assert unrounded(back.rows) == unrounded(result.rows)  # histories, maps, names and tags included
    assert back.rows[0].history and back.rows[0].map and back.rows[0].name == "top_k=1, balance=none, seed 0"
    assert back.summary == result.summary
    if suffix != ".json":  # the long-format history beside the rows
        assert written == [path, tmp_path / f"results.history{suffix}"]


def test_pandas_and_pyarrow_read_the_rows_and_the_provenance_the_docs_point_to(result, tmp_path):
    write(result, tmp_path / "rows.csv")
    write(result, tmp_path / "rows.parquet")
    frame = pd.read_csv(tmp_path / "rows.csv", skiprows=1)
    assert len(frame) == 8 and list(frame.columns[:4]) == ["model.top_k", "model.balance", "seed", "run"]
    first = (tmp_path / "rows.csv").read_text().splitlines()[0]
    assert json.loads(first.removeprefix("# moe_explorer.provenance "))["base"] == BASE.to_dict()
    stored = pq.read_schema(tmp_path / "rows.parquet").metadata[b"moe_explorer.provenance"]
    assert json.loads(stored) == result.provenance
    assert pd.read_parquet(tmp_path / "rows.parquet")["test_loss"].tolist() == [
        r.metrics["test_loss"] for r in result.rows
    ]
    long = pd.read_csv(tmp_path / "rows.history.csv", skiprows=1)
    assert len(long) == sum(len(r.history) for r in result.rows) and {"run", "step", "load_share_E0"} <= set(long)


def test_a_results_file_from_before_provenance_still_opens_with_its_columns_as_the_grid(result, tmp_path):
    path = tmp_path / "old.csv"
    path.write_text("\n".join(write_csv_without_provenance(result)))
    back = read(path)
    assert back.provenance == {} and back.base is None and back.grid == result.grid and len(back.rows) == 8


def write_csv_without_provenance(result) -> list[str]:
    lines = io.StringIO()
    writer = csv.DictWriter(lines, fieldnames=[*result.grid, "seed", "steps", "diverged", "seconds", "test_loss"])
    writer.writeheader()
    for row in result.rows:
        flat = row.flat()
        writer.writerow({key: flat[key] for key in writer.fieldnames})
    return lines.getvalue().splitlines()


def test_an_unknown_suffix_is_one_sentence(result, tmp_path):
    with pytest.raises(ConfigError, match=r"a \.csv, \.json or \.parquet file, not 'results.txt'"):
        write(result, tmp_path / "results.txt")
    with pytest.raises(ConfigError, match=r"not 'results\.xlsx'"):
        read(tmp_path / "results.xlsx")


def test_the_table_says_what_its_intervals_are_and_shows_them_clipped(result):
    said, header, *lines = summary_table(result).splitlines()
    assert said == "each cell: mean [95% interval over seeds, Student's t, clipped to the metric's range]"
    assert header.split()[:3] == ["top_k", "balance", "runs"] and len(lines) == 4
    first = result.summary[0]
    low, high = first["test_accuracy_low"], first["test_accuracy_high"]
    assert f"{first['test_accuracy_mean']:.3f} [{low:.3f}, {high:.3f}]" in lines[0] and high <= 1
    chosen = summary_table(result, ["cluster_nmi"]).splitlines()[1].split()
    assert chosen == ["top_k", "balance", "runs", "cluster_nmi"]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("list.json", "[1, 2]", "The file is JSON but not a sweep's results"),
        ("bad.json", "{oops", "The file is not valid JSON"),
        ("plain.csv", "a,b\n1,2\n", "The file has no seed and steps columns"),
        ("short.csv", "lr,seed,steps\n0.1,0,10\n", "setting columns are not options (section.name): lr"),
        ("blank.csv", "model.top_k,seed,steps\n1,,10\n", "The file's rows are not a sweep's rows"),
        ("long.csv", "model.top_k,seed,steps\n1,0,10,7\n", "A line of the file has more fields than its header"),
        ("odd.parquet", "not parquet at all", "The file is not a readable Parquet file"),
        (
            "told.csv",
            "# moe_explorer.provenance [1]\nmodel.top_k,seed,steps\n1,0,10\n",
            "provenance is not a JSON object",
        ),
    ],
)
def test_a_file_that_is_not_a_sweeps_results_is_one_sentence(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(says)):
        read(path)


def test_results_cannot_go_to_a_missing_folder_and_the_check_comes_first(result, tmp_path):
    with pytest.raises(ConfigError, match="does not exist or cannot be written"):
        write(result, tmp_path / "missing" / "rows.csv")


def test_a_runs_history_is_one_csv_row_per_snapshot_with_a_column_per_expert_and_cluster():
    cfg = RunConfig().replace(**{"data.n_train": 300, "data.n_test": 100, "model.n_experts": 3})
    moe, dense = Trainer(cfg), Trainer(cfg.replace(**{"model.arch": "dense"}))
    for trainer in (moe, dense):
        trainer.fit(20, snapshot_every=10)
    rows = list(csv.DictReader(io.StringIO(history_csv(moe.history, dense.history))))
    assert [int(r["step"]) for r in rows] == [10, 20]
    assert history_csv([*moe.history, moe.history[-1]]).count("\n") == 3  # a step snapshotted twice is one row
    assert [float(rows[-1][f"load_share_E{e}"]) for e in range(3)] == pytest.approx(list(moe.history[-1].load_share))
    assert int(rows[-1]["contingency_E2_C3"]) == moe.history[-1].contingency[2][3]
    assert float(rows[-1]["dense_test_loss"]) == pytest.approx(dense.history[-1].test_loss)
    assert "flip_rate" in rows[0] and rows[0]["flip_rate"] == ""  # none at the first snapshot; later rows have it
    dense_only = list(csv.DictReader(io.StringIO(history_csv(dense.history))))
    assert set(dense_only[0]) == {"step", "train_loss", "test_loss", "test_accuracy"}  # no empty routing columns
