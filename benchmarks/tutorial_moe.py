"""The MoE tutorial's own MoE (its "Example MoE Implementation"; docs/architecture.md, Sources), as the
tutorial shows it.

Every expert runs on every point; outputs are combined with one mask per (slot, expert) pair.
Kept here only as the reference the benchmark must beat; the product never uses it.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class MixtureOfExperts(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim, num_experts, top_k=2):
        super().__init__()
        self.num_experts = num_experts
        self.top_k = top_k
        # Gating network
        self.gate = nn.Linear(input_dim, num_experts)
        # Expert networks
        self.experts = nn.ModuleList(
            [
                nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, output_dim))
                for _ in range(num_experts)
            ]
        )

    def forward(self, x):
        # Gating scores
        gate_scores = self.gate(x)
        gate_probs = F.softmax(gate_scores, dim=-1)
        # Select top-k experts
        top_k_probs, top_k_indices = torch.topk(gate_probs, self.top_k, dim=-1)
        # Normalize top-k probabilities
        top_k_probs = top_k_probs / top_k_probs.sum(dim=-1, keepdim=True)
        # Compute expert outputs
        expert_outputs = []
        for _i, expert in enumerate(self.experts):
            expert_outputs.append(expert(x))
        # Combine outputs
        output = torch.zeros_like(expert_outputs[0])
        for i in range(self.top_k):
            expert_idx = top_k_indices[:, i]
            weight = top_k_probs[:, i].unsqueeze(-1)
            for j, expert_output in enumerate(expert_outputs):
                mask = (expert_idx == j).float().unsqueeze(-1)
                output += weight * mask * expert_output
        return output
