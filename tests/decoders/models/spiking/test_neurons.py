import pytest
import torch

from decoders.models.spiking.neurons import LIF, fire


def test_lif_integrates_leaks_fires_and_resets_by_subtraction():
    lif = LIF(1, beta=0.5, threshold=1.0).eval()
    currents = torch.tensor([[[0.8], [0.8], [0.8], [2.5]]])
    spikes, membrane = lif(currents)
    # v: 0.8 -> 0.4 + 0.8 = 1.2 (spike, 0.2) -> 0.1 + 0.8 = 0.9 -> 0.45 + 2.5 = 2.95 (spike, 1.95)
    assert spikes[0, :, 0].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert membrane.item() == pytest.approx(1.95)


def test_surrogate_gradient_only_in_training_and_same_spikes():
    excess = torch.tensor([-0.3, 0.2, 1.5], requires_grad=True)
    trained = fire(excess, slope=5.0, training=True)
    assert torch.equal(trained.detach(), fire(excess.detach(), 5.0, training=False))
    trained.sum().backward()
    assert (excess.grad > 0).all()  # the Heaviside step alone would give zero gradient
    assert not fire(excess, 5.0, training=False).requires_grad


def test_stepwise_equals_whole_sequence():
    torch.manual_seed(0)
    lif = LIF(6).eval()
    currents = torch.randn(3, 20, 6) * 2
    whole, last = lif(currents)
    membrane = torch.zeros(3, 6)
    for step in range(20):
        spikes, membrane = lif.step(currents[:, step], membrane)
        assert torch.equal(spikes, whole[:, step])
    assert torch.allclose(membrane, last)
    assert whole.sum() > 0
