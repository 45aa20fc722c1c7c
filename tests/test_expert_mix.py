"""`model.expert_mix`: parsed into kinds, and every mistake one sentence through the config."""

import pytest

from moe_core.settings.config import ConfigError, RunConfig
from moe_core.settings.expert_mix import ExpertSpec, parse_mix


def test_each_kind_is_linear_or_a_width_with_an_optional_depth_and_activation():
    assert parse_mix(" linear, 16,32x2 ,8:tanh,4x3:gelu", depth=1, activation="relu") == [
        ExpertSpec(0, 0, "linear"),
        ExpertSpec(16, 1, "relu"),
        ExpertSpec(32, 2, "relu"),
        ExpertSpec(8, 1, "tanh"),
        ExpertSpec(4, 3, "gelu"),
    ]
    assert parse_mix("16", depth=2, activation="tanh") == [ExpertSpec(16, 2, "tanh")]  # the model's defaults


@pytest.mark.parametrize(
    ("mix", "experts", "message"),
    [
        ("lin", 4, "model.expert_mix has 'lin'; write each expert kind as linear"),
        ("linear,", 4, "model.expert_mix has ''"),
        ("16x9", 4, "widths go from 1 to 4096 and depths from 1 to 4"),
        ("16:swish", 4, "model.expert_mix's activation 'swish' is unknown"),
        ("linear,16,32", 4, "names 3 kinds, cycled over the experts; choose a number of experts that is a multiple"),
    ],
)
def test_a_bad_mix_is_one_sentence(mix, experts, message):
    with pytest.raises(ConfigError) as error:
        RunConfig().replace(**{"model.expert_kind": "mixed", "model.expert_mix": mix, "model.n_experts": experts})
    assert message in str(error.value) and "\n" not in str(error.value)


def test_the_mix_matters_only_for_mixed_experts():
    assert RunConfig().replace(**{"model.expert_mix": "nonsense"}).model.expert_mix == "nonsense"
