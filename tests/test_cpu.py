import subprocess
import sys

import pytest
import torch

from moe_core import cpu

# A 32-d, hidden-128, 16-expert, top-2 model trained on batches of 4096, in a fresh process after
# cpu.configure: a few megabytes of activations a step, which glibc's default settings can fault in
# from the kernel every step.
TRAIN_AND_COUNT_FAULTS = """
import resource, torch
from moe_core import cpu, losses, optim
from moe_core.config import ModelConfig
from moe_core.model import MoE
cpu.configure(1)
torch.manual_seed(0)
cfg = ModelConfig(n_experts=16, top_k=2, balance="none", expert_hidden=128)
model = MoE(cfg, 32, 2, classification=True)
x, y = torch.randn(4096, 32), torch.randint(0, 2, (4096,))
optimizer = optim.make_optimizer("adam", model.parameters(), lr=1e-3)
def step():
    loss = losses.task_loss(model(x).output_NO, y, classification=True, reduction="mean")
    optim.clear_grads(optimizer)
    loss.backward()
    optim.step(optimizer)
for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def faults_per_step() -> float:
    out = subprocess.run(
        [sys.executable, "-c", TRAIN_AND_COUNT_FAULTS], capture_output=True, text=True, check=True
    ).stdout
    return float(out.strip().splitlines()[-1])


@pytest.mark.skipif(not cpu.keep_freed_memory(), reason="the C library is not glibc")
def test_after_configure_a_large_training_step_reuses_freed_memory_instead_of_faulting_it_in():
    # Once the heap has grown to the step's needs, a rare step grows it a little more (a few hundred
    # pages every ten steps or so): 4-60 a step over repeated runs. glibc's defaults took 170-2,000
    # in every step here, but how a process settles is glibc's, so only our side is asserted.
    configured = faults_per_step()
    assert configured < 100, configured


def test_configure_sets_the_threads_and_none_means_one():
    before = torch.get_num_threads()
    try:
        cpu.configure(2)
        assert torch.get_num_threads() == 2
        cpu.configure(None)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
