"""The table of options: every setting declared once, consistently with the registries that use it."""

import pytest

from moe_core.settings.config import RunConfig
from moe_core.settings.registry import Registry
from moe_core.settings.table import LIVE_KEYS, OPTIONS, applies, describe_options, why_not_applied


def test_every_option_is_typed_labelled_explained_and_its_default_valid():
    for key, option in OPTIONS.items():
        assert option.key == key and option.kind in (int, float, str), key
        assert option.label and option.help.endswith((".", ")")), key
        if option.default is None:
            assert option.nullable and option.null_means, key
    assert RunConfig().flat() == {key: option.default for key, option in OPTIONS.items()}


def test_choices_come_from_registries_and_defaults_are_among_them():
    for key, option in OPTIONS.items():
        if option.choices is not None:
            assert isinstance(option.choices, Registry), key
            # an option may share another's registry (the router's optimiser chooses among the optimisers)
            assert option.choices.key == key or option.choices.key in OPTIONS, key
            assert option.default in option.choices or (option.nullable and option.default is None), key


def test_slider_values_lie_inside_the_valid_range():
    for key, option in OPTIONS.items():
        values = [*(option.steps or ()), option.ui_low, option.ui_high]
        for value in (v for v in values if v is not None):
            assert option.low is None or value >= option.low, key
            assert option.high is None or value <= option.high, key
        if option.steps is not None:
            start = option.toggle_value if option.default is None else option.default
            assert start in option.steps, key


def test_what_a_registry_entry_uses_depends_on_that_registry():
    """A router that says it uses model.top_k must be what model.top_k depends on, and back: an option
    that depends on a registry is used by at least one of its entries."""
    for key, option in OPTIONS.items():
        if isinstance(option.choices, Registry):
            for entry in option.choices.entries():
                for used in entry.uses:
                    assert used in OPTIONS and OPTIONS[used].depends_on == key, (entry.name, used)
        if option.depends_on is not None:
            registry = OPTIONS[option.depends_on].choices
            assert any(key in entry.uses for entry in registry.entries()), key


@pytest.mark.parametrize(
    ("key", "changes", "expected"),
    [
        ("model.normalize", {}, True),
        ("model.normalize", {"model.router": "switch"}, False),
        ("model.top_k", {"model.router": "dense"}, False),
        ("model.capacity_factor", {"model.router": "dense"}, False),
        ("model.gate_noise", {"model.router": "hash"}, False),
        ("model.aux_loss_coef", {"model.balance": "bias"}, False),
        ("model.bias_update_rate", {"model.balance": "bias"}, True),
        ("data.noise", {"data.name": "digits", "data.dim": 64}, False),
        ("data.n_clusters", {"data.name": "moons"}, False),
        ("data.dim", {"data.name": "moons"}, True),
        ("data.centres", {}, False),
        ("data.centres", {"data.name": "drawn"}, True),
        ("data.n_train", {"data.name": "drawn"}, True),
        ("train.lr", {}, True),
    ],
)
def test_applies_follows_the_chosen_entry(key, changes, expected):
    assert applies(key, RunConfig().replace(**changes).flat()) == expected


def test_live_options_are_the_ones_a_running_model_can_take():
    assert {
        "model.balance",
        "model.aux_loss_coef",
        "model.z_loss_coef",
        "model.bias_update_rate",
        "model.gate_noise",
        "model.top_p",
        "model.entropy_loss_coef",
        "model.expert_decay",
        "model.diversity_coef",
        "model.diversity_kind",
        "train.noise_schedule",
        "train.balance_schedule",
        "train.anneal_steps",
        "train.anneal_to",
        "train.split_above",
        "train.remove_below",
        "train.grow_every",
        "train.max_experts",
        "train.lr",
        "train.weight_decay",
        "train.batch_size",
        "train.steps",
        "data.centres",
    } == LIVE_KEYS


def test_the_listing_has_one_line_per_option_with_its_range():
    lines = describe_options()
    assert len(lines) == len(OPTIONS)
    assert any(line.startswith("model.n_experts") and "[1 to 256]" in line for line in lines)
    assert any(line.startswith("model.router") and "expert_choice" in line for line in lines)
    assert any(line.startswith("model.capacity_factor") and "null (no limit" in line for line in lines)


@pytest.mark.parametrize(
    ("router", "used"),
    [  # written out by hand from the papers, not read from the registry
        ("topk", {"model.top_k", "model.normalize", "model.capacity_factor", "model.gate_noise", "model.noise_kind"}),
        ("noisy_topk", {"model.top_k", "model.normalize", "model.capacity_factor", "model.gate_noise"}),
        ("switch", {"model.capacity_factor", "model.gate_noise", "model.noise_kind"}),
        ("expert_choice", {"model.top_k", "model.capacity_factor", "model.gate_noise", "model.noise_kind"}),
        ("dense", {"model.gate_noise", "model.noise_kind"}),
        ("hash", {"model.top_k", "model.capacity_factor"}),
    ],
)
def test_each_router_uses_the_options_its_rule_reads(router, used):
    values = RunConfig().replace(**{"model.router": router, "model.gate_noise": 1.0}).flat()
    depends = [key for key, option in OPTIONS.items() if option.depends_on == "model.router"]
    assert {key for key in depends if applies(key, values)} == used


@pytest.mark.parametrize(
    ("key", "changes", "expected"),
    [
        ("data.n_train", {"data.name": "csv", "data.csv_path": "iris.csv"}, "set by the file's rows"),
        ("data.n_test", {"data.name": "csv", "data.csv_path": "iris.csv"}, "set by the file's rows"),
        ("data.noise", {"data.name": "csv", "data.csv_path": "iris.csv"}, "not used by the dataset 'csv'"),
        ("data.centres", {"data.name": "moons"}, "not used by the dataset 'moons'"),
        ("model.top_k", {"model.router": "dense"}, "not used by the router 'dense'"),
        ("data.n_train", {}, None),
    ],
)
def test_why_an_option_does_not_apply_is_the_entrys_own_reason_or_not_used(key, changes, expected):
    assert why_not_applied(key, RunConfig().replace(**changes).flat()) == expected
