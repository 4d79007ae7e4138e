"""A feed-forward leaky integrate-and-fire classifier with direct input encoding.

Windows are standardised and binned into steps (:mod:`.binning`); each step's features (bin
mean and RMS of every channel) are the input current of the encoding layer (direct encoding,
real-valued synapses). Two spiking layers follow: the encoding neurons project to the hidden
neurons, through plain synapses or through synapses with learnable delays (:mod:`.delays`),
and the hidden spikes drive a linear readout whose mean over the steps is the class logits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .binning import FEATURES, BinnedInput, TimeBins
from .delays import DelayedLinear
from .neurons import LIF
from .synops import SynapticLayer, linear_fan_out

if TYPE_CHECKING:
    from torch import Tensor

ENCODINGS = ("dense", "channel")


class ChannelEncoder(torch.nn.Module):
    """Direct encoding with per-input synapses: each input drives its own neurons.

    Input ``i`` (a feature of one channel) feeds ``per_channel`` neurons, each with its own
    weight and bias; there is no mixing across inputs before the first spikes.
    """

    def __init__(self, n_channels: int, per_channel: int) -> None:
        super().__init__()
        signs = torch.tensor([(-1.0) ** index for index in range(per_channel)])
        gains = torch.linspace(1.0, 2.0, per_channel) * signs
        self.weight = torch.nn.Parameter(gains.repeat(n_channels, 1))
        self.bias = torch.nn.Parameter(torch.zeros(n_channels, per_channel))
        self.n_out = n_channels * per_channel

    def forward(self, x: Tensor) -> Tensor:
        """Map (..., n_inputs) to (..., n_inputs * per_channel)."""
        current = x[..., None] * self.weight + self.bias
        return current.flatten(-2)

    def fan_out(self) -> Tensor:
        """Return the non-zero synapses leaving each input."""
        return (self.weight != 0).sum(dim=1)


class LifNetwork(torch.nn.Module):
    """Input -> encoding LIF layer -> (delayed) synapses -> hidden LIF layer -> readout.

    Parameters
    ----------
    n_channels, n_classes : int
        Input channels and output classes.
    bins : TimeBins
        How windows are cut into steps.
    hidden : int
        Hidden spiking neurons (and encoding neurons with ``dense`` encoding).
    encoding : str
        ``dense`` (every input to every encoding neuron) or ``channel`` (``per_channel``
        neurons per input, see :class:`ChannelEncoder`).
    per_channel : int
        Encoding neurons per input with ``channel`` encoding.
    features : tuple of str
        Per-bin features of each channel (see :class:`~decoders.models.spiking.binning.BinnedInput`).
    max_delay : int
        Longest learnable synaptic delay between the spiking layers, in steps; 0 for none.
    beta, threshold : float
        Initial leak and firing threshold of every neuron.
    dropout : float
        Dropout on spikes during training.
    """

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        bins: TimeBins,
        hidden: int = 64,
        encoding: str = "channel",
        per_channel: int = 4,
        max_delay: int = 0,
        beta: float = 0.9,
        threshold: float = 1.0,
        dropout: float = 0.0,
        features: tuple[str, ...] = FEATURES,
    ) -> None:
        super().__init__()
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {encoding} (known: {', '.join(ENCODINGS)})")
        self.input = BinnedInput(n_channels, bins, tuple(features))
        n_inputs = self.input.n_inputs
        if encoding == "dense":
            self.encoder: torch.nn.Module = torch.nn.Linear(n_inputs, hidden)
            n_encoding = hidden
        else:
            self.encoder = ChannelEncoder(n_inputs, per_channel)
            n_encoding = self.encoder.n_out
        self.lif_encoding = LIF(n_encoding, beta, threshold)
        self.synapses: torch.nn.Module = (
            DelayedLinear(n_encoding, hidden, max_delay)
            if max_delay
            else torch.nn.Linear(n_encoding, hidden)
        )
        self.lif_hidden = LIF(hidden, beta, threshold)
        self.readout = torch.nn.Linear(hidden, n_classes)
        self.dropout = torch.nn.Dropout(dropout)
        self.max_delay = max_delay

    def spikes(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Return step inputs (batch, steps, n_inputs) and both layers' spike trains."""
        inputs = self.input(x)
        encoding, _ = self.lif_encoding(self.encoder(inputs))
        hidden, _ = self.lif_hidden(self.synapses(self.dropout(encoding)))
        return inputs, encoding, hidden

    def forward(self, x: Tensor) -> Tensor:
        """Return class logits (batch, n_classes) of windows (batch, channels, n_times)."""
        _, _, hidden = self.spikes(x)
        return self.readout(self.dropout(hidden)).mean(dim=1)

    def synaptic_layers(self, x: Tensor) -> list[SynapticLayer]:
        """Return the activity entering each weight layer for windows ``x``."""
        inputs, encoding, hidden = self.spikes(x)
        if isinstance(self.encoder, ChannelEncoder):
            encoder_fan_out = self.encoder.fan_out()
        else:
            encoder_fan_out = linear_fan_out(self.encoder.weight)
        synapse_weight = (
            self.synapses.kernel()
            if isinstance(self.synapses, DelayedLinear)
            else self.synapses.weight
        )
        return [
            SynapticLayer("encoder", (inputs,), encoder_fan_out, event_driven=False),
            SynapticLayer("synapses", (encoding,), linear_fan_out(synapse_weight), True),
            SynapticLayer("readout", (hidden,), linear_fan_out(self.readout.weight), True),
        ]


class LifStream(torch.nn.Module):
    """One step of :class:`LifNetwork` with its state explicit, for decoding a stream.

    ``forward(block, *state) -> (logits, *new_state)``: ``block`` is (batch, channels,
    ``block_samples``) raw samples, the logits are the readout averaged over every step since
    the stream started (after ``n_steps`` blocks they equal the window output).
    """

    def __init__(self, network: LifNetwork) -> None:
        super().__init__()
        self.network = network
        self.block_samples = network.input.bins.bin_samples
        names = ["membrane_encoding", "membrane_hidden"]
        if network.max_delay:
            names.append("delay_history")
        self.state_names = (*names, "baseline", "readout_sum", "n_steps")

    def initial_state(self, batch: int) -> tuple[Tensor, ...]:
        """Return the state of a stream that starts now."""
        net = self.network
        zeros = net.readout.weight.new_zeros
        state = [zeros(batch, net.lif_encoding.n_neurons), zeros(batch, net.lif_hidden.n_neurons)]
        if net.max_delay:
            state.append(net.synapses.initial_history(batch))
        baseline = zeros(batch, net.input.n_channels)
        return (*state, baseline, zeros(batch, net.readout.out_features), zeros(batch, 1))

    def forward(self, block: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        """Advance the stream by one block; return the logits and the new state."""
        net = self.network
        v_encoding, v_hidden, *delay, baseline, total, count = state
        baseline = net.input.baseline(block, baseline, count)
        inputs = net.input.block(block, baseline)
        encoding, v_encoding = net.lif_encoding.step(net.encoder(inputs), v_encoding)
        if net.max_delay:
            current, history = net.synapses.step(encoding, delay[0])
            delay = [history]
        else:
            current = net.synapses(encoding)
        hidden, v_hidden = net.lif_hidden.step(current, v_hidden)
        total = total + net.readout(hidden)
        count = count + 1.0
        return (total / count, v_encoding, v_hidden, *delay, baseline, total, count)
