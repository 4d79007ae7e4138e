"""The spatial-first EEGNet computes what the trained EEGNet computes, with fewer operations."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from decoders.models.braindecode_zoo.eegnet_rewrite import spatial_first_eegnet


def _trained_looking_eegnet(n_chans: int, n_times: int, kernel_length: int, seed: int):
    """An EEGNet in eval mode with non-trivial batch-norm statistics and affine terms."""
    from braindecode.models import EEGNet

    torch.manual_seed(seed)
    network = EEGNet(
        n_chans=n_chans, n_outputs=3, n_times=n_times, sfreq=128.0, kernel_length=kernel_length
    )
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_()
                module.running_var.uniform_(0.3, 3.0)
                module.weight.normal_()
                module.bias.normal_()
    return network.eval()


def _flops(module, x) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(x)
    return counter.get_total_flops()


@pytest.mark.parametrize(
    ("n_chans", "n_times", "kernel_length"), [(8, 128, 64), (22, 250, 125), (3, 40, 7)]
)
def test_rewrite_gives_the_same_outputs_for_odd_and_even_kernels(n_chans, n_times, kernel_length):
    network = _trained_looking_eegnet(n_chans, n_times, kernel_length, seed=n_chans)
    rewritten = spatial_first_eegnet(network)
    x = torch.randn(5, n_chans, n_times)
    with torch.no_grad():
        expected, got = network(x), rewritten(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_rewrite_needs_fewer_operations_and_leaves_the_network_unchanged():
    network = _trained_looking_eegnet(28, 250, 64, seed=0)
    before = {name: value.clone() for name, value in network.state_dict().items()}
    x = torch.randn(1, 28, 250)
    assert _flops(spatial_first_eegnet(network), x) * 5 < _flops(network, x)
    after = network.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)


def test_another_architecture_is_refused():
    from braindecode.models import ShallowFBCSPNet

    network = ShallowFBCSPNet(n_chans=4, n_outputs=2, n_times=200, sfreq=128.0)
    with pytest.raises(ValueError, match="not a braindecode EEGNet layout"):
        spatial_first_eegnet(network)
