import subprocess
import sys
import threading

import pytest
import torch

from moe_core import runtime

# A 32-d, hidden-128, 16-expert, top-2 model trained on batches of 4096, in a fresh process after
# runtime.configure: a few megabytes of activations a step, which glibc's default settings can fault in
# from the kernel every step. The Trainer no longer configures anything, so the script calls
# runtime.configure itself, as the CLI and the app do.
TRAIN_AND_COUNT_FAULTS = """
import resource, torch
from moe_core.layer import losses
from moe_core import runtime
from moe_core.layer.fast import fused_adam
from moe_core.layer.build import Build
from moe_core.layer.moe import MoE
from moe_core.settings.table import ModelConfig
from moe_core.training.optimizers import make_optimizer
runtime.configure(1)
torch.manual_seed(0)
cfg = ModelConfig(n_experts=16, top_k=2, balance="none", expert_hidden=128)
model = MoE(cfg, Build(32, 2, classification=True))
x, y = torch.randn(4096, 32), torch.randint(0, 2, (4096,))
optimizer = make_optimizer("adam", model.parameters(), lr=1e-3)
def step():
    loss = losses.task_loss(model(x).output_NO, y, classification=True, reduction="mean")
    fused_adam.clear_grads(optimizer)
    loss.backward()
    fused_adam.step(optimizer)
for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


# A Trainer built and stepped in a fresh process whose threads were set to 3: what it leaves behind.
TRAIN_WITHOUT_CONFIGURE = """
import torch
from moe_core.settings.config import RunConfig
from moe_core import runtime
from moe_core.training.trainer import Trainer
torch.set_num_threads(3)
cfg = RunConfig().replace(**{"data.n_train": 200, "data.n_test": 50, "train.threads": 1})
Trainer(cfg).step(5)
print(torch.get_num_threads(), runtime.keep_freed_memory.cache_info().currsize)
"""


def last_line(script: str) -> str:
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


@pytest.mark.skipif(not runtime.keep_freed_memory(), reason="the C library is not glibc")
def test_after_configure_a_large_training_step_reuses_freed_memory_instead_of_faulting_it_in():
    # Once the heap has grown to the step's needs, a rare step grows it a little more (a few hundred
    # pages every ten steps or so): 4-60 a step over repeated runs. glibc's defaults took 170-2,000
    # in every step here, but how a process settles is glibc's, so only our side is asserted.
    faults = float(last_line(TRAIN_AND_COUNT_FAULTS))
    assert faults < 100, faults


def test_the_trainer_changes_no_process_wide_setting():
    # Threads and the allocator are the caller's: a notebook's own choice survives a run, even one
    # whose config asks for train.threads 1 (the CLI and the app pass that on to configure).
    assert last_line(TRAIN_WITHOUT_CONFIGURE) == "3 0"


def test_configure_sets_the_threads_and_none_means_one():
    before = torch.get_num_threads()
    try:
        runtime.configure(2)
        assert torch.get_num_threads() == 2
        runtime.configure(None)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_configure_can_leave_the_allocator_alone():
    before = torch.get_num_threads()
    runtime.keep_freed_memory.cache_clear()  # forget this process's earlier call, to see whether it runs
    try:
        runtime.configure(1, keep_memory=False)
        assert runtime.keep_freed_memory.cache_info().currsize == 0
        runtime.configure(1)
        assert runtime.keep_freed_memory.cache_info().currsize == 1
    finally:
        torch.set_num_threads(before)


def test_configure_flushes_subnormal_floats_to_zero_in_its_thread_and_those_it_starts():
    runtime.configure(1)
    # 1e-39 is below float32's smallest normal (1.2e-38): slow to compute with, and zero once flushed
    products = [float(torch.tensor(1e-39) * torch.tensor(1.0))]
    thread = threading.Thread(target=lambda: products.append(float(torch.tensor(1e-39) * torch.tensor(1.0))))
    thread.start()
    thread.join()
    assert products == [0.0, 0.0]
