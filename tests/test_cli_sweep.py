"""The research commands: a sweep from a file, paired verdicts against a baseline, results files that
carry provenance, histories and maps, a sweep resumed from its file, a random search; train's
snapshots, saved runs and notes for options that do nothing; the metrics glossary."""

import json

import pytest

from devtools.cli import run_main as run
from moe_core.experiments import results
from moe_core.experiments.sweep import sweep
from moe_core.experiments.trials import METRICS
from moe_core.settings.config import RunConfig

SMALL = ["--set", "data.n_train=300", "--set", "data.n_test=100"]
BASE = RunConfig().replace(**{"data.n_train": 300, "data.n_test": 100, "train.steps": 10})


def test_a_sweep_file_runs_its_grid_and_prints_paired_verdicts_against_its_baseline(capsys, tmp_path):
    doc = {"data": {"n_train": 300, "n_test": 100}, "model": {"n_experts": 8}, "steps": 20, "seeds": 3,
           "grid": {"model.top_k": [1, 2], "model.balance": ["none", "aux_loss"]},
           "baseline": {"model.top_k": 1, "model.balance": "none"}, "metrics": ["dead_experts", "cluster_nmi"],
           "name": "k x balance", "tags": ["ci"]}  # fmt: skip
    (tmp_path / "sweep.json").write_text(json.dumps(doc))
    code, out, err = run(
        capsys, "sweep", "--config", str(tmp_path / "sweep.json"), "--out", str(tmp_path / "r.parquet")
    )
    lines = out.splitlines()
    assert code == 0 and err == "" and lines[0] == "12 runs: 4 combinations x 3 seeds, 20 steps each"
    assert lines[2].split() == ["top_k", "balance", "runs", "dead_experts", "cluster_nmi"]
    said = lines.index("") + 1
    assert (
        lines[said].startswith("against top_k=1, balance=none, seed by seed") and "for the 3 comparisons" in lines[said]
    )
    verdicts = lines[said + 1 : said + 7]
    assert all(" Dead experts " in v for v in verdicts[:3]) and all(" NMI " in v for v in verdicts[3:])
    assert all(v.rstrip().endswith(("(better)", "(worse)", "(no clear difference)")) for v in verdicts)
    back = results.read(tmp_path / "r.parquet")
    assert back.provenance["name"] == "k x balance" and back.base.model.n_experts == 8 and back.rows[0].tags == ("ci",)


def test_a_stopped_sweep_resumes_from_its_file_training_only_the_runs_it_lacks(capsys, tmp_path):
    grid = {"model.top_k": [1, 2], "model.balance": ["none", "aux_loss"]}
    ticks = []
    half = sweep(BASE, grid, seeds=2, stop=lambda: len(ticks) >= 1, progress=lambda n, total: ticks.append(n))
    results.write(half, tmp_path / "rows.csv")
    code, out, _ = run(capsys, "sweep", "--resume", str(tmp_path / "rows.csv"), "--json")
    doc = json.loads(out)
    assert code == 0 and len(doc["rows"]) == 8 and doc["provenance"]["grid"] == grid
    whole = sweep(BASE, grid, seeds=2)
    assert [r["test_loss"] for r in doc["rows"]] == [r.metrics["test_loss"] for r in whole.rows]
    assert len(results.read(tmp_path / "rows.csv").rows) == 8  # the file now holds every run
    code, out, _ = run(capsys, "sweep", "--resume", str(tmp_path / "rows.csv"), "--seeds", "3")
    assert (
        code == 0
        and out.splitlines()[-1] == f"resumed from {tmp_path / 'rows.csv'}: 8 runs kept from the file, 4 trained now"
    )
    code, _, err = run(capsys, "sweep", "--resume", str(tmp_path / "rows.csv"), "--set", "model.n_experts=8")
    assert code == 2 and "trained with model.n_experts=4 where this sweep has 8" in err


def test_history_and_maps_go_into_every_format_and_the_long_history_beside_a_csv(capsys, tmp_path):
    args = ["sweep", *SMALL, "--steps", "10", "--grid", "model.top_k=1,2", "--history", "--maps"]
    code, out, _ = run(capsys, *args, "--out", str(tmp_path / "rows.csv"))
    assert code == 0 and out.splitlines()[-1] == f"history written to {tmp_path / 'rows.history.csv'}"
    back = results.read(tmp_path / "rows.csv")
    assert all(r.map and r.history for r in back.rows)
    long = (tmp_path / "rows.history.csv").read_text().splitlines()
    assert long[0].startswith("# moe_explorer.provenance ") and long[1].startswith("model.top_k,seed,run,step,")


def test_options_that_do_nothing_get_a_note_and_a_partly_used_grid_option_too(capsys):
    code, _, err = run(capsys, "train", *SMALL, "--steps", "5", "--set", "model.router=hash", "--set",
                       "model.gate_noise=1.0")  # fmt: skip
    assert code == 0 and err == "note: model.gate_noise=1.0 does nothing here: not used by the router 'hash'.\n"
    grid = ["--grid", "model.router=topk,hash", "--grid", "model.gate_noise=0,1"]
    code, _, err = run(capsys, "sweep", *SMALL, "--steps", "5", *grid, "--json")
    assert code == 0 and err.startswith("note: not used by the router 'hash' (in router=hash, gate_noise=0)")


def test_train_prints_and_writes_its_snapshots_and_a_saved_run_trains_on(capsys, tmp_path):
    code, out, _ = run(capsys, "train", *SMALL, "--steps", "40", "--snapshot-every", "10", "--out",
                       str(tmp_path / "h.csv"), "--save-run", str(tmp_path / "run.safetensors"))  # fmt: skip
    table = out.splitlines()[-5:]
    assert code == 0 and table[0].split()[:3] == ["step", "train_loss", "test_loss"]
    assert [line.split()[0] for line in table[1:]] == ["10", "20", "30", "40"]
    written = (tmp_path / "h.csv").read_text().splitlines()
    assert written[0].startswith("# moe_explorer.provenance ") and len(written) == 6
    code, out, _ = run(capsys, "train", "--resume", str(tmp_path / "run.safetensors"), "--steps", "20", "--json")
    assert code == 0 and json.loads(out.splitlines()[-1])["steps"] == 60
    code, _, err = run(capsys, "train", "--resume", str(tmp_path / "run.safetensors"))
    assert code == 2 and "--resume PATH --steps N" in err


def test_a_random_search_from_the_command_line_names_its_samples(capsys):
    code, out, _ = run(capsys, "sweep", *SMALL, "--steps", "10", "--search", "random", "--samples", "3",
                       "--range", "train.lr=0.001:0.1:log", "--json")  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and len(doc["rows"]) == 3 and doc["provenance"]["search"]["samples"] == 3
    assert all(r["run"].startswith("lr=") for r in doc["rows"])


def test_the_metrics_listing_names_every_metric_with_its_range_and_aim(capsys):
    code, out, _ = run(capsys, "metrics")
    lines = out.splitlines()
    assert code == 0 and [line.split()[0] for line in lines] == list(METRICS)
    nmi = next(line for line in lines if line.startswith("cluster_nmi "))
    assert "[0, 1]  higher is better." in nmi and "Strehl & Ghosh 2002" in nmi
    dead = next(line for line in lines if line.startswith("dead_experts "))
    assert "[0, E (the experts)]  lower is better." in dead


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_sweep_file_extends_a_finished_file_by_a_seed(capsys, tmp_path, suffix):
    path = tmp_path / f"rows{suffix}"
    results.write(sweep(BASE, {"model.top_k": [1, 2]}, seeds=1), path)
    code, out, _ = run(capsys, "sweep", "--resume", str(path), "--seeds", "2", "--json")
    assert code == 0 and [(r["model.top_k"], r["seed"]) for r in json.loads(out)["rows"]] == [
        (1, 0),
        (1, 1),
        (2, 0),
        (2, 1),
    ]
