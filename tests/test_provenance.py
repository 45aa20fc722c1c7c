"""Provenance: the version and commit the code runs from, and a record that names the whole base."""

import subprocess
from pathlib import Path

from moe_core.experiments.provenance import commit, describe, record, version
from moe_core.settings.config import RunConfig

ROOT = Path(__file__).resolve().parent.parent


def test_the_commit_is_the_checkouts_head_marked_when_the_tree_has_changes():
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    found = commit()
    assert found is not None and found.removesuffix("+changes") == head
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    assert found.endswith("+changes") == bool(dirty)


def test_a_record_names_the_base_grid_seeds_and_version_and_reads_as_one_line():
    base = RunConfig().replace(**{"model.n_experts": 8})
    told = record(base, {"model.top_k": [1, 2]}, [0, 1, 2], backend="local")
    assert told["base"]["model"]["n_experts"] == 8 and told["version"] == version() and told["backend"] == "local"
    line = describe(told)
    assert line.startswith("clusters, 8 experts, top-1, aux_loss; model.top_k over 2 values; 3 seeds; moe-explorer ")
    assert describe({}).startswith("a results file without provenance")
