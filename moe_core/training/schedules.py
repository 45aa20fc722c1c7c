"""Curriculum: the gate noise and the balance loss's weight annealed over training, from the values set
at step 0 to `train.anneal_to` of them at `train.anneal_steps` (the MoE tutorial's gradual specialisation:
explore and balance early, let experts specialise later). Each shape is a function of the progress
t in [0, 1] falling from 1 to 0, registered in `moe_core.settings.choices.SCHEDULES`.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from moe_core.layer.moe import MoE
from moe_core.settings.choices import SCHEDULES
from moe_core.settings.config import RunConfig
from moe_core.settings.table import ModelConfig


def constant(t: float) -> float:
    return 1.0


def linear(t: float) -> float:
    return 1.0 - t


def cosine(t: float) -> float:
    """Loshchilov & Hutter 2017's cosine annealing, SGDR without restarts."""
    return 0.5 * (1.0 + math.cos(math.pi * t))


def factor(kind: str, step: int, steps: int, end: float) -> float:
    """The share of its starting value a scheduled setting has at `step`: 1 at step 0, `end` from `steps` on."""
    t = min(step / steps, 1.0) if steps > 0 else 1.0
    return end + (1.0 - end) * SCHEDULES[kind].implementation()(t)


def moves(cfg: RunConfig) -> bool:
    """Whether a schedule moves the gate noise or the balance weight over training."""
    return cfg.train.noise_schedule != "constant" or cfg.train.balance_schedule != "constant"


def scheduled(cfg: RunConfig, step: int) -> ModelConfig | None:
    """The model's settings at `step`, where a schedule moves the gate noise or the balance weight;
    None where neither moves (the model keeps its own)."""
    t, m = cfg.train, cfg.model
    if not moves(cfg):
        return None
    return dataclasses.replace(
        m,
        gate_noise=m.gate_noise * factor(t.noise_schedule, step, t.anneal_steps, t.anneal_to),
        aux_loss_coef=m.aux_loss_coef * factor(t.balance_schedule, step, t.anneal_steps, t.anneal_to),
    )


def follow(model: torch.nn.Module, cfg: RunConfig, step: int) -> None:
    """Give the router the gate noise and balance weight the schedules set for `step` (no change
    where nothing is scheduled)."""
    if moves(cfg) and isinstance(model, MoE):
        model.router.cfg = scheduled(cfg, step)
