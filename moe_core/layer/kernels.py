"""The operations an MoE can run plainly or fast, as one set: `reference.REFERENCE` (plain torch, the
definition) or `fast.FAST` (the product's default). Everything else is shared, so a test that trains
both sets from the same start checks every fast operation against its definition.

Shapes: N points, E experts, K slots per point, O outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Kernels:
    name: str
    top_k: Callable[[torch.Tensor, int], torch.Tensor]  # scores [N, E], k -> ids [N, K], best first
    chosen: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # scores [N, E], ids [N, K] -> their scores [N, K]
    softmax: Callable[[torch.Tensor], torch.Tensor]  # over each row of [N, E]
    log_softmax: Callable[[torch.Tensor], torch.Tensor]  # over each row of [N, E]
    # experts, x [N, D], ids [N, K], kept [N, K] bool -> each slot's expert output [N, K, O], zero where not kept
    run_experts: Callable[..., torch.Tensor]
    combine: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # weights [N, K], outputs [N, K, O] -> [N, O]
    zero_grad: Callable[[torch.optim.Optimizer], None]
    optimizer_step: Callable[[torch.optim.Optimizer], None]
