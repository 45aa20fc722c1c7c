"""The CPU code paths are pinned before torch loads, in the test process as in the CLI and the app."""

import os
import subprocess
import sys

from moe_core import cpu_paths


def test_the_suite_trains_with_the_pinned_paths_and_torch_reads_them():
    for name, value in cpu_paths.PINNED.items():
        assert os.environ[name] == value
    code = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    capability = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert capability.strip() in ("AVX2", "DEFAULT")  # never AVX512, whatever this CPU has


def test_a_value_the_environment_sets_is_kept(monkeypatch):
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY")
    cpu_paths.pin()
    assert os.environ["MKL_CBWR"] == "COMPATIBLE" and os.environ["ATEN_CPU_CAPABILITY"] == "avx2"


def test_the_cli_pins_the_paths_before_its_commands_load_torch():
    env = {key: value for key, value in os.environ.items() if key not in cpu_paths.PINNED}
    code = "import os, sys; from moe_core.__main__ import main; sys.argv = ['x', 'options']; main(); " \
        "print(os.environ['ATEN_CPU_CAPABILITY'])"  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip().endswith("avx2")
