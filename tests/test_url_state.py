"""The page's address: every option and the view survive a round trip, and a tampered link keeps the
defaults for what it got wrong, with one sentence."""

import pytest

from moe_core.layer.routers import ROUTERS
from moe_core.settings.config import ConfigError, RunConfig
from moe_core.settings.table import OPTIONS
from moe_explorer_app.state import url_state

VIEW = {"view.map": "entropy", "view.present": "1", "view.speed": "10"}


def alternative(key: str):
    """A valid value other than the default for one option, with whatever else it needs."""
    option = OPTIONS[key]
    if option.choices is not None:
        for name in option.choices:
            if name == option.default or name == "cuda" or name == "mps":
                continue
            extra = ROUTERS[name].suggested if key == "model.router" else {}
            extra = {**extra, **({"data.csv_path": "iris.csv", "data.target": "species"} if name == "csv" else {})}
            try:
                RunConfig().replace(**{key: name, **extra})
            except ConfigError:
                continue
            return name, extra
    if option.nullable:
        if option.default is not None:
            return None, {}
        return (option.toggle_value or ("iris.csv" if option.kind is str else 2)), {}
    if option.steps:
        return next(v for v in option.steps if v != option.default), {}
    if key == "data.centres":  # a text of its own format: semicolons and commas travel in the address
        return "0,0,1;1.5,-2.25,0", {}
    if option.kind is str:
        return "species", {}
    high = option.ui_high if option.ui_high is not None else option.high
    value = option.default + (1 if option.kind is int else 0.5)
    return (value if high is None or value <= high else option.default - 1), {}


@pytest.mark.parametrize("key", list(OPTIONS))
def test_every_option_survives_the_round_trip_through_the_address(key):
    value, extra = alternative(key)
    cfg = RunConfig().replace(**{key: value, **extra})
    assert cfg.get(key) != OPTIONS[key].default
    values, view, problems = url_state.decode(url_state.encode(cfg.flat(), VIEW))
    assert problems == [] and view == VIEW
    assert RunConfig.from_flat(values) == cfg


def test_every_value_travels_as_text():
    params = url_state.encode(RunConfig().flat(), VIEW)
    assert all(isinstance(v, str) for v in params.values()) and set(params) == {*OPTIONS, *VIEW}
    assert params["model.capacity_factor"] == "null" and params["model.top_k"] == "1"


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"model.top_k": "two"}, "model.top_k 'two'"),
        ({"model.top_k": "1.5"}, "model.top_k '1.5'"),
        ({"model.router": "swich"}, "model.router 'swich'"),
        ({"model.n_experts": "9999"}, "model.n_experts '9999'"),
        ({"train.lr": "-1"}, "train.lr '-1'"),
        ({"model.expert_hidden": "null"}, "model.expert_hidden 'null'"),
        ({"view.map": "sideways"}, "view.map 'sideways'"),
        ({"view.speed": "7"}, "view.speed '7'"),
        ({"hack": "1"}, "'hack'"),
        ({"model.top_k": "8"}, "the combination (model.top_k (8) must be at most model.n_experts (4).)"),
    ],
)
def test_a_tampered_link_keeps_the_defaults_for_what_it_got_wrong(params, named):
    values, _, problems = url_state.decode({"model.n_experts": "4", **params})
    assert problems == [named]
    cfg = RunConfig.from_flat(values)
    assert cfg.model.top_k == 1 and cfg.model.router == "topk" and cfg.train.lr == 0.01
    sentence = url_state.notice(problems)
    assert sentence.startswith("The link's ") and sentence.endswith("keep their defaults.") and named in sentence


def test_good_values_in_a_partly_bad_link_are_kept():
    values, _, problems = url_state.decode({"model.n_experts": "8", "model.top_k": "oops", "train.lr": "0.003"})
    assert RunConfig.from_flat(values).model.n_experts == 8 and values["train.lr"] == 0.003
    assert problems == ["model.top_k 'oops'"] and url_state.notice([]) is None
