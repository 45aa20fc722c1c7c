import json

import pytest

from moe_core.config import ConfigError, RunConfig, parse_assignment


def test_defaults_round_trip_through_json():
    cfg = RunConfig()
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert json.loads(cfg.to_json())["model"]["n_experts"] == 4


def test_a_changed_config_round_trips_too():
    cfg = RunConfig().replace(**{"model.top_k": 2, "model.capacity_factor": 1.25, "train.threads": 2})
    again = RunConfig.from_dict(json.loads(cfg.to_json()))
    assert again == cfg and again.model.capacity_factor == 1.25


def test_overrides_parse_json_values_and_fall_back_to_strings():
    cfg = RunConfig().with_overrides(
        ["model.top_k=2", "train.lr=0.003", "model.capacity_factor=null", "model.router=switch", "model.top_k=1"]
    )
    assert (cfg.model.top_k, cfg.train.lr, cfg.model.capacity_factor, cfg.model.router) == (1, 0.003, None, "switch")
    assert parse_assignment("data.name=xor") == ("data.name", "xor")


def test_ints_are_accepted_where_floats_are_expected():
    assert RunConfig.from_dict({"train": {"lr": 1}}).train.lr == 1.0


def test_missing_sections_take_the_defaults():
    assert RunConfig.from_dict({}) == RunConfig()


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"modle": {}}, "Unknown configuration section 'modle'"),
        ({"model": {"n_expert": 3}}, "Unknown configuration key 'model.n_expert'"),
        ({"model": {"top_k": "two"}}, 'model.top_k must be a whole number, got "two"'),
        ({"model": {"top_k": 1.5}}, "model.top_k must be a whole number, got 1.5"),
        ({"model": {"top_k": True}}, "model.top_k must be a whole number, got true"),
        ({"model": {"n_experts": None}}, "model.n_experts must not be null"),
        ({"model": 3}, "The 'model' part of the configuration must be a JSON object"),
        ({"train": {"lr": "fast"}}, 'train.lr must be a number, got "fast"'),
        ({"data": {"name": 7}}, "data.name must be a string, got 7"),
    ],
)
def test_wrong_keys_and_types_are_named(doc, expected):
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        RunConfig.from_dict(doc)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"model.top_k": 5}, "model.top_k (5) must be at most model.n_experts (4)"),
        ({"model.top_k": 0}, "model.top_k (0) must be at least 1"),
        ({"model.n_experts": 0, "model.top_k": 1}, "model.n_experts (0) must be between 1 and 256"),
        ({"model.n_experts": 300}, "model.n_experts (300) must be between 1 and 256"),
        ({"train.lr": 0.0}, "train.lr (0.0) must be greater than 0"),
        ({"train.lr": -1.0}, "train.lr (-1.0) must be greater than 0"),
        ({"model.capacity_factor": 0.0}, "model.capacity_factor (0.0) must be greater than 0"),
        ({"model.capacity_factor": -2.0}, "model.capacity_factor (-2.0) must be greater than 0"),
        ({"data.name": "mnist"}, "data.name 'mnist' is unknown; choose one of clusters"),
        ({"model.router": "soft"}, "model.router 'soft' is unknown; choose one of topk"),
        ({"model.normalize": "l1"}, "model.normalize 'l1' is unknown"),
        ({"model.balance": "loss"}, "model.balance 'loss' is unknown"),
        ({"model.expert_activation": "swish"}, "model.expert_activation 'swish' is unknown"),
        ({"model.arch": "cnn"}, "model.arch 'cnn' is unknown"),
        ({"model.objective": "ce"}, "model.objective 'ce' is unknown"),
        ({"train.optimizer": "lbfgs"}, "train.optimizer 'lbfgs' is unknown"),
        ({"train.device": "tpu"}, "train.device 'tpu' is unknown"),
        ({"model.router": "switch", "model.top_k": 2}, "must be 1 for router 'switch'"),
        ({"model.router": "noisy_topk"}, "model.gate_noise must be greater than 0 for router 'noisy_topk'"),
        ({"model.gate_noise": -0.1}, "model.gate_noise (-0.1) must be 0 or more"),
        ({"model.expert_hidden": 0}, "model.expert_hidden (0) must be between 1 and 4096"),
        ({"model.expert_layers": 5}, "model.expert_layers (5) must be between 1 and 4"),
        ({"model.gate_hidden": -1}, "model.gate_hidden (-1) must be between 0 and 1024"),
        ({"model.aux_loss_coef": -0.1}, "model.aux_loss_coef (-0.1) must be 0 or more"),
        ({"model.z_loss_coef": -1.0}, "model.z_loss_coef (-1.0) must be 0 or more"),
        ({"model.bias_update_rate": -1.0}, "model.bias_update_rate (-1.0) must be 0 or more"),
        ({"model.shared_experts": 17}, "model.shared_experts (17) must be between 0 and 16"),
        ({"data.n_train": 0}, "data.n_train (0) must be between 1 and 200000"),
        ({"data.n_test": 0}, "data.n_test (0) must be between 1 and 200000"),
        ({"data.noise": -0.5}, "data.noise (-0.5) must be 0 or more"),
        ({"data.n_clusters": 0}, "data.n_clusters (0) must be between 1 and 64"),
        ({"data.dim": 1}, "data.dim (1) must be between 2 and 1024"),
        ({"data.separation": 0.0}, "data.separation (0.0) must be greater than 0"),
        ({"data.seed": -1}, "data.seed (-1) must be 0 or more"),
        ({"data.name": "csv"}, "data.csv_path must name a CSV file"),
        ({"train.steps": -1}, "train.steps (-1) must be 0 or more"),
        ({"train.batch_size": 0}, "train.batch_size (0) must be at least 1"),
        ({"train.weight_decay": -1.0}, "train.weight_decay (-1.0) must be 0 or more"),
        ({"train.seed": -3}, "train.seed (-3) must be 0 or more"),
        ({"train.threads": 0}, "train.threads (0) must be at least 1, or null"),
    ],
)
def test_impossible_values_get_one_sentence_naming_the_key(changes, expected):
    with pytest.raises(ConfigError) as err:
        RunConfig().replace(**changes)
    message = str(err.value)
    assert expected in message
    assert message.endswith(".") and "\n" not in message


@pytest.mark.parametrize("text", ["model.top_k", "top_k=2", "model.nope=1", "model.=1"])
def test_malformed_overrides_are_rejected(text):
    with pytest.raises(ConfigError):
        RunConfig().with_overrides([text])


def test_invalid_json_names_the_line():
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.from_json('{"model": {"top_k": }')
    with pytest.raises(ConfigError, match="must be a JSON object"):
        RunConfig.from_json("[1, 2]")
