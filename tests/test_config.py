import json
import re

import pytest

from moe_core.datasets import DATASETS
from moe_core.layer.routers import ROUTERS
from moe_core.settings.config import ConfigError, RunConfig, as_overrides, parse_assignment, split_key
from moe_core.settings.table import OPTIONS


def one_sentence(message: str) -> bool:
    """A message the UI and CLI show as is: one line, one sentence, ending in "." (or "?)." after a hint)."""
    return "\n" not in message and message.endswith(".") and re.search(r"[.?!] [A-Z]", message) is None


def error_of(action) -> str:
    with pytest.raises(ConfigError) as err:
        action()
    message = str(err.value)
    assert one_sentence(message), message
    return message


def test_defaults_round_trip_through_json():
    cfg = RunConfig()
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert json.loads(cfg.to_json())["model"]["n_experts"] == 4


def test_a_changed_config_round_trips_too():
    cfg = RunConfig().replace(**{"model.top_k": 2, "model.capacity_factor": 1.25, "train.threads": 2})
    again = RunConfig.from_dict(json.loads(cfg.to_json()))
    assert again == cfg and again.model.capacity_factor == 1.25


def test_the_defaults_are_the_table_of_options():
    # The dataclasses and the table are one declaration: every key, in order, with its default.
    flat = RunConfig().flat()
    assert list(flat) == list(OPTIONS)
    assert flat == {key: option.default for key, option in OPTIONS.items()}


def test_flat_from_flat_and_get_address_options_by_key():
    cfg = RunConfig().replace(**{"model.top_k": 2, "data.name": "xor", "train.threads": None})
    flat = cfg.flat()
    assert flat["model.top_k"] == 2 and flat["data.name"] == "xor" and flat["train.threads"] is None
    assert RunConfig.from_flat(flat) == cfg
    assert all(cfg.get(key) == value for key, value in flat.items())
    assert cfg.get("model.top_k") == cfg.model.top_k == 2
    # Missing keys take their defaults; values are checked as from a file.
    partial = RunConfig.from_flat({"model.n_experts": 8, "train.lr": 1})
    assert partial == RunConfig().replace(**{"model.n_experts": 8, "train.lr": 1.0})
    assert isinstance(partial.train.lr, float)
    assert RunConfig.from_flat({}) == RunConfig()
    message = error_of(lambda: RunConfig.from_flat({"model.top_k": 9}))
    assert message == "model.top_k (9) must be at most model.n_experts (4)."
    message = error_of(lambda: cfg.get("model.topk"))
    assert message == "Unknown configuration key 'model.topk' (did you mean model.top_k?)."


def test_overrides_parse_json_values_and_fall_back_to_strings():
    cfg = RunConfig().with_overrides(
        ["model.top_k=2", "train.lr=0.003", "model.capacity_factor=null", "model.router=switch", "model.top_k=1"]
    )
    assert (cfg.model.top_k, cfg.train.lr, cfg.model.capacity_factor, cfg.model.router) == (1, 0.003, None, "switch")
    assert parse_assignment("data.name=xor") == ("data.name", "xor")


def test_drawn_centres_travel_as_one_text_through_set_and_json():
    # `--set data.centres=...` is with_overrides; the text is no JSON, so it stays a string as typed.
    cfg = RunConfig().with_overrides(["data.name=drawn", "data.centres=-1.5,0.5,0;1,1,1"])
    assert cfg.data.centres == "-1.5,0.5,0;1,1,1"
    assert json.loads(cfg.to_json())["data"]["centres"] == "-1.5,0.5,0;1,1,1"
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert as_overrides(cfg) == ['data.name="drawn"', 'data.centres="-1.5,0.5,0;1,1,1"']


def test_ints_are_accepted_where_floats_are_expected():
    assert RunConfig.from_dict({"train": {"lr": 1}}).train.lr == 1.0


def test_missing_sections_take_the_defaults():
    assert RunConfig.from_dict({}) == RunConfig()


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"modle": {}}, "Unknown configuration section 'modle' (did you mean model?); use data, model or train."),
        ({"model": {"n_expert": 3}}, "Unknown configuration key 'model.n_expert' (did you mean model.n_experts?)."),
        ({"model": {"top_k": "two"}}, 'model.top_k must be a whole number, got "two".'),
        ({"model": {"top_k": 1.5}}, "model.top_k must be a whole number, got 1.5."),
        ({"model": {"top_k": True}}, "model.top_k must be a whole number, got true."),
        ({"model": {"n_experts": None}}, "model.n_experts must not be null."),
        ({"model": 3}, "The 'model' part of the configuration must be a JSON object."),
        ({"train": {"lr": "fast"}}, 'train.lr must be a number, got "fast".'),
        ({"train": {"lr": float("inf")}}, "train.lr must be a finite number, got inf."),
        ({"data": {"name": 7}}, "data.name must be a string, got 7."),
        ([1, 2], "The configuration must be a JSON object with data, model and train parts."),
    ],
)
def test_wrong_keys_and_types_are_named(doc, expected):
    assert error_of(lambda: RunConfig.from_dict(doc)) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"model.top_k": 5}, "model.top_k (5) must be at most model.n_experts (4)."),
        ({"model.top_k": 0}, "model.top_k (0) must be at least 1."),
        ({"model.n_experts": 0, "model.top_k": 1}, "model.n_experts (0) must be between 1 and 256."),
        ({"model.n_experts": 300}, "model.n_experts (300) must be between 1 and 256."),
        ({"train.lr": 0.0}, "train.lr (0.0) must be greater than 0."),
        ({"train.lr": -1.0}, "train.lr (-1.0) must be greater than 0."),
        ({"model.capacity_factor": 0.0}, "model.capacity_factor (0.0) must be greater than 0, or null."),
        ({"model.capacity_factor": -2.0}, "model.capacity_factor (-2.0) must be greater than 0, or null."),
        (
            {"data.name": "imagenet"},
            "data.name 'imagenet' is unknown; choose one of clusters, clusters_regression, circle, xor, gauss, "
            "spiral, moons, checkerboard, cluster_signals, cluster_single_index, digits, drawn, csv.",
        ),
        (
            {"model.router": "base"},
            f"model.router 'base' is unknown; choose one of {', '.join(ROUTERS)}.",  # a new rule joins the list
        ),
        ({"model.normalize": "l1"}, "model.normalize 'l1' is unknown; choose one of softmax, softmax_topk, sigmoid."),
        (
            {"model.balance": "loss"},
            "model.balance 'loss' is unknown (did you mean aux_loss?); choose one of none, aux_loss, importance, bias.",
        ),
        (
            {"model.expert_activation": "swish"},
            "model.expert_activation 'swish' is unknown; choose one of relu, gelu, tanh, cubic, linear.",
        ),
        ({"model.arch": "cnn"}, "model.arch 'cnn' is unknown; choose one of moe, dense."),
        ({"model.objective": "ce"}, "model.objective 'ce' is unknown; choose one of blend, mixture."),
        ({"train.optimizer": "lbfgs"}, "train.optimizer 'lbfgs' is unknown; choose one of adam, adamw, sgd, ngd."),
        (
            {"train.device": "tpu"},
            "train.device 'tpu' is unknown (did you mean cpu?); choose one of auto, cpu, cuda, mps.",
        ),
        (
            {"model.router": "switch", "model.top_k": 2},
            "model.top_k (2) must be 1 for router 'switch'; use router 'topk' with a capacity_factor for k > 1.",
        ),
        (
            {"model.router": "noisy_topk"},
            "model.gate_noise must be greater than 0 for router 'noisy_topk'; "
            "its gates start at zero and need the noise.",
        ),
        ({"model.gate_noise": -0.1}, "model.gate_noise (-0.1) must be 0 or more."),
        ({"model.expert_hidden": 0}, "model.expert_hidden (0) must be between 1 and 4096."),
        ({"model.expert_layers": 5}, "model.expert_layers (5) must be between 1 and 4."),
        ({"model.gate_hidden": -1}, "model.gate_hidden (-1) must be between 0 and 1024."),
        ({"model.aux_loss_coef": -0.1}, "model.aux_loss_coef (-0.1) must be 0 or more."),
        ({"model.z_loss_coef": -1.0}, "model.z_loss_coef (-1.0) must be 0 or more."),
        ({"model.bias_update_rate": -1.0}, "model.bias_update_rate (-1.0) must be 0 or more."),
        ({"model.shared_experts": 17}, "model.shared_experts (17) must be between 0 and 16."),
        ({"data.n_train": 0}, "data.n_train (0) must be between 1 and 200000."),
        ({"data.n_test": 0}, "data.n_test (0) must be between 1 and 200000."),
        ({"data.noise": -0.5}, "data.noise (-0.5) must be 0 or more."),
        ({"data.n_clusters": 0}, "data.n_clusters (0) must be between 1 and 64."),
        ({"data.dim": 1}, "data.dim (1) must be between 2 and 1024."),
        ({"data.separation": 0.0}, "data.separation (0.0) must be greater than 0."),
        ({"data.seed": -1}, "data.seed (-1) must be between 0 and 2147483647."),
        ({"data.name": "csv"}, "data.csv_path must name a CSV file when data.name is 'csv'."),
        ({"data.centres": " ; "}, "data.centres needs at least one centre written x,y,class, e.g. '-1.5,0.5,0;1,1,1'."),
        (
            {"data.centres": "1,1,0;2,x,1"},
            "data.centres: centre 2 ('2,x,1') must be three numbers x,y,class separated by commas, "
            "e.g. '-1.5,0.5,0;1,1,1'.",
        ),
        ({"data.centres": "1,1,2"}, "data.centres: centre 1 ('1,1,2') must have class 0 or 1, got 2."),
        ({"data.centres": "0,4,1"}, "data.centres: centre 1 ('0,4,1') must have x and y between -3 and 3."),
        ({"data.centres": ";".join(["0,0,0"] * 17)}, "data.centres holds 17 centres; use at most 16."),
        ({"train.steps": -1}, "train.steps (-1) must be between 0 and 10000000."),
        ({"train.batch_size": 0}, "train.batch_size (0) must be between 1 and 65536."),
        ({"train.weight_decay": -1.0}, "train.weight_decay (-1.0) must be 0 or more."),
        ({"train.seed": -3}, "train.seed (-3) must be between 0 and 2147483647."),
        ({"train.threads": 0}, "train.threads (0) must be between 1 and 256, or null."),
        ({"train.threads": 300}, "train.threads (300) must be between 1 and 256, or null."),
    ],
)
def test_impossible_values_get_one_sentence_naming_the_key(changes, expected):
    assert error_of(lambda: RunConfig().replace(**changes)) == expected


def out_of_range(option):
    """A value just outside an option's range, read from the table: what validation must refuse."""
    if option.choices is not None:
        return "no_such_choice"
    if option.low is not None:
        return option.low if option.above else option.low - (1 if option.kind is int else 0.5)
    return None


BOUNDED = [key for key, option in OPTIONS.items() if out_of_range(option) is not None]


@pytest.mark.parametrize("key", BOUNDED)
def test_validation_reads_every_bound_and_choice_from_the_table(key):
    # Every option the table bounds (or gives choices) is checked, with a sentence that names the key.
    option = OPTIONS[key]
    value = out_of_range(option)
    changes = {key: value}
    if key == "model.n_experts":
        changes["model.top_k"] = 1  # keep top_k <= n_experts out of the way
    message = error_of(lambda: RunConfig().replace(**changes))
    assert message.startswith(f"{key} ")
    if option.high is not None and option.kind is int:
        assert error_of(lambda: RunConfig().replace(**{key: int(option.high) + 1})).startswith(f"{key} ")
        RunConfig().replace(**{key: int(option.high)})  # the bounds themselves are allowed


def test_the_table_bounds_what_it_should():
    # Guards the sweep above: the options a run cannot do without are bounded or have choices.
    assert {"model.n_experts", "model.top_k", "model.router", "data.name", "train.lr", "train.threads"} <= set(BOUNDED)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("model.n_expert", "Unknown configuration key 'model.n_expert' (did you mean model.n_experts?)."),
        # A key without its section, and a key in the wrong section, find the full key.
        ("top_k", "Unknown configuration key 'top_k' (did you mean model.top_k?)."),
        ("n_experts", "Unknown configuration key 'n_experts' (did you mean model.n_experts?)."),
        # Too short to look like its full key ("lr" vs "train.lr"): matched by the name after the dot.
        ("lr", "Unknown configuration key 'lr' (did you mean train.lr?)."),
        ("dim", "Unknown configuration key 'dim' (did you mean data.dim?)."),
        ("data.n_experts", "Unknown configuration key 'data.n_experts' (did you mean model.n_experts?)."),
        ("modl.top_k", "Unknown configuration key 'modl.top_k' (did you mean model.top_k?)."),
        ("zzz", "Unknown configuration key 'zzz'; python -m moe_core options lists the keys."),
    ],
)
def test_a_misspelt_key_gets_the_closest_known_one(key, expected):
    assert error_of(lambda: RunConfig().replace(**{key: 1})) == expected
    assert error_of(lambda: split_key(key)) == expected
    assert error_of(lambda: RunConfig().with_overrides([f"{key}=1"])) == expected


@pytest.mark.parametrize(
    ("changes", "hint"),
    [
        ({"model.router": "topkk"}, "model.router 'topkk' is unknown (did you mean topk?); choose one of topk,"),
        ({"model.router": "swich"}, "model.router 'swich' is unknown (did you mean switch?); choose one of topk,"),
        ({"model.router": "expert-choice"}, "(did you mean expert_choice?); choose one of"),
        ({"data.name": "moon"}, "data.name 'moon' is unknown (did you mean moons?); choose one of clusters,"),
        ({"model.expert_activation": "Relu"}, "(did you mean relu?); choose one of relu,"),
    ],
)
def test_a_misspelt_name_gets_the_closest_registered_one(changes, hint):
    message = error_of(lambda: RunConfig().replace(**changes))
    assert hint in message


def test_the_hint_comes_before_the_list_and_only_when_a_name_is_close():
    message = error_of(lambda: RunConfig().replace(**{"model.router": "topkk"}))
    assert message.index("(did you mean") < message.index(";") < message.index("choose one of")
    assert "did you mean" not in error_of(lambda: RunConfig().replace(**{"model.router": "gshard"}))


def test_every_registered_dataset_name_is_accepted():
    for name in DATASETS:
        changes = {"data.name": name, "data.csv_path": "iris.csv"} if name == "csv" else {"data.name": name}
        assert RunConfig().replace(**changes).data.name == name


@pytest.mark.parametrize("text", ["model.top_k", "top_k=2", "model.nope=1", "model.=1"])
def test_malformed_overrides_are_rejected(text):
    error_of(lambda: RunConfig().with_overrides([text]))


def test_invalid_json_names_the_line():
    message = error_of(lambda: RunConfig.from_json('{"model": {"top_k": }'))
    assert message.startswith("The configuration is not valid JSON (") and "at line 1)." in message
    assert "must be a JSON object" in error_of(lambda: RunConfig.from_json("[1, 2]"))
