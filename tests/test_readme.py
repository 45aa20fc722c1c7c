"""Every example in the README runs as written: each command-line line, in order in one folder (a
later line may read what an earlier one wrote), and the Python blocks, in order as one script."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)
COMMANDS = [
    line.split("  #")[0].strip()
    for kind, body in BLOCKS
    if kind == "bash"
    for line in body.replace("\\\n", " ").splitlines()
    if line.startswith("python -m moe_core") and " app" not in line  # `app` serves until stopped: test_cli
]


def test_the_readme_has_examples_to_run():
    assert len(COMMANDS) >= 6 and any(kind == "python" for kind, _ in BLOCKS)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A folder like the repository's, for the examples' files, shared by the commands in order."""
    here = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", here / "examples")
    return here


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_line_example_runs(command, folder):
    args = shlex.split(command)
    done = subprocess.run([sys.executable, *args[1:]], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_the_python_examples_run(tmp_path):
    code = "\n".join(body for kind, body in BLOCKS if kind == "python")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "(100, 100)" in done.stdout and "p_holm" in done.stdout


def tree_paths(text: str) -> list[str]:
    """The paths a ```text tree names, each entry joined to the folders above it by its indent."""
    (tree,) = [body for kind, body in re.findall(r"```(\w+)\n(.*?)```", text, flags=re.S) if kind == "text"]
    paths, folders = [], []
    for line in tree.splitlines():
        name = line.strip().split(" ")[0]
        depth = (len(line) - len(line.lstrip())) // 2
        if not name or not (name.endswith("/") or name.endswith(".py")):
            continue  # a continued description
        folders = folders[:depth]
        paths.append("".join(folders) + name)
        if name.endswith("/"):
            folders.append(name)
    return paths


def test_the_readmes_tree_is_the_repositorys():
    named = tree_paths(README)
    assert len(named) > 40
    assert [path for path in named if not (ROOT / path).exists()] == []
    # a folder whose modules the tree lists lists all of them: a module added or moved shows here
    for folder in {path.rpartition("/")[0] + "/" for path in named if path.endswith(".py")}:
        modules = {f"{folder}{f.name}" for f in (ROOT / folder).glob("*.py") if f.name != "__init__.py"}
        assert modules <= set(named), sorted(modules - set(named))


def test_every_module_path_the_docs_name_exists():
    for doc in (README, (ROOT / "docs" / "architecture.md").read_text()):
        for path in re.findall(r"`((?:moe_core|app|tests|benchmarks)/[\w/.]+)`", doc):
            assert (ROOT / path).exists(), path
        for module in re.findall(r"`(moe_core(?:\.\w+)+)", doc):
            parts = module.split(".")
            assert any((ROOT / Path(*parts[:n])).with_suffix(".py").exists() or (ROOT / Path(*parts[:n])).is_dir()
                       for n in range(len(parts), 1, -1)), module  # fmt: skip
