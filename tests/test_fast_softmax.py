import pytest
import torch

from moe_core.layer.fast.softmax import COLUMN_FROM, SHORT_ROW, log_softmax_rows, softmax_rows


@pytest.mark.parametrize("rows", [10, COLUMN_FROM])
@pytest.mark.parametrize("width", [1, 2, 4, SHORT_ROW - 1, SHORT_ROW, 64])
@pytest.mark.parametrize(("ours", "torchs"), [(softmax_rows, torch.softmax), (log_softmax_rows, torch.log_softmax)])
def test_rows_match_torch_in_values_and_gradients(rows, width, ours, torchs):
    g = torch.Generator().manual_seed(width)
    x = (5 * torch.randn(rows, width, generator=g)).requires_grad_(True)
    weights = torch.randn(rows, width, generator=g)
    fast = ours(x)
    (grad_fast,) = torch.autograd.grad((fast * weights).sum(), x)
    slow = torchs(x, dim=1)
    (grad_slow,) = torch.autograd.grad((slow * weights).sum(), x)
    torch.testing.assert_close(fast, slow)
    torch.testing.assert_close(grad_fast, grad_slow)
    assert fast.shape == (rows, width)
