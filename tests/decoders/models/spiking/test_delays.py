import pytest
import torch

from decoders.models.spiking.delays import DelayedLinear


def test_integer_delays_shift_the_input_exactly():
    layer = DelayedLinear(2, 2, max_delay=3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        layer.delay.copy_(torch.tensor([[1.0, 0.0], [0.0, 3.0]]))
    x = torch.zeros(1, 6, 2)
    x[0, 0, 0] = 1.0  # neuron 0 spikes at step 0
    x[0, 1, 1] = 1.0  # neuron 1 spikes at step 1
    out = layer(x).detach()[0]
    assert out[:, 0].tolist() == [0, 1, 0, 0, 0, 0]  # one step later
    assert out[:, 1].tolist() == [0, 0, 0, 0, 2, 0]  # three steps later, weight 2


def test_fractional_delay_spreads_over_two_taps_and_learns():
    layer = DelayedLinear(1, 1, max_delay=4)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.delay.fill_(1.25)
    kernel = layer.kernel().detach()[0, 0]
    assert kernel.tolist() == pytest.approx([0.0, 0.75, 0.25, 0.0, 0.0])
    x = torch.zeros(1, 8, 1)
    x[0, 0, 0] = 1.0
    layer(x)[0, 2, 0].backward()
    assert layer.delay.grad.abs().item() > 0


def test_stepwise_equals_whole_sequence():
    torch.manual_seed(1)
    layer = DelayedLinear(4, 3, max_delay=5)
    x = (torch.rand(2, 12, 4) > 0.6).float()
    whole = layer(x).detach()
    history = layer.initial_history(2)
    for step in range(12):
        out, history = layer.step(x[:, step], history)
        assert torch.allclose(out.detach(), whole[:, step], atol=1e-6)
