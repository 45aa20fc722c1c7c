"""A new routing rule is one class and one registry line: registered here, it validates, trains, routes
within its invariants, shows in the CLI's listing and in the app's router list, and trains from the app."""

import json
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from moe_core.__main__ import main
from moe_core.layer.routers import ROUTERS, RouterSpec
from moe_core.layer.routers.base import Router, Routing
from moe_core.layer.routers.invariants import violations
from moe_core.settings.config import RunConfig
from moe_core.training.trainer import Trainer

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


class HardTop1(Router):
    """Each point to its highest-scoring expert with weight 1: a hard gate that only a balance loss trains."""

    def choose(self, logits_NE, scores_NE, noise_std_NE, batch_routing: bool) -> Routing:
        ids_NK = self.kernels.top_k(scores_NE, 1)
        return self.routing(logits_NE, scores_NE, noise_std_NE, ids_NK, torch.ones(ids_NK.shape))


SPEC = RouterSpec(
    "hard_top1",
    "hard top-1: weight 1 for the best expert",
    "The highest-scoring expert takes the point with weight 1.",
    HardTop1,
    frozenset({"model.gate_noise"}),
    citation="a test of the registry",
    fixed={"model.top_k": 1},
    invariants=("k_distinct_experts",),
    short="hard top-1",
)


@pytest.fixture
def registered():
    ROUTERS.register(SPEC)  # the one registry line
    try:
        yield SPEC
    finally:
        ROUTERS.unregister(SPEC.name)


def test_the_new_rule_validates_trains_and_keeps_its_invariants(registered):
    cfg = RunConfig().replace(**{"model.router": "hard_top1", "data.n_train": 300})
    trainer = Trainer(cfg)
    first = trainer.step(1).loss
    assert trainer.step(40).loss < first
    router = trainer.model.router.eval()
    assert violations(router, router(trainer.data.x_test)) == []
    with pytest.raises(ValueError, match="must be 1 for router 'hard_top1'"):
        cfg.replace(**{"model.top_k": 2})


def test_the_cli_lists_and_trains_the_new_rule(registered, capsys):
    main(["routers"])
    assert "hard_top1      hard top-1: weight 1 for the best expert." in capsys.readouterr().out
    main(["train", "--set", "model.router=hard_top1", "--set", "data.n_train=200", "--steps", "20", "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert result["config"]["model"]["router"] == "hard_top1" and result["steps"] == 20
    assert "hard top-1" in out[0]


def test_the_app_lists_the_new_rule_and_trains_with_it(registered):
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert SPEC.label in at.selectbox(key="model.router").options
    at.selectbox(key="model.router").set_value("hard_top1").run()
    at.button(key="btn.step").click().run()
    assert not at.exception and not at.error
    run = at.session_state["runs"].active
    assert run.cfg.model.router == "hard_top1" and run.trainer.step_count == 1
    assert "hard top-1" in run.name
