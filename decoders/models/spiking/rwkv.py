"""A SpikeGPT-style spiking RWKV classifier whose recurrence keeps O(1) state per stream.

Like SpikeGPT (Zhu et al. 2023), every block has a token-mixing part (RWKV "time mixing":
receptance, key and value from a mix of the current and previous step, and the WKV
recurrence with a learned per-channel decay and bonus) and a channel-mixing part, with
binary spiking neurons so that every weight layer except the input embedding is driven by
spikes: a block's input is the spikes of LIF neurons fed with the normalised residual stream;
the gated WKV output spikes before its projection; the channel-mixing key spikes before the
value projection. The WKV recurrence uses the numerically stable running-maximum form of
RWKV-4, so a stream is decoded one step (one block of samples) at a time with a constant
state: per block the previous spikes, the WKV numerator, denominator and maximum, and the
membranes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from .binning import FEATURES, BinnedInput, TimeBins
from .neurons import LIF
from .synops import SynapticLayer, linear_fan_out

if TYPE_CHECKING:
    from torch import Tensor

_EMPTY = -1e30  # log of a zero WKV weight sum; exp(_EMPTY - q) underflows to 0 in float32


def wkv_step(
    decay: Tensor, bonus: Tensor, key: Tensor, value: Tensor, state: tuple[Tensor, Tensor, Tensor]
) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor]]:
    """One step of the WKV recurrence, stable form.

    Parameters
    ----------
    decay : Tensor, shape (d,)
        Negative log decay per step ``w`` (the running sums are multiplied by ``exp(w)``).
    bonus : Tensor, shape (d,)
        Extra weight ``u`` of the current step.
    key, value : Tensor, shape (batch, d)
    state : (numerator, denominator, maximum)
        Running sums scaled by ``exp(-maximum)``.
    """
    numerator, denominator, maximum = state
    current = bonus + key
    top = torch.maximum(maximum, current)
    old, new = torch.exp(maximum - top), torch.exp(current - top)
    output = (old * numerator + new * value) / (old * denominator + new)
    decayed = maximum + decay
    top = torch.maximum(decayed, key)
    old, new = torch.exp(decayed - top), torch.exp(key - top)
    return output, (old * numerator + new * value, old * denominator + new, top)


def shifted(spikes: Tensor) -> Tensor:
    """Return the previous step's spikes (zeros before the first step), (batch, steps, d)."""
    return F.pad(spikes[:, :-1], (0, 0, 1, 0))


class Mix(torch.nn.Module):
    """A linear layer fed with ``mu * current + (1 - mu) * previous`` (the token shift).

    On spikes this is two event-driven passes (``W diag(mu)`` on the current spikes and
    ``W diag(1 - mu)`` on the previous ones), which is how its operations are counted.
    """

    def __init__(self, n_in: int, n_out: int, init: float) -> None:
        super().__init__()
        self.mix = torch.nn.Parameter(torch.full((n_in,), init))
        self.linear = torch.nn.Linear(n_in, n_out, bias=False)

    def forward(self, current: Tensor, previous: Tensor) -> Tensor:
        """Return the projection of the mixed input."""
        return self.linear(current * self.mix + previous * (1.0 - self.mix))

    def layer(self, name: str, current: Tensor, previous: Tensor) -> SynapticLayer:
        """Return its recorded activity."""
        return SynapticLayer(name, (current, previous), linear_fan_out(self.linear.weight), True)


class SpikingTimeMixing(torch.nn.Module):
    """RWKV time mixing with spiking inputs and a spiking output projection."""

    def __init__(self, width: int, index: int, n_blocks: int) -> None:
        super().__init__()
        depth = index / max(1, n_blocks - 1)
        self.receptance = Mix(width, width, 0.5)
        self.key = Mix(width, width, 0.8 - 0.3 * depth)
        self.value = Mix(width, width, 0.7 - 0.3 * depth)
        self.time_decay = torch.nn.Parameter(torch.linspace(-3.0, 1.0, width))
        self.time_first = torch.nn.Parameter(torch.full((width,), -1.2))
        self.lif_output = LIF(width)
        self.output = torch.nn.Linear(width, width, bias=False)

    def gated(self, r: Tensor, wkv: Tensor) -> Tensor:
        """Return the receptance-gated WKV output."""
        return torch.sigmoid(r) * wkv

    def forward(self, spikes: Tensor) -> tuple[Tensor, Tensor]:
        """Return the block output (batch, steps, d) and the output spikes of whole sequences."""
        previous = shifted(spikes)
        r, k, v = (mix(spikes, previous) for mix in (self.receptance, self.key, self.value))
        decay = -torch.exp(self.time_decay)
        state = self.initial_wkv(spikes.shape[0])
        outputs = []
        for index in range(spikes.shape[1]):
            wkv, state = wkv_step(decay, self.time_first, k[:, index], v[:, index], state)
            outputs.append(wkv)
        out_spikes, _ = self.lif_output(self.gated(r, torch.stack(outputs, dim=1)))
        return self.output(out_spikes), out_spikes

    def initial_wkv(self, batch: int) -> tuple[Tensor, Tensor, Tensor]:
        """Return an empty WKV state (three distinct tensors)."""
        width = self.time_decay.shape[0]
        new_zeros = self.time_decay.new_zeros
        return new_zeros(batch, width), new_zeros(batch, width), new_zeros(batch, width) + _EMPTY

    def step(self, spikes: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple]:
        """Advance one step; state = (previous spikes, numerator, denominator, max, membrane)."""
        previous, numerator, denominator, maximum, membrane = state
        r, k, v = (mix(spikes, previous) for mix in (self.receptance, self.key, self.value))
        decay = -torch.exp(self.time_decay)
        wkv, (numerator, denominator, maximum) = wkv_step(
            decay, self.time_first, k, v, (numerator, denominator, maximum)
        )
        out_spikes, membrane = self.lif_output.step(self.gated(r, wkv), membrane)
        return self.output(out_spikes), (spikes, numerator, denominator, maximum, membrane)


class SpikingChannelMixing(torch.nn.Module):
    """RWKV channel mixing: spiking key neurons, value projection, sigmoid receptance gate."""

    def __init__(self, width: int, expansion: int, index: int, n_blocks: int) -> None:
        super().__init__()
        depth = index / max(1, n_blocks - 1)
        self.key = Mix(width, width * expansion, 0.8 - 0.3 * depth)
        self.receptance = Mix(width, width, 0.8 - 0.3 * depth)
        self.lif_key = LIF(width * expansion)
        self.value = torch.nn.Linear(width * expansion, width, bias=False)

    def forward(self, spikes: Tensor) -> tuple[Tensor, Tensor]:
        """Return the output (batch, steps, d) and the key spikes of whole sequences."""
        previous = shifted(spikes)
        key_spikes, _ = self.lif_key(self.key(spikes, previous))
        gate = torch.sigmoid(self.receptance(spikes, previous))
        return gate * self.value(key_spikes), key_spikes

    def step(self, spikes: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, tuple]:
        """Advance one step; state = (previous spikes, key membrane)."""
        previous, membrane = state
        key_spikes, membrane = self.lif_key.step(self.key(spikes, previous), membrane)
        gate = torch.sigmoid(self.receptance(spikes, previous))
        return gate * self.value(key_spikes), (spikes, membrane)


class SpikingRwkvBlock(torch.nn.Module):
    """LayerNorm -> LIF -> time mixing (residual), LayerNorm -> LIF -> channel mixing."""

    def __init__(self, width: int, expansion: int, index: int, n_blocks: int) -> None:
        super().__init__()
        self.norm_time = torch.nn.LayerNorm(width)
        self.lif_time = LIF(width)
        self.time_mixing = SpikingTimeMixing(width, index, n_blocks)
        self.norm_channel = torch.nn.LayerNorm(width)
        self.lif_channel = LIF(width)
        self.channel_mixing = SpikingChannelMixing(width, expansion, index, n_blocks)
        self.width = width
        self.expansion = expansion

    def forward(self, residual: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Return the new residual stream and the spike trains of every spiking layer."""
        time_spikes, _ = self.lif_time(self.norm_time(residual))
        update, output_spikes = self.time_mixing(time_spikes)
        residual = residual + update
        channel_spikes, _ = self.lif_channel(self.norm_channel(residual))
        update, key_spikes = self.channel_mixing(channel_spikes)
        spikes = {
            "time": time_spikes,
            "output": output_spikes,
            "channel": channel_spikes,
            "key": key_spikes,
        }
        return residual + update, spikes

    def layers(self, prefix: str, spikes: dict[str, Tensor]) -> list[SynapticLayer]:
        """Return the recorded activity of the block's weight layers."""
        time, channel = spikes["time"], spikes["channel"]
        mixing, channel_mixing = self.time_mixing, self.channel_mixing
        return [
            *(
                getattr(mixing, name).layer(f"{prefix}.time.{name}", time, shifted(time))
                for name in ("receptance", "key", "value")
            ),
            SynapticLayer(
                f"{prefix}.time.output",
                (spikes["output"],),
                linear_fan_out(mixing.output.weight),
                True,
            ),
            *(
                getattr(channel_mixing, name).layer(
                    f"{prefix}.channel.{name}", channel, shifted(channel)
                )
                for name in ("key", "receptance")
            ),
            SynapticLayer(
                f"{prefix}.channel.value",
                (spikes["key"],),
                linear_fan_out(channel_mixing.value.weight),
                True,
            ),
        ]

    def step(self, residual: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple]:
        """Advance one step with state (time membrane, 5 time-mixing, channel membrane, 2)."""
        v_time, *time_state, v_channel, channel_previous, key_membrane = state
        time_spikes, v_time = self.lif_time.step(self.norm_time(residual), v_time)
        update, time_state = self.time_mixing.step(time_spikes, tuple(time_state))
        residual = residual + update
        channel_spikes, v_channel = self.lif_channel.step(self.norm_channel(residual), v_channel)
        update, channel_state = self.channel_mixing.step(
            channel_spikes, (channel_previous, key_membrane)
        )
        return residual + update, (v_time, *time_state, v_channel, *channel_state)

    def initial_state(self, batch: int) -> tuple[Tensor, ...]:
        """Return the state of a stream that starts now (9 distinct tensors)."""

        def zeros(width: int = self.width) -> Tensor:
            return self.norm_time.weight.new_zeros(batch, width)

        wkv = self.time_mixing.initial_wkv(batch)
        key_membrane = zeros(self.width * self.expansion)
        return (zeros(), zeros(), *wkv, zeros(), zeros(), zeros(), key_membrane)


class SpikingRwkv(torch.nn.Module):
    """Embedding (direct encoding) -> spiking RWKV blocks -> LIF -> readout, mean over steps.

    Parameters
    ----------
    n_channels, n_classes : int
        Input channels and output classes.
    bins : TimeBins
        How windows are cut into steps.
    width : int
        Width of the residual stream.
    n_blocks : int
        RWKV blocks.
    expansion : int
        Channel-mixing hidden width as a multiple of ``width``.
    dropout : float
        Dropout on the output spikes during training.
    features : tuple of str
        Per-bin features of each channel (see :class:`~decoders.models.spiking.binning.BinnedInput`).
    """

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        bins: TimeBins,
        width: int = 32,
        n_blocks: int = 2,
        expansion: int = 2,
        dropout: float = 0.0,
        features: tuple[str, ...] = FEATURES,
    ) -> None:
        super().__init__()
        self.input = BinnedInput(n_channels, bins, tuple(features))
        self.embed = torch.nn.Linear(self.input.n_inputs, width)
        self.blocks = torch.nn.ModuleList(
            SpikingRwkvBlock(width, expansion, index, n_blocks) for index in range(n_blocks)
        )
        self.norm_out = torch.nn.LayerNorm(width)
        self.lif_out = LIF(width)
        self.readout = torch.nn.Linear(width, n_classes)
        self.dropout = torch.nn.Dropout(dropout)

    def run(self, x: Tensor) -> tuple[Tensor, list[dict[str, Tensor]], Tensor]:
        """Return step inputs, each block's spike trains and the output spikes."""
        inputs = self.input(x)
        residual = self.embed(inputs)
        spikes = []
        for block in self.blocks:
            residual, block_spikes = block(residual)
            spikes.append(block_spikes)
        out_spikes, _ = self.lif_out(self.norm_out(residual))
        return inputs, spikes, out_spikes

    def forward(self, x: Tensor) -> Tensor:
        """Return class logits (batch, n_classes) of windows (batch, channels, n_times)."""
        _, _, out_spikes = self.run(x)
        return self.readout(self.dropout(out_spikes)).mean(dim=1)

    def synaptic_layers(self, x: Tensor) -> list[SynapticLayer]:
        """Return the activity entering each weight layer for windows ``x``."""
        inputs, spikes, out_spikes = self.run(x)
        layers = [SynapticLayer("embed", (inputs,), linear_fan_out(self.embed.weight), False)]
        for index, (block, block_spikes) in enumerate(zip(self.blocks, spikes, strict=True)):
            layers.extend(block.layers(f"block{index}", block_spikes))
        layers.append(
            SynapticLayer("readout", (out_spikes,), linear_fan_out(self.readout.weight), True)
        )
        return layers


class RwkvStream(torch.nn.Module):
    """One step of :class:`SpikingRwkv` with explicit O(1) state, for decoding a stream.

    ``forward(block, *state) -> (logits, *new_state)``: ``block`` is (batch, channels,
    ``block_samples``) raw samples; the logits average the readout over every step since the
    stream started (after ``n_steps`` blocks they equal the window output).
    """

    def __init__(self, network: SpikingRwkv) -> None:
        super().__init__()
        self.network = network
        self.block_samples = network.input.bins.bin_samples
        per_block = (
            "time_membrane",
            "time_previous",
            "wkv_numerator",
            "wkv_denominator",
            "wkv_maximum",
            "time_output_membrane",
            "channel_membrane",
            "channel_previous",
            "channel_key_membrane",
        )
        self.state_names = (
            *(f"block{i}_{name}" for i in range(len(network.blocks)) for name in per_block),
            "output_membrane",
            "baseline",
            "readout_sum",
            "n_steps",
        )
        self.per_block = len(per_block)

    def initial_state(self, batch: int) -> tuple[Tensor, ...]:
        """Return the state of a stream that starts now."""
        net = self.network
        state = [tensor for block in net.blocks for tensor in block.initial_state(batch)]
        zeros = net.readout.weight.new_zeros
        return (
            *state,
            zeros(batch, net.lif_out.n_neurons),
            zeros(batch, net.input.n_channels),
            zeros(batch, net.readout.out_features),
            zeros(batch, 1),
        )

    def forward(self, block: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        """Advance the stream by one block; return the logits and the new state."""
        net = self.network
        *block_states, v_out, baseline, total, count = state
        baseline = net.input.baseline(block, baseline, count)
        residual = net.embed(net.input.block(block, baseline))
        new_state: list[Tensor] = []
        for index, rwkv_block in enumerate(net.blocks):
            own = block_states[index * self.per_block : (index + 1) * self.per_block]
            residual, own = rwkv_block.step(residual, tuple(own))
            new_state.extend(own)
        out_spikes, v_out = net.lif_out.step(net.norm_out(residual), v_out)
        total = total + net.readout(out_spikes)
        count = count + 1.0
        return (total / count, *new_state, v_out, baseline, total, count)
