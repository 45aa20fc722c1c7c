"""The speed machinery, chosen in one place: `FAST`, the kernels the product trains with.

Each piece does what its counterpart in `moe_core.layer.reference` does, faster on small models, and is
tested equal to it (tests/test_fast.py, and every registered router through the model):
- `dispatch`: routed slots through the experts (packed batched matmuls on the CPU, a grouped matmul
  or dense experts on an accelerator) instead of a loop over experts;
- `topk`: numpy's argmax for top-1 and top-2 on the CPU, and the chosen experts' scores slot-major;
- `softmax`: short rows through torch's column kernel;
- `combine`: the blend in the dispatch's layout;
- `fused_adam`: the fused Adam step without `optimizer.step()`'s per-call bookkeeping.
The process-wide CPU settings (threads, the C allocator) are `moe_core.runtime`'s; nothing here
applies them by itself: the CLI, the app and the benchmarks call `runtime.configure`.
"""

from __future__ import annotations

from moe_core.layer.fast import fused_adam
from moe_core.layer.fast.combine import combine
from moe_core.layer.fast.dispatch import dispatch
from moe_core.layer.fast.softmax import log_softmax_rows, softmax_rows
from moe_core.layer.fast.topk import chosen, top_k
from moe_core.layer.kernels import Kernels

FAST = Kernels(
    "fast", top_k, chosen, softmax_rows, log_softmax_rows, dispatch, combine, fused_adam.clear_grads, fused_adam.step
)
