"""MoE Explorer's core: data, routers, balancing, metrics and a step-wise trainer (torch, numpy, scikit-learn).

from moe_core import RunConfig, Trainer
trainer = Trainer(RunConfig().replace(**{"model.n_experts": 8}))
trainer.step(500)
print(trainer.snapshot().metrics.cluster_nmi)
"""

from moe_core.catalog import DATASETS
from moe_core.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
from moe_core.data import Dataset, make_dataset
from moe_core.model import MoE, build_model
from moe_core.routing import Router, Routing
from moe_core.snapshot import Metrics
from moe_core.train import Snapshot, StepReport, Trainer

__all__ = [
    "DATASETS",
    "ConfigError",
    "DataConfig",
    "Dataset",
    "Metrics",
    "MoE",
    "ModelConfig",
    "Router",
    "Routing",
    "RunConfig",
    "Snapshot",
    "StepReport",
    "TrainConfig",
    "Trainer",
    "build_model",
    "make_dataset",
]
