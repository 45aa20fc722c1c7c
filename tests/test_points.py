"""The model of points: the dense baseline the MoE is compared with has the MoE's parameter count."""

import pytest

from moe_core.layer.build import Build
from moe_core.models.points import DenseMLP, build_model, count_params, matched_width, mlp_params
from moe_core.settings.table import ModelConfig


@pytest.mark.parametrize(("n_experts", "layers", "dim"), [(1, 1, 2), (4, 1, 2), (16, 2, 32), (64, 1, 2), (8, 3, 10)])
def test_dense_baseline_matches_the_moe_parameter_count(n_experts, layers, dim):
    cfg = ModelConfig(n_experts=n_experts, expert_layers=layers)
    moe = build_model(cfg, Build(dim, 2, True))
    dense = build_model(ModelConfig(n_experts=n_experts, expert_layers=layers, arch="dense"), Build(dim, 2, True))
    assert isinstance(dense, DenseMLP) and len(dense.hidden) == layers
    width = dense.out.in_features
    gap = abs(count_params(dense) - count_params(moe))
    # Within one unit of width: nothing closer exists.
    assert gap <= abs(mlp_params(dim, width + 1, 2, layers) - mlp_params(dim, width, 2, layers))


def test_matched_width_inverts_the_parameter_count():
    for layers in (1, 2, 4):
        assert matched_width(mlp_params(7, 33, 3, layers), 7, 3, layers) == 33
