"""What a layer or model is built for besides its config (`Build`): the one argument every router,
the experts and the model builder take, so that a new field reaches all of them at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from moe_core.layer.fast import FAST
from moe_core.layer.kernels import Kernels

if TYPE_CHECKING:
    from moe_core.datasets.dataset import Dataset


@dataclass(frozen=True, eq=False)
class Build:
    """What a model is built for besides its config: the data's input dim, outputs and task, reference
    points for rules that place centres (`x_ref_ND`), the seed, the kernels, the seeds stacked, and the
    data's patches (`Dataset.patches`)."""

    dim: int
    n_out: int
    classification: bool
    x_ref_ND: torch.Tensor | None = None
    seed: int = 0
    kernels: Kernels = FAST
    stack: int = 1
    patches: int = 1

    @classmethod
    def of(cls, data: Dataset, seed: int, kernels: Kernels = FAST, stack: int = 1) -> Build:
        """For a dataset: its shape, task, training points and patches."""
        return cls(data.dim, data.n_outputs, data.classification, data.x_train, seed, kernels, stack, data.patches)
