"""The floor: a MoE training step with its routing but no dispatch, every slot through one expert.

The router is ours (linear gate, `moe_core.layer.fast.topk.top_k`, softmax of the chosen logits); then one MLP, computed
feature-first like ours, runs on the N * K slot copies, and the slots are blended with the weights
as ours blends them.
No sorting, gathering or packing: it does a subset of the work of any correct MoE step, so a ratio to
the tutorial that this floor does not reach, no dispatch reaches in eager PyTorch on the same machine.
Kept for benchmarks/bench_floor.py only; the product never uses it.
"""

import math

import torch
from torch import nn

from moe_core.layer.fast.topk import top_k as fast_top_k


class NoDispatchMoE(nn.Module):
    def __init__(self, dim: int, hidden: int, n_out: int, n_experts: int, top_k: int):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(dim, n_experts)
        self.w_in_HD = nn.Parameter(torch.empty(hidden, dim).uniform_(-1, 1) / math.sqrt(dim))
        self.b_in_H1 = nn.Parameter(torch.zeros(hidden, 1))
        self.w_out_OH = nn.Parameter(torch.empty(n_out, hidden).uniform_(-1, 1) / math.sqrt(hidden))
        self.b_out_O1 = nn.Parameter(torch.zeros(n_out, 1))

    def forward(self, x_ND: torch.Tensor) -> torch.Tensor:
        n, k = x_ND.shape[0], self.top_k
        logits_NE = self.gate(x_ND)
        ids_NK = fast_top_k(logits_NE, k)
        slots_DM = x_ND.T if k == 1 else x_ND.T.repeat(1, k)  # slot m = k * N + n
        h_HM = torch.relu(torch.addmm(self.b_in_H1, self.w_in_HD, slots_DM))
        out_OM = torch.addmm(self.b_out_O1, self.w_out_OH, h_HM)
        if k == 1:  # ours with softmax_topk: the one weight is 1
            return out_OM.T
        weights_KN = torch.softmax(logits_NE.T.gather(0, ids_NK.T), dim=0)
        return (out_OM.view(-1, k, n) * weights_KN).sum(1).T  # ours's feature-first blend
