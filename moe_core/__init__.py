"""MoE Explorer's core: data, routers, balancing, metrics and a step-wise trainer (torch, numpy, scikit-learn).

    from moe_core import RunConfig, Trainer
    trainer = Trainer(RunConfig().replace(**{"model.n_experts": 8}))
    trainer.step(500)
    print(trainer.snapshot().metrics.cluster_nmi)

Names are imported on first use, so that `python -m moe_core --help` and the listings start without
loading torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ConfigError": "moe_core.errors",
    "RunConfig": "moe_core.config",
    "DataConfig": "moe_core.options",
    "ModelConfig": "moe_core.options",
    "TrainConfig": "moe_core.options",
    "OPTIONS": "moe_core.options",
    "ROUTERS": "moe_core.routers",
    "BALANCE": "moe_core.balance",
    "DATASETS": "moe_core.datasets",
    "Dataset": "moe_core.datasets.dataset",
    "make_dataset": "moe_core.datasets.dataset",
    "Metrics": "moe_core.metrics",
    "MoE": "moe_core.model",
    "build_model": "moe_core.model",
    "Router": "moe_core.routers.base",
    "Routing": "moe_core.routers.base",
    "Snapshot": "moe_core.train",
    "StepReport": "moe_core.train",
    "Trainer": "moe_core.train",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'moe_core' has no attribute '{name}'")
    return getattr(importlib.import_module(_WHERE[name]), name)


def __dir__() -> list[str]:
    return __all__
