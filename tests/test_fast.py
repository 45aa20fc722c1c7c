"""The FAST kernel set against the REFERENCE one, through the whole model and trainer, for every
registered router: the same outputs, the same gradients, the same training."""

import pytest
import torch

from moe_core.layer.build import Build
from moe_core.layer.fast import FAST
from moe_core.layer.fast.combine import combine
from moe_core.layer.fast.softmax import log_softmax_rows, softmax_rows
from moe_core.layer.fast.topk import top_k
from moe_core.layer.moe import MoE
from moe_core.layer.reference import REFERENCE
from moe_core.layer.routers import ROUTERS
from moe_core.models.points import objective_loss
from moe_core.settings.config import RunConfig
from moe_core.settings.table import ModelConfig
from moe_core.training.trainer import Trainer

TOL = dict(rtol=1e-4, atol=1e-5)  # the fast paths sum in another order than the reference


def model_config(name: str, routing: str, **extra) -> ModelConfig:
    """Every rule with options that exercise it: top-2 where it takes k, a capacity that drops for
    "drops", a balance loss that reads the probabilities."""
    spec = ROUTERS[name]
    values = dict(router=name, n_experts=8, expert_hidden=6, top_k=2, balance="aux_loss", gate_noise=0.5, **extra)
    values.update({key.partition(".")[2]: value for key, value in spec.fixed.items()})
    if routing == "drops":
        values["capacity_factor"] = 0.5
    return ModelConfig(**values)


def forward_backward(kernels, cfg: ModelConfig, routing: str):
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 2, (64,), generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    model = MoE(cfg, Build(3, 2, True, x_ref_ND=x, kernels=kernels))
    if routing == "collapsed" and model.router.learned:
        with torch.no_grad():  # every point's logits favour expert 0
            last = model.router.gate[-1] if isinstance(model.router.gate, torch.nn.Sequential) else model.router.gate
            last.bias.copy_(torch.tensor([8.0] + [0.0] * 7))
    model.router.generator = torch.Generator().manual_seed(2)
    out = model(x)
    loss = objective_loss(out, y, True, cfg.objective, "mean", kernels)
    extra = model.router.loss(out.routing).total
    (loss if extra is None else loss + extra).backward()
    grads = {name: p.grad for name, p in model.named_parameters() if p.grad is not None}
    return out.output_NO.detach(), grads


@pytest.mark.parametrize("name", ROUTERS.names())
@pytest.mark.parametrize("routing", ["balanced", "collapsed", "drops"])
@pytest.mark.parametrize("extra", [{}, {"shared_experts": 1, "expert_layers": 2, "normalize": "softmax_topk"}])
def test_every_router_gives_the_same_outputs_and_gradients_with_fast_and_reference_kernels(name, routing, extra):
    cfg = model_config(name, routing, **extra)
    fast_out, fast_grads = forward_backward(FAST, cfg, routing)
    ref_out, ref_grads = forward_backward(REFERENCE, cfg, routing)
    torch.testing.assert_close(fast_out, ref_out, **TOL)
    assert fast_grads.keys() == ref_grads.keys() and fast_grads
    for key in fast_grads:
        torch.testing.assert_close(fast_grads[key], ref_grads[key], **TOL)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"model.router": "noisy_topk", "model.gate_noise": 1.0, "model.top_k": 2, "model.balance": "importance"},
        {"model.router": "expert_choice", "model.objective": "mixture"},
        {"model.normalize": "sigmoid", "model.balance": "bias", "model.n_experts": 16, "model.top_k": 2},
        {
            "data.name": "cluster_signals",
            "data.dim": 32,
            "model.expert_kind": "patch",
            "model.gate": "patch",
            "model.gate_noise": 1.0,
            "model.noise_kind": "uniform",
            "model.top_k": 2,
            "model.shared_experts": 1,
            "train.optimizer": "ngd",
            "train.router_optimizer": "sgd",
            "train.router_lr": 0.1,
        },
        {"data.name": "cluster_signals", "data.dim": 32, "model.expert_kind": "patch", "model.router": "dense"},
        {"model.expert_kind": "mixed", "model.expert_mix": "linear,8:tanh,16x2", "model.n_experts": 6},
        {"model.expert_kind": "mixed", "model.router": "top_p", "model.top_p": 0.8, "model.entropy_loss_coef": 0.01},
        {"model.router": "hierarchical", "model.n_experts": 6, "model.n_groups": 3, "model.top_k": 2},
        {"model.combine": "attention", "model.top_k": 2, "model.capacity_factor": 0.5},
        {"model.combine": "learned", "model.router": "expert_choice", "model.diversity_coef": 0.1},
        {"model.router": "soft", "model.slots_per_expert": 2, "model.shared_experts": 1},
    ],
)
def test_training_with_fast_kernels_follows_training_with_reference_kernels(changes):
    cfg = RunConfig().replace(**{"data.n_train": 300, "data.n_test": 100, **changes})
    losses = []
    for kernels in (FAST, REFERENCE):
        trainer = Trainer(cfg, kernels=kernels)
        losses.append([trainer.step(1).loss for _ in range(15)])
    torch.testing.assert_close(torch.tensor(losses[0]), torch.tensor(losses[1]), rtol=1e-3, atol=1e-4)


def test_top_k_picks_what_torch_topk_picks():
    g = torch.Generator().manual_seed(0)
    for n, n_experts in [(10, 5), (4096, 16), (512, 64), (300, 2)]:
        scores = torch.randn(n, n_experts, generator=g)
        for k in (1, 2, 3):
            if k <= n_experts:
                torch.testing.assert_close(top_k(scores, k), scores.topk(k, dim=1).indices)
        # a transposed view and float64 go through the same selection
        torch.testing.assert_close(top_k(scores.T.contiguous().T, 2), scores.topk(2, dim=1).indices)
        torch.testing.assert_close(top_k(scores.double(), 2), scores.topk(2, dim=1).indices)
    tied = torch.zeros(1000, 4)  # zero-initialised gates: every score ties, and the lower id wins
    torch.testing.assert_close(top_k(tied, 2), torch.tensor([[0, 1]]).expand(1000, 2))


@pytest.mark.parametrize("shape", [(8, 3), (4096, 4), (2000, 16), (10, 1)])
def test_row_softmax_is_torch_softmax(shape):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0)) * 3
    torch.testing.assert_close(softmax_rows(x), torch.softmax(x, dim=1))
    torch.testing.assert_close(log_softmax_rows(x), torch.log_softmax(x, dim=1))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_combine_is_the_weighted_sum_with_its_gradients(k):
    g = torch.Generator().manual_seed(k)
    weights = torch.rand(50, k, generator=g).requires_grad_(True)
    outputs = torch.randn(50, k, 3, generator=g).requires_grad_(True)
    expected = torch.einsum("nk,nko->no", weights, outputs)
    torch.testing.assert_close(combine(weights, outputs), expected)
    grads = torch.autograd.grad(combine(weights, outputs).square().sum(), (weights, outputs))
    expected_grads = torch.autograd.grad(expected.square().sum(), (weights, outputs))
    for a, b in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(a, b)


def test_combine_skips_only_weights_that_are_a_broadcast_one():
    outputs = torch.randn(20, 1, 2)
    one = torch.ones(()).expand(20, 1)  # how a router gives a top-1 gate renormalised over its one choice
    assert combine(one, outputs).data_ptr() == outputs.data_ptr()  # a view, no multiply
    for weights in (torch.ones(20, 1), torch.full((20, 1), 0.5), torch.full((), 0.5).expand(20, 1)):
        torch.testing.assert_close(combine(weights, outputs), weights * outputs[:, 0])
