"""The command line, flag by flag: what each prints, and one `error:` line with exit code 2 for bad input."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch

from devtools.cli import run_main
from moe_core.layer.routers import ROUTERS
from moe_core.settings.table import OPTIONS

ROOT = Path(__file__).resolve().parent.parent
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
SMALL = ["--set", "data.n_train=300", "--set", "data.n_test=100"]


run = run_main


def cli(*args: str, cwd=ROOT, **kwargs) -> subprocess.CompletedProcess:
    """The real entry point in a fresh interpreter."""
    command = [sys.executable, "-m", "moe_core", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=300, **kwargs)


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_train_prints_a_summary_and_with_json_a_json_last_line(capsys):
    code, out, _ = run(capsys, "train", "--steps", "60", *SMALL, "--set", "model.n_experts=3", "--json")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "clusters, 3 experts, top-1, aux_loss"
    assert lines[1].startswith("steps 60 in ") and "load share [" in lines[2] and "cluster NMI" in lines[3]
    result = last_json(out)
    assert result["steps"] == 60 and len(result["load_share"]) == 3 and result["diverged"] is False
    assert 0 <= result["test_accuracy"] <= 1 and 0 <= result["cluster_nmi"] <= 1
    code, out, _ = run(capsys, "train", "--steps", "5", *SMALL)
    assert code == 0 and not out.strip().splitlines()[-1].startswith("{")  # no JSON without --json


def test_set_takes_json_values_and_strings_and_steps_overrides_the_config(capsys, tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"data": {"name": "clusters_regression", "n_train": 200}, "train": {"steps": 50}}))
    code, out, _ = run(capsys, "train", "--config", str(path), "--steps", "20", "--set", "model.top_k=2", "--json")
    result = last_json(out)
    assert code == 0 and result["steps"] == 20 and result["test_accuracy"] is None
    assert result["config"]["model"]["top_k"] == 2 and result["config"]["data"]["name"] == "clusters_regression"


def test_snapshot_every_sets_how_often_the_history_is_measured(capsys):
    code, out, _ = run(capsys, "train", "--steps", "40", "--snapshot-every", "10", *SMALL, "--json")
    assert code == 0 and last_json(out)["snapshots"] == 4
    code, out, _ = run(capsys, "train", "--steps", "40", *SMALL, "--json")
    assert last_json(out)["snapshots"] == 1


def test_a_datasets_suggested_values_fill_what_the_user_did_not_set(capsys):
    code, out, _ = run(capsys, "train", "--steps", "2", "--set", "data.name=digits", "--json")
    data = last_json(out)["config"]["data"]
    assert code == 0 and (data["dim"], data["n_train"], data["n_test"]) == (64, 1200, 500)


def test_a_bundled_sample_trains_by_its_name_from_any_folder(tmp_path):
    done = cli(
        "train", "--steps", "5", "--set", "data.name=csv", "--set", "data.csv_path=clusters.csv", "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert last_json(done.stdout)["cluster_nmi"] is not None  # its cluster column was read


def test_a_diverging_run_says_so_in_json_and_on_stderr(capsys):
    code, out, err = run(
        capsys, "train", "--steps", "30", "--set", "train.lr=1e6", "--set", "train.optimizer=sgd", "--json"
    )
    result = last_json(out)
    assert code == 0 and result["diverged"] is True and "diverged at step" in result["message"]
    assert "lower the learning rate" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("train", "--set", "model.top_k=9"), "model.top_k (9) must be at most model.n_experts (4)."),
        (("train", "--set", "model.topk=2"), "Unknown configuration key 'model.topk' (did you mean model.top_k?)."),
        (("train", "--set", "n_experts=8"), "Unknown configuration key 'n_experts' (did you mean model.n_experts?)."),
        (("train", "--set", "model.router=swich"), "model.router 'swich' is unknown (did you mean switch?)"),
        (("train", "--set", "top_k"), "needs the form section.key=value"),
        (("train", "--config", "missing.json"), "does not exist"),
        (("train", "--set", "data.name=csv", "--set", "data.csv_path=nope.csv"), "does not exist"),
        (("train", "--set", "data.name=cluster_signals", "--set", "data.dim=6"), "multiple of 4"),
        pytest.param(
            ("train", "--set", "train.device=cuda"),
            "train.device is 'cuda' but this machine has no CUDA device",
            marks=NO_CUDA,
        ),
        (("train", "--steps", "many"), "argument --steps: must be a whole number of at least 0, got 'many'"),
        (("train", "--steps", "-1"), "argument --steps: must be a whole number of at least 0, got '-1'"),
        (("train", "--snapshot-every", "-1"), "argument --snapshot-every: must be a whole number of at least 1"),
        (("train", "--snapshot-every", "0"), "argument --snapshot-every: must be a whole number of at least 1"),
        (("fly",), "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(capsys, args, expected):
    code, _, err = run(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("train", "--set", "train.device=cuda"), "no CUDA device", marks=NO_CUDA),
        (("train", "--config", "nope.json"), "nope.json"),
    ],
)
def test_the_real_entry_point_exits_2_without_a_traceback(args, expected):
    done = cli(*args)
    assert done.returncode == 2 and "Traceback" not in done.stderr and expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_bad_csv_and_a_bad_config_file(capsys, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("x1,x2,label\n0.1,abc,0\n0.2,0.3,1\n0.3,0.1,0\n0.5,0.5,1\n")
    code, _, err = run(capsys, "train", "--set", "data.name=csv", "--set", f"data.csv_path={csv}")
    assert code == 2 and "Column 'x2' holds the text 'abc' on line 2" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run(capsys, "train", "--config", str(bad))
    assert code == 2 and err.startswith("error: The config file")


def test_options_lists_every_option_with_its_range(capsys):
    code, out, _ = run(capsys, "options")
    lines = out.strip().splitlines()
    assert code == 0 and [line.split()[0] for line in lines] == list(OPTIONS)
    assert "Changes live." in next(line for line in lines if line.startswith("model.balance"))


def test_routers_lists_every_rule_and_balance_strategy_with_its_paper(capsys):
    code, out, _ = run(capsys, "routers")
    assert code == 0
    for spec in ROUTERS.entries():
        assert f"  {spec.name} " in out and spec.citation in out
    for name in ("none", "aux_loss", "importance", "bias"):
        assert f"  {name} " in out


def test_datasets_lists_every_dataset_with_its_options(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    for name in ("clusters", "cluster_signals", "cluster_single_index", "digits", "drawn", "csv", "spiral"):
        assert name in out
    clusters = "data.dim, data.n_clusters, data.n_test, data.n_train, data.noise, data.separation, data.shift_kind"
    assert f"Options: {clusters}, data.shift_step." in out
    assert "Options: data.csv_path, data.target." in out  # a file's rows set its sizes


def test_help_and_listings_start_without_torch():
    code = (
        "import sys\nfrom moe_core.__main__ import main\n"
        "for args in (['--help'], ['options'], ['routers'], ['datasets'], ['train', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "print('torch' in sys.modules, 'sklearn' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stderr.strip().splitlines()[-1] == "False False"
    assert "train" in done.stdout and "snapshot-every" in done.stdout


def test_a_closed_pipe_ends_the_listing_quietly():
    # As in `python -m moe_core options | head -1`: the reader goes away before the output is written.
    reader, writer = socket.socketpair()
    reader.close()
    done = subprocess.run([sys.executable, "-m", "moe_core", "options"], stdout=writer.fileno(),
                          stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=60)  # fmt: skip
    writer.close()
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr and done.stderr == ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_starts_the_app_from_any_folder(tmp_path):
    port = _free_port()
    args = ["app", "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port)]
    process = subprocess.Popen([sys.executable, "-m", "moe_core", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "the app did not start"
                time.sleep(0.3)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
        assert "<title>Streamlit</title>" in page or "streamlit" in page.lower()
    finally:
        process.terminate()
        process.wait(timeout=20)
    with pytest.raises(OSError):  # stopping the command stopped the server: nothing is left running
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)


def test_sweep_prints_a_table_writes_the_rows_and_says_json_when_asked(capsys, tmp_path):
    out_file = tmp_path / "rows.csv"
    grid = ["--grid", "model.top_k=1,2", "--grid", "model.balance=none,aux_loss"]
    code, out, err = run(capsys, "sweep", *SMALL, "--steps", "10", *grid, "--seeds", "2", "--out", str(out_file))
    lines = out.splitlines()
    assert code == 0 and lines[0] == "8 runs: 4 combinations x 2 seeds, 10 steps each"
    assert lines[1].startswith("each cell: mean [95% interval over seeds")
    assert lines[2].split()[:3] == ["top_k", "balance", "runs"] and len(lines) == 8
    assert lines[-1] == f"rows written to {out_file}" and len(out_file.read_text().splitlines()) == 10
    assert err == ""  # no progress bar when stderr is not a terminal
    code, out, _ = run(capsys, "sweep", *SMALL, "--steps", "10", "--grid", "model.top_k=1,2", "--json")
    doc = json.loads(out)
    assert code == 0 and [r["model.top_k"] for r in doc["rows"]] == [1, 2] and len(doc["summary"]) == 2


def test_sweep_batches_a_settings_seeds_unless_asked_to_train_them_one_by_one(capsys):
    args = ["sweep", *SMALL, "--steps", "10", "--seeds", "3", "--json"]
    batched = json.loads(run(capsys, *args)[1])["rows"]
    alone = json.loads(run(capsys, *args, "--one-by-one")[1])["rows"]
    assert [r["seed"] for r in batched] == [r["seed"] for r in alone] == [0, 1, 2]
    for mine, theirs in zip(batched, alone, strict=True):
        assert mine["test_loss"] == pytest.approx(theirs["test_loss"], rel=1e-4)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--grid", "model.topk=1,2"], "did you mean model.top_k?"),
        (["--grid", "model.top_k=1,9"], "The combination top_k=9 is impossible"),
        (["--set", "model.router=hash", "--grid", "model.gate_noise=0,1"], "which is not used by the router 'hash'"),
        (["--grid", "model.top_k=1,2", "--baseline", "model.top_k=3"], "model.top_k=3 is not among the grid's values"),
        (["--grid", "model.top_k=1,2", "--metrics", "accuracy"], "The metric 'accuracy' is not one a sweep keeps"),
        (["--samples", "3"], "--samples is for a random search; add --search random"),
        (["--search", "random", "--range", "train.lr=0.1"], "needs the form LOW:HIGH or LOW:HIGH:log"),
        (["--search", "random", "--grid", "model.top_k=1,2", "--baseline", "model.top_k=1"], "no shared baseline"),
        (["--resume", "missing.csv"], "does not exist"),
        (["--grid", "model.top_k"], "needs the form section.key=a,b,c"),
        (["--grid", "model.top_k=1", "--out", "rows.txt"], "not 'rows.txt'"),
        (["--seeds", "0"], "--seeds: must be a whole number of at least 1"),
    ],
)
def test_a_bad_sweep_is_one_error_line_before_any_run(capsys, tmp_path, args, says):
    code, out, err = run(
        capsys, "sweep", *SMALL, "--steps", "5", *[a.replace("rows.txt", str(tmp_path / "rows.txt")) for a in args]
    )
    assert code == 2 and out == "" and err.startswith("error: ") and len(err.splitlines()) == 1 and says in err


def test_replicate_prints_the_papers_table_and_its_json_at_tiny_size(capsys):
    tiny = ["--set", "data.n_train=400", "--set", "data.n_test=200", "--set", "train.batch_size=200",
            "--set", "train.steps=5"]  # fmt: skip
    code, out, _ = run(capsys, "replicate", "chen2022", "--seeds", "2", *tiny)
    lines = out.splitlines()
    assert (
        code == 0 and lines[0].startswith("Chen et al. 2022") and lines[2].split()[:3] == ["model", "test", "accuracy"]
    )
    assert lines[1] == "each cell: mean ± one standard deviation over the seeds (n - 1)"
    assert any(line.startswith("MoE, cubic experts") and "99.46 ± 0.55 %" in line for line in lines)
    code, out, _ = run(capsys, "replicate", "chen2022", "--seeds", "2", *tiny, "--json")
    rows = json.loads(out.splitlines()[-1])
    assert code == 0 and [r["model"] for r in rows][:2] == ["MoE, cubic experts", "MoE, linear experts"]
    for row in rows:
        assert row["runs"] == 2 and 0 <= row["test_accuracy_mean"] <= 1 and row["test_accuracy_std"] is not None
        assert row["dispatch_entropy_mean"] is not None and "dispatch_entropy_std" in row
    code, _, err = run(capsys, "replicate", "chen2022", "--set", "model.n_experts=0")
    assert code == 2 and err.startswith("error: model.n_experts")


def test_replicate_kawata_reports_the_alignment_beside_the_loss(capsys):
    tiny = [
        "--set",
        "data.dim=16",
        "--set",
        "data.n_test=200",
        "--set",
        "train.steps=5",
        "--set",
        "train.batch_size=32",
    ]
    code, out, _ = run(capsys, "replicate", "kawata2025", "--seeds", "2", *tiny, "--json")
    rows = json.loads(out.splitlines()[-1])
    assert code == 0 and [r["model"] for r in rows] == ["MoE, 8 experts x 16 neurons", "dense network, same size"]
    for row in rows:
        assert row["test_loss_mean"] > 0 and 0 <= row["alignment_mean"] <= 1 and row["alignment_std"] is not None


def test_train_saves_its_weights_and_starts_again_from_them(capsys, tmp_path):
    path = tmp_path / "run.safetensors"
    code, out, _ = run(capsys, "train", *SMALL, "--steps", "30", "--save-weights", str(path), "--json")
    assert code == 0 and path.stat().st_size > 0
    trained = json.loads(out.splitlines()[-1])
    code, out, _ = run(capsys, "train", *SMALL, "--steps", "0", "--load-weights", str(path), "--json")
    assert code == 0 and json.loads(out.splitlines()[-1])["test_loss"] == pytest.approx(trained["test_loss"])
    code, _, err = run(
        capsys, "train", *SMALL, "--set", "model.n_experts=8", "--steps", "1", "--load-weights", str(path)
    )
    assert code == 2 and err.startswith("error: The weights file has 4 experts' weights") and err.count("\n") == 1
    code, _, err = run(capsys, "train", *SMALL, "--steps", "1", "--save-weights", str(tmp_path / "run.pt"))
    assert code == 2 and "not 'run.pt'" in err


def test_lessons_are_listed_one_a_line_and_one_runs_headless_with_a_json_verdict(capsys):
    code, out, _ = run(capsys, "lessons")
    assert code == 0 and out.split() == [
        "routing",
        "sparsity",
        "collapse",
        "exploration",
        "hierarchical",
        "top_p",
        "growing",
        "capacity",
        "expert_choice",
        "nonlinear_experts",
        "latent_clusters",
    ]
    code, out, _ = run(capsys, "lesson", "expert_choice", "--seed", "1", "--json")
    doc = json.loads(out.splitlines()[-1])
    assert code == 0 and doc["lesson"] == "expert_choice" and doc["verdict"] is True and doc["load_cv2"] < 1e-6
    code, out, _ = run(capsys, "lesson", "expert_choice")
    assert code == 0 and out.splitlines()[0].startswith("Expert choice") and "As expected: Load CV²" in out


def test_train_reports_the_splits_and_the_data_shift_it_went_through(capsys):
    settings = [
        *("data.shift_step=100", "data.shift_kind=add", "data.n_train=400", "model.n_experts=2"),
        *("model.balance=none", "model.expert_hidden=2", "train.split_above=1.01", "train.grow_every=100"),
    ]
    code, out, _ = run(capsys, "train", *[a for s in settings for a in ("--set", s)], "--steps", "300", "--json")
    doc = json.loads(out.splitlines()[-1])
    assert code == 0 and [100, "data shift: clusters appear"] in doc["events"]
    assert "step 100: data shift: clusters appear" in out
    assert any(text.startswith("split E") for _, text in doc["events"]) == (doc["config"]["model"]["n_experts"] > 2)
