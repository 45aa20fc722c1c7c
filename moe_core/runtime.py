"""Process-wide settings for training small models on a CPU: torch's threads and the C allocator.

Nothing in the library applies them by itself. The CLI, the app and the benchmarks call
`configure(cfg.train.threads)` once they know the run; a notebook may call it too, or leave torch's
and the C library's defaults alone.
- subnormal floats are flushed to zero (`flush_subnormals`, also called by each training thread):
  arithmetic on them is slow, and values that small change no result the product shows.
- threads: on a small machine one thread is many times faster than several for tiny steps, whose
  work is too small to share (docs/performance.md).
- glibc's malloc hands blocks of 128 KB and more to and from the kernel; its threshold then moves with
  the sizes freed, and freed memory at the top of the heap is given back, so whether a large step
  faults its activations in anew every time depends on how the process happened to settle. With
  freed memory kept in the heap every process reuses it (tests/test_runtime.py counts the faults).
"""

from __future__ import annotations

import ctypes
import functools
import sys

import torch

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
# Blocks below this come from the heap: 32 MiB, the largest threshold every glibc accepts on 64 bits.
MMAP_THRESHOLD = 32 << 20
# Free memory at the top of the heap is given back to the kernel only above this.
TRIM_THRESHOLD = 256 << 20


def configure(threads: int | None = None, keep_memory: bool = True) -> None:
    """torch's CPU threads (None: 1, the product's choice for small steps) and, unless told not to,
    the allocator setting below."""
    torch.set_num_threads(threads or 1)
    flush_subnormals()
    if keep_memory:
        keep_freed_memory()


def flush_subnormals() -> None:
    """Flush subnormal floats to zero in this thread and the threads it starts from now on (the CPU's
    flag is per thread). They run many times slower on x86: a collapsed router's second choices
    weigh e^-50, their experts' gradients and Adam moments fall below 1e-38, and a step took 2.9 times
    a balanced one (benchmarks/bench_core.py, 64 experts, top-2); flushed, 1.05 times."""
    torch.set_flush_denormal(True)


@functools.cache
def keep_freed_memory() -> bool:
    """Let glibc's malloc serve blocks up to MMAP_THRESHOLD from its heap and keep what is freed there,
    so that the next step reuses it without page faults. Once per process; False where the C library
    is not glibc (nothing changes there)."""
    if not sys.platform.startswith("linux"):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
