import numpy as np
import pytest
import torch

from decoders.models.spiking.binning import TimeBins
from decoders.models.spiking.lif_net import LifNetwork
from decoders.models.spiking.rwkv import SpikingRwkv
from decoders.models.spiking.synops import (
    PJ_PER_AC,
    PJ_PER_MAC,
    SynapticLayer,
    count_layers,
    count_operations,
)


def hand_network() -> LifNetwork:
    """2 channels -> 3 encoding neurons -> 3 hidden -> 2 outputs, no leak, 4 steps of 1 sample."""
    net = LifNetwork(2, 2, TimeBins(1, 4), hidden=3, encoding="dense", features=("mean",))
    with torch.no_grad():
        for lif in (net.lif_encoding, net.lif_hidden):
            lif.beta_logit.fill_(-30.0)  # beta ~ 1e-13: the membrane is this step's current
        net.encoder.weight.copy_(torch.tensor([[1.0, 0.5], [0.5, 1.0], [0.6, 0.6]]))
        net.encoder.bias.zero_()
        net.synapses.weight.copy_(torch.tensor([[2.0, 0.0, 1.5], [0.0, 0.0, 1.5], [0.0, 2.0, 0.0]]))
        net.synapses.bias.zero_()
        net.readout.weight.copy_(torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]))
    return net.eval()


def test_counts_match_a_hand_count():
    window = np.array([[[2.0, 0.0, 2.0, 0.0], [0.0, 0.0, 2.0, 0.0]]])
    count = count_operations(hand_network(), np.concatenate([window, window]))
    # Encoding currents per step: [2, 1, 1.2], 0, [3, 3, 2.4], 0 -> spikes [1,0,1], -, [1,1,1], -
    # Hidden currents: [3.5, 1.5, 0] -> [1,1,0]; [3.5, 1.5, 2] -> [1,1,1]
    # synapses: neuron spikes (2, 1, 2) x fan-out (1, 1, 2) = 7 accumulates
    # readout:  neuron spikes (2, 2, 1) x fan-out (2, 1, 1) = 7 accumulates
    assert count.per_layer == {"encoder": 24.0, "synapses": 7.0, "readout": 7.0}
    assert count.synops == 14.0
    assert count.macs == 4 * 6  # direct encoding: 6 real-valued synapses, 4 steps
    assert count.macs_equivalent == 4 * (6 + 4 + 4)  # every non-zero synapse, every step
    assert count.spike_rate == pytest.approx(10 / 24)
    assert count.n_windows == 2  # counts are per window, averaged
    assert count.energy_uj_spiking == pytest.approx((14 * PJ_PER_AC + 24 * PJ_PER_MAC) * 1e-6)
    assert count.energy_uj_equivalent == pytest.approx(56 * PJ_PER_MAC * 1e-6)
    extra = count.to_card_extra()
    assert extra["synops_per_window"] == 14.0 and extra["energy_convention"].startswith("45 nm")
    assert extra["energy_ratio_equivalent_to_spiking"] == pytest.approx(56 * 4.6 / 123)


def test_event_driven_layer_must_receive_spikes():
    layer = SynapticLayer("bad", (torch.full((1, 2, 3), 0.5),), torch.ones(3), True)
    with pytest.raises(ValueError, match="layer bad is event-driven but its input is not 0/1"):
        count_layers([layer])


def test_rwkv_equivalent_macs_cover_every_weight_layer_once():
    torch.manual_seed(0)
    net = SpikingRwkv(3, 2, TimeBins(2, 5), width=4, n_blocks=2, expansion=2).eval()
    count = count_operations(net, np.random.default_rng(0).normal(size=(3, 3, 10)) * 3)
    weights = [m.weight for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert count.macs_equivalent == 5 * sum(int((w != 0).sum()) for w in weights)
    assert count.macs == 5 * (3 * 2) * 4  # only the embedding (bin mean and RMS) is real-valued
    assert count.synops > 0 and 0 < count.spike_rate < 1
