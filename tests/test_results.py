"""A sweep's results as files (CSV, JSON, Parquet) read back as they were written, and as a table; one
run's history as CSV."""

import csv
import io
import re

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


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_results_read_back_as_written_with_the_same_summary(result, tmp_path, suffix):
    path = tmp_path / f"results{suffix}"
    write(result, path)
    back = read(path)
    assert back.grid == result.grid
    assert [r.flat() for r in back.rows] == [r.flat() for r in result.rows]
    assert back.summary == result.summary
    if suffix == ".json":
        assert [r.history for r in back.rows] == [r.history for r in result.rows] and back.rows[0].history
        assert [r.map for r in back.rows] == [r.map for r in result.rows] and back.rows[0].map


def test_an_unknown_suffix_is_one_sentence(result, tmp_path):
    with pytest.raises(ConfigError, match=r"a \.csv, \.json or \.parquet file, not 'results.txt'"):
        write(result, tmp_path / "results.txt")
    with pytest.raises(ConfigError, match=r"not 'results\.xlsx'"):
        read(tmp_path / "results.xlsx")


def test_the_table_shows_each_combination_with_mean_and_interval(result):
    lines = summary_table(result).splitlines()
    assert lines[0].split()[:3] == ["top_k", "balance", "runs"] and len(lines) == 5
    first = result.summary[0]
    assert f"{first['test_accuracy_mean']:.3f} ± {first['test_accuracy_ci95']:.3f}" in lines[1]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("list.json", "[1, 2]", "The file is JSON but not a sweep's results"),
        ("bad.json", "{oops", "The file is not valid JSON"),
        ("plain.csv", "a,b\n1,2\n", "The file has no seed and steps columns"),
        ("short.csv", "lr,seed,steps\n0.1,0,10\n", "setting columns are not options (section.name): lr"),
        ("blank.csv", "model.top_k,seed,steps\n1,,10\n", "The file's rows are not a sweep's rows"),
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
