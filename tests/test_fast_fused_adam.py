import pytest
import torch

from moe_core.layer.build import Build
from moe_core.layer.fast import FAST, fused_adam
from moe_core.layer.moe import MoE
from moe_core.settings.table import ModelConfig
from moe_core.training.optimizers import make_optimizer


def twin_models(seed: int = 0) -> tuple[MoE, MoE]:
    cfg = ModelConfig(n_experts=4, top_k=2, expert_hidden=8)
    torch.manual_seed(seed)
    a = MoE(cfg, Build(2, 3, classification=True))
    b = MoE(cfg, Build(2, 3, classification=True))
    b.load_state_dict(a.state_dict())
    return a, b


def loss_of(model: MoE, step: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(step)
    x = torch.randn(64, 2, generator=g)
    y = torch.randint(0, 3, (64,), generator=g)
    return torch.nn.functional.cross_entropy(model(x).output_NO, y)


@pytest.mark.parametrize("name, weight_decay", [("adam", 0.0), ("adam", 0.01), ("adamw", 0.01), ("sgd", 0.01)])
def test_lean_step_updates_exactly_as_optimizer_step(name, weight_decay):
    torch_model, lean_model = twin_models()
    reference = make_optimizer(name, torch_model.parameters(), 1e-2, weight_decay)
    lean = make_optimizer(name, lean_model.parameters(), 1e-2, weight_decay)
    full_steps = []  # calls that went through optimizer.step() rather than the lean path
    torch_step = lean.step
    lean.step = lambda: full_steps.append(1) or torch_step()
    for step in range(6):
        if step == 3:  # a live learning-rate change reaches both
            for opt in (reference, lean):
                opt.param_groups[0]["lr"] = 3e-3
        reference.zero_grad(set_to_none=True)
        loss_of(torch_model, step).backward()
        reference.step()
        fused_adam.clear_grads(lean)
        loss_of(lean_model, step).backward()
        fused_adam.step(lean)
    for (key, expected), actual in zip(torch_model.state_dict().items(), lean_model.state_dict().values(), strict=True):
        torch.testing.assert_close(actual, expected, rtol=0, atol=0, msg=key)
    expected_state = reference.state_dict()["state"]
    for index, state in lean.state_dict()["state"].items():
        for key, value in state.items():
            torch.testing.assert_close(value, expected_state[index][key], rtol=0, atol=0)
    # Adam and AdamW take optimizer.step() only for the first step, which creates their state.
    assert len(full_steps) == (6 if name == "sgd" else 1)
    assert any(p.grad is not None for p in lean_model.parameters())
    fused_adam.clear_grads(lean)
    assert all(p.grad is None for p in lean_model.parameters())


def test_a_parameter_without_gradient_is_left_alone():
    _, model = twin_models()
    opt = make_optimizer("adam", model.parameters(), 1e-2)
    for step in range(3):
        fused_adam.clear_grads(opt)
        loss_of(model, step).backward()
        if step == 2:
            model.router.gate.weight.grad = None
        before = model.router.gate.weight.detach().clone()
        fused_adam.step(opt)
    torch.testing.assert_close(model.router.gate.weight, before, rtol=0, atol=0)
    assert int(opt.state[model.router.gate.weight]["step"]) == 2
    assert int(opt.state[model.router.gate.bias]["step"]) == 3


@pytest.mark.parametrize(
    ("name", "kind"), [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW), ("sgd", torch.optim.SGD)]
)
def test_make_optimizer_builds_the_named_optimiser_fused_on_the_cpu(name, kind):
    _, model = twin_models()
    opt = make_optimizer(name, model.parameters(), 3e-3, weight_decay=1e-4)
    assert type(opt) is kind
    group = opt.param_groups[0]
    # Fused: one kernel call a step for all parameters, which the lean step relies on for Adam.
    assert group["fused"] is True and group["lr"] == 3e-3 and group["weight_decay"] == 1e-4
    assert len(group["params"]) == len(list(model.parameters()))


def test_the_fast_kernels_step_lean():
    assert FAST.optimizer_step is fused_adam.step and FAST.zero_grad is fused_adam.clear_grads
