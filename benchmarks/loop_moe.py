"""A per-expert loop over stacked weights, in the manner of Hugging Face's MixtralSparseMoeBlock.

Softmax, top-k, renormalise; then for each expert that got points: find them with torch.where,
run the expert, index_add the weighted output back. Kept here as the benchmark's second reference.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


class LoopMoE(nn.Module):
    def __init__(self, dim: int, hidden: int, n_out: int, n_experts: int, top_k: int):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(dim, n_experts)
        self.w_in = nn.Parameter(torch.empty(n_experts, dim, hidden).uniform_(-1, 1) / math.sqrt(dim))
        self.b_in = nn.Parameter(torch.zeros(n_experts, hidden))
        self.w_out = nn.Parameter(torch.empty(n_experts, hidden, n_out).uniform_(-1, 1) / math.sqrt(hidden))
        self.b_out = nn.Parameter(torch.zeros(n_experts, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = F.softmax(self.gate(x), dim=-1)
        weights, chosen = torch.topk(probs, self.top_k, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        out = x.new_zeros(x.shape[0], self.b_out.shape[1])
        mask = F.one_hot(chosen, num_classes=self.w_in.shape[0]).permute(2, 1, 0)  # [E, K, N]
        for e in torch.nonzero(mask.sum(dim=(1, 2))).squeeze(1).tolist():
            slot, point = torch.where(mask[e])
            h = torch.relu(x[point] @ self.w_in[e] + self.b_in[e])
            y = (h @ self.w_out[e] + self.b_out[e]) * weights[point, slot, None]
            out.index_add_(0, point, y)
        return out
