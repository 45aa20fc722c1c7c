"""Process-wide settings for training small models on a CPU: torch's threads and the C allocator.

Both are set on purpose rather than left to defaults made for other workloads:
- threads: on a 2-core machine one thread was about 10x faster than two for tiny steps (design.md 7);
- glibc's malloc hands blocks of 128 KB and more to and from the kernel; its threshold then moves with
  the sizes freed, and freed memory at the top of the heap is given back, so whether a step faults its
  activations in anew every time depends on how the process happened to settle. At 32-d inputs,
  hidden 128, 16 experts, top-2, batch 4096 (one thread), some processes took 1,300-1,500 page faults
  and 3.6-3.8 ms of kernel time in each 15 ms step, others under 50 faults; with freed memory kept in
  the heap every process takes about 15 a step and no kernel time (tests/test_cpu.py counts them).
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


def configure(threads: int | None = None) -> None:
    """torch's CPU threads (None: 1, the product's choice for small steps) and the allocator's settings."""
    torch.set_num_threads(threads or 1)
    keep_freed_memory()


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
