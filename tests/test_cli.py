import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "moe_core", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_train_prints_a_summary_and_a_json_last_line():
    done = cli("train", "--steps", "60", "--set", "data.n_train=300", "--set", "model.n_experts=3", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for key in (
        "steps",
        "train_loss",
        "test_loss",
        "test_accuracy",
        "load_share",
        "load_entropy",
        "effective_experts",
        "dead_experts",
        "drop_rate",
        "dispatch_entropy",
        "cluster_nmi",
        "diverged",
        "seconds",
    ):
        assert key in result
    assert result["steps"] == 60 and len(result["load_share"]) == 3 and result["diverged"] is False
    assert 0 <= result["test_accuracy"] <= 1 and 0 <= result["cluster_nmi"] <= 1
    assert "load share" in done.stdout


def test_a_config_file_and_a_regression(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"data": {"name": "clusters_regression", "n_train": 200}, "train": {"steps": 20}}))
    done = cli("train", "--config", str(path), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["test_accuracy"] is None and result["steps"] == 20


def test_a_diverging_run_says_so_in_json():
    done = cli("train", "--steps", "30", "--set", "train.lr=1e6", "--set", "train.optimizer=sgd", "--json")
    assert done.returncode == 0
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["diverged"] is True and "diverged at step" in result["message"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("train", "--set", "model.top_k=9"), "model.top_k (9) must be at most model.n_experts (4)"),
        (("train", "--set", "model.topk=2"), "Unknown configuration key 'model.topk'"),
        (("train", "--set", "top_k"), "needs the form section.key=value"),
        (("train", "--config", "missing.json"), "does not exist"),
        (("train", "--set", "data.name=csv", "--set", "data.csv_path=nope.csv"), "does not exist"),
        (("train", "--set", "data.name=cluster_signals", "--set", "data.dim=6"), "multiple of 4"),
        (("train", "--steps", "many"), "invalid int value"),
        (("fly",), "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(args, expected):
    done = cli(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in done.stderr


def test_a_bad_csv_through_the_cli(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x1,x2,label\n0.1,abc,0\n0.2,0.3,1\n0.3,0.1,0\n0.5,0.5,1\n")
    done = cli("train", "--set", "data.name=csv", "--set", f"data.csv_path={path}")
    assert done.returncode == 2 and "Column 'x2' holds the text 'abc' on line 2" in done.stderr


def test_an_invalid_config_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    done = cli("train", "--config", str(path))
    assert done.returncode == 2 and done.stderr.startswith("error: The config file")


def test_datasets_lists_every_dataset_with_its_knobs():
    done = cli("datasets")
    assert done.returncode == 0
    for name in ("clusters", "cluster_signals", "cluster_single_index", "digits", "csv", "spiral"):
        assert name in done.stdout
    assert "Knobs:" in done.stdout
