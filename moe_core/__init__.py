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
    "RunConfig": "moe_core.settings.config",
    "DataConfig": "moe_core.settings.table",
    "ModelConfig": "moe_core.settings.table",
    "TrainConfig": "moe_core.settings.table",
    "OPTIONS": "moe_core.settings.table",
    "ROUTERS": "moe_core.layer.routers",
    "BALANCE": "moe_core.layer.balance",
    "DATASETS": "moe_core.datasets",
    "Dataset": "moe_core.datasets.dataset",
    "make_dataset": "moe_core.datasets.dataset",
    "Metrics": "moe_core.measure.metrics",
    "Build": "moe_core.layer.build",
    "FAST": "moe_core.layer.fast",
    "REFERENCE": "moe_core.layer.reference",
    "MoE": "moe_core.layer.moe",
    "RouterSpec": "moe_core.layer.routers",
    "SeedBatch": "moe_core.training.seed_batch",
    "build_model": "moe_core.models.points",
    "Router": "moe_core.layer.routers.base",
    "Routing": "moe_core.layer.routers.base",
    "Snapshot": "moe_core.training.trainer",
    "StepReport": "moe_core.training.trainer",
    "Trainer": "moe_core.training.trainer",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'moe_core' has no attribute '{name}'")
    return getattr(importlib.import_module(_WHERE[name]), name)


def __dir__() -> list[str]:
    return __all__
