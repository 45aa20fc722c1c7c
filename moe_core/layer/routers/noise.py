"""The kinds of training noise on the gate (`model.noise_kind`), each `(router, x, logits) -> (scores,
std)`: std is the Gaussian noise's scale per score, which Shazeer et al.'s smooth load estimate reads,
and None for the other kinds.

Shapes: N points, D input dim, E experts.
"""

from __future__ import annotations

import torch


def gaussian(router, x_ND: torch.Tensor, logits_NE: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Shazeer et al. 2017: logits + N(0, 1) * gate_noise."""
    std_NE = torch.full_like(logits_NE, router.cfg.gate_noise)
    return logits_NE + router.draw_noise(logits_NE) * std_NE, std_NE


def uniform(router, x_ND: torch.Tensor, logits_NE: torch.Tensor) -> tuple[torch.Tensor, None]:
    """Chen, Deng, Wu, Gu, Li 2022: logits + U(0, 1) * gate_noise, per point and expert."""
    return logits_NE + router.draw_noise(logits_NE, uniform=True) * router.cfg.gate_noise, None


def jitter(router, x_ND: torch.Tensor, logits_NE: torch.Tensor) -> tuple[torch.Tensor, None]:
    """Fedus, Zoph, Shazeer 2021 (Switch): the router's input times U(1 - eps, 1 + eps), eps = gate_noise."""
    eps = router.cfg.gate_noise
    return router.logits(x_ND * (1 - eps + 2 * eps * router.draw_noise(x_ND, uniform=True))), None
