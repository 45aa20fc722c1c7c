"""Normalised gradient descent steps each expert by exactly its learning rate, and a run with its own
router optimiser trains the router by that optimiser alone."""

import pytest
import torch

from moe_core.settings.config import RunConfig
from moe_core.training.optimizers import NormalizedGD, Optimizers, run_optimizer
from moe_core.training.trainer import Trainer

SMALL = {"data.n_train": 300, "data.n_test": 100}


def test_normalised_gd_moves_each_expert_by_its_learning_rate_whatever_its_gradients_size():
    w_EIP = torch.nn.Parameter(torch.ones(3, 2, 4))
    b_LEP = torch.nn.Parameter(torch.ones(1, 3, 4))
    optimizer = NormalizedGD([{"params": [w_EIP, b_LEP], "expert_axes": [0, 1]}], lr=0.01)
    w_EIP.grad = torch.randn(3, 2, 4) * torch.tensor([1.0, 100.0, 1e-3]).view(3, 1, 1)
    b_LEP.grad = torch.randn(1, 3, 4)
    before = (w_EIP.detach().clone(), b_LEP.detach().clone())
    optimizer.step()
    moved = (w_EIP - before[0]).flatten(1).norm(dim=1) + (b_LEP - before[1])[0].flatten(1).norm(dim=1)
    torch.testing.assert_close(moved, torch.full((3,), 0.01))


def test_normalised_gd_without_expert_axes_normalises_the_group_as_a_whole():
    p = torch.nn.Parameter(torch.zeros(5))
    p.grad = torch.tensor([3.0, 4.0, 0.0, 0.0, 0.0])
    NormalizedGD([p], lr=0.5).step()
    torch.testing.assert_close(p.detach(), torch.tensor([-0.3, -0.4, 0.0, 0.0, 0.0]))


def test_a_router_of_its_own_trains_by_its_own_optimiser_and_learning_rate():
    cfg = RunConfig().replace(**SMALL, **{"train.optimizer": "ngd", "train.lr": 0.001,
                                          "train.router_optimizer": "sgd", "train.router_lr": 0.1})  # fmt: skip
    trainer = Trainer(cfg)
    optimizer = trainer.optimizer
    assert isinstance(optimizer, Optimizers) and [type(p).__name__ for p in optimizer.parts] == ["NormalizedGD", "SGD"]
    router = dict(trainer.model.router.named_parameters())
    before = {name: p.detach().clone() for name, p in router.items()}
    trainer.step()
    for name, p in router.items():  # plain SGD at 0.1: the step is -0.1 x the gradient, which stays on .grad
        torch.testing.assert_close(p.detach(), before[name] - 0.1 * p.grad)


def test_live_learning_rates_keep_the_routers_own():
    cfg = RunConfig().replace(**SMALL, **{"train.router_lr": 0.1})
    trainer = Trainer(cfg)
    trainer.apply_live(cfg.replace(**{"train.lr": 0.003}))
    lrs = sorted(group["lr"] for group in trainer.optimizer.param_groups)
    assert lrs == [0.003, 0.1]


@pytest.mark.parametrize("changes", [{}, {"train.optimizer": "ngd"}])
def test_without_a_router_of_its_own_one_optimiser_trains_everything(changes):
    trainer = Trainer(RunConfig().replace(**SMALL, **changes))
    assert isinstance(trainer.optimizer, torch.optim.Optimizer)
    assert run_optimizer(trainer.cfg, trainer.model).param_groups[0]["lr"] == trainer.cfg.train.lr
