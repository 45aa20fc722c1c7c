"""The speed machinery, chosen in one place: `FAST`, the kernels the product trains with.

Each piece does what its counterpart in `moe_core.reference` does, faster on small models, and is
tested equal to it (tests/test_fast.py, and every registered router through the model):
- `dispatch`: routed slots through the experts (packed batched matmuls on the CPU, a grouped matmul
  or dense experts on an accelerator) instead of a loop over experts;
- `topk`: numpy's argmax for top-1 and top-2 on the CPU, and the chosen experts' scores slot-major;
- `softmax`: short rows through torch's column kernel;
- `combine`: the blend in the dispatch's layout;
- `optim`: the fused Adam step without `optimizer.step()`'s per-call bookkeeping.
`runtime` holds the process-wide CPU settings (threads, the C allocator); nothing here applies them
by itself: the CLI, the app and the benchmarks call `runtime.configure`.
"""

from __future__ import annotations

from moe_core.fast import optim
from moe_core.fast.combine import combine
from moe_core.fast.dispatch import dispatch
from moe_core.fast.softmax import log_softmax_rows, softmax_rows
from moe_core.fast.topk import chosen, top_k
from moe_core.kernels import Kernels

FAST = Kernels("fast", top_k, chosen, softmax_rows, log_softmax_rows, dispatch, combine, optim.clear_grads, optim.step)
