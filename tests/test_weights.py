"""Weights as safetensors: a trained model saved and loaded gives the same outputs; a file that does not
fit the run (shapes, keys, dtypes, not safetensors at all) is refused with one sentence and changes nothing."""

import pickle

import pytest
import safetensors.torch
import torch

from moe_core.errors import ConfigError
from moe_core.measure.probe import evaluating
from moe_core.models import weights
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer

SMALL = {"data.n_train": 300, "data.n_test": 100}


def trained(changes: dict | None = None, steps: int = 20) -> Trainer:
    trainer = Trainer(RunConfig().replace(**SMALL, **(changes or {})))
    trainer.step(steps)
    return trainer


def outputs(trainer: Trainer) -> torch.Tensor:
    with evaluating(trainer.model):
        return trainer.model(trainer.data.x_test).output_NO


def one_sentence(text: str) -> bool:
    return text.endswith(".") and text.count(". ") == 0 and "\n" not in text and "Traceback" not in text


@pytest.mark.parametrize(
    "changes",
    [{}, {"model.router": "switch", "model.shared_experts": 1, "model.expert_layers": 2}, {"model.arch": "dense"}],
)
def test_a_trained_model_saved_and_loaded_gives_identical_outputs(changes, tmp_path):
    source = trained(changes)
    path = tmp_path / "run.safetensors"
    weights.save(source.model, source.cfg, path, step=source.step_count)
    fresh = Trainer(source.cfg.replace(**{"train.seed": 5}))  # other initial weights: outputs differ before loading
    assert not torch.equal(outputs(fresh), outputs(source))
    weights.load_into(fresh.model, path.read_bytes(), fresh.cfg)
    assert torch.equal(outputs(fresh), outputs(source))
    for key, value in source.model.state_dict().items():
        assert torch.equal(fresh.model.state_dict()[key], value), key


def test_the_configuration_and_step_are_read_back_from_the_metadata():
    source = trained({"model.n_experts": 6, "model.balance": "none"})
    raw = weights.to_bytes(source.model, source.cfg, step=20)
    assert weights.saved_config(raw) == source.cfg
    _, metadata = weights.read(raw)
    assert metadata[weights.STEP_KEY] == "20"
    bare = safetensors.torch.save({k: v.contiguous() for k, v in source.model.state_dict().items()})
    assert weights.saved_config(bare) is None  # a file without our metadata still loads, with no config to read


def test_a_file_with_another_expert_count_is_refused_with_a_sentence_and_changes_nothing():
    eight = trained({"model.n_experts": 8})
    four = Trainer(RunConfig().replace(**SMALL))
    before = {k: v.clone() for k, v in four.model.state_dict().items()}
    with pytest.raises(ConfigError) as err:
        weights.load_into(four.model, weights.to_bytes(eight.model, eight.cfg), four.cfg)
    said = str(err.value)
    assert said.startswith("The weights file has 8 experts' weights (experts.") and "but this run has 4 experts" in said
    assert said.endswith("set model.n_experts to 8 or load another file.") and one_sentence(said)
    assert all(torch.equal(four.model.state_dict()[k], v) for k, v in before.items())


def test_patch_experts_name_their_count_too():
    cfg = RunConfig().replace(**SMALL, **{"data.name": "cluster_signals", "data.dim": 64, "model.expert_kind": "patch"})
    four, eight = Trainer(cfg), Trainer(cfg.replace(**{"model.n_experts": 8}))
    with pytest.raises(ConfigError, match=r"^The weights file has 4 experts' weights \(experts\.w_ELH \[4, "):
        weights.load_into(eight.model, weights.to_bytes(four.model, four.cfg), eight.cfg)


def test_a_file_with_another_hidden_width_names_the_setting_it_was_saved_with():
    wide = trained({"model.expert_hidden": 32}, steps=1)
    run = Trainer(RunConfig().replace(**SMALL))
    with pytest.raises(ConfigError) as err:
        weights.load_into(run.model, weights.to_bytes(wide.model, wide.cfg), run.cfg)
    said = str(err.value)
    assert said.startswith("The weights file's experts.w_in_EDH is [4, 2, 32] but this run's is [4, 2, 16]")
    assert "model.expert_hidden 32 (this run: 16)" in said and one_sentence(said)


def test_a_file_of_another_kind_of_model_is_refused_by_its_keys():
    dense = trained({"model.arch": "dense"}, steps=1)
    moe = Trainer(RunConfig().replace(**SMALL))
    with pytest.raises(ConfigError) as err:
        weights.load_into(moe.model, weights.to_bytes(dense.model, dense.cfg), moe.cfg)
    said = str(err.value)
    assert said.startswith("The weights file lacks router.bias_E (and 8 more), which this run's model has")
    assert 'model.arch "dense" (this run: "moe")' in said and one_sentence(said)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "header too small"),
        (b"not weights at all, just text", "header too large"),
        (pickle.dumps({"experts.w_in_EDH": [1, 2]}), "not a safetensors file"),
        (b"PK\x03\x04" + bytes(200), "invalid header length"),
    ],
)
def test_garbage_is_refused_with_a_sentence_and_never_unpickled(raw, why):
    run = Trainer(RunConfig().replace(**SMALL))
    with pytest.raises(ConfigError) as err:
        weights.load_into(run.model, raw, run.cfg)
    said = str(err.value)
    assert said.startswith("The file is not a safetensors file of weights (") and why in said
    assert said.endswith("choose a .safetensors file saved by MoE Explorer.")


def test_integer_or_non_finite_tensors_are_refused():
    run = Trainer(RunConfig().replace(**SMALL))
    state = {k: v.contiguous() for k, v in run.model.state_dict().items()}
    as_ints = safetensors.torch.save({**state, "router.gate.weight": state["router.gate.weight"].long()})
    with pytest.raises(
        ConfigError, match=r"router\.gate\.weight holds int64 values where this run's model has float32"
    ):
        weights.load_into(run.model, as_ints, run.cfg)
    nan = state["router.gate.weight"].clone()
    nan[0, 0] = float("nan")
    with pytest.raises(ConfigError, match="holds NaN or infinite values"):
        weights.load_into(run.model, safetensors.torch.save({**state, "router.gate.weight": nan}), run.cfg)
