"""The same numbers on every x86 CPU: the code paths MKL and ATen take, pinned before torch loads.

MKL and ATen pick their kernels by the CPU they find (AVX-512 here, AVX2 on another machine), and the
kernels sum in different orders, so one seed trains to other numbers on another CPU. MKL's
Conditional Numerical Reproducibility (`MKL_CBWR`, Intel's oneMKL developer guide, "Obtaining
Numerically Reproducible Results") and ATen's `ATEN_CPU_CAPABILITY` pin both to AVX2, which every
x86 CPU of the last decade runs. Measured (docs/performance.md, Reproducible across CPUs): a dim-64
run's loss after 300 steps moves in the third digit with MKL's path, and the default run trains at
the same speed pinned or not.

Environment variables are read once, when torch loads its libraries, so the entry points (the CLI,
the app, the tests) call `pin` before importing torch; a value already set is left alone.
"""

from __future__ import annotations

import os

PINNED = {"MKL_CBWR": "AVX2,STRICT", "ATEN_CPU_CAPABILITY": "avx2"}


def pin() -> None:
    """Set the pinned paths where the environment does not choose its own; subprocesses inherit them."""
    for name, value in PINNED.items():
        os.environ.setdefault(name, value)
