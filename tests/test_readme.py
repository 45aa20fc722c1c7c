"""Every example in the README runs as written: each command-line line, and the Python block."""

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
    for line in body.splitlines()
    if line.startswith("python -m moe_core") and " app" not in line  # `app` serves until stopped: test_cli
]


def test_the_readme_has_examples_to_run():
    assert len(COMMANDS) >= 6 and any(kind == "python" for kind, _ in BLOCKS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_line_example_runs(command, tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")  # a folder like the repository's, for its files
    args = shlex.split(command)
    done = subprocess.run([sys.executable, *args[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_the_python_example_runs():
    (code,) = [body for kind, body in BLOCKS if kind == "python"]
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "(100, 100)" in done.stdout
