"""Synaptic operations of spiking networks, beside the MACs of their non-spiking equivalent.

A spiking layer costs one accumulate (AC) per input spike and outgoing synapse; a layer fed
with real values (the direct input encoding) costs a multiply-accumulate (MAC) per synapse
and step. The equivalent non-spiking network is the same architecture with real-valued
activations: a MAC per synapse and step in every layer. Energy follows the 45 nm convention
(Horowitz 2014, used by NeuroBench and most SNN papers): 0.9 pJ per AC, 4.6 pJ per MAC.
Neuron state updates, normalisations, the element-wise gates and the RWKV recurrence are
element-wise work of the same size in both networks and are left out of both counts; so are
the per-channel standardisation and time binning of the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

PJ_PER_AC = 0.9
PJ_PER_MAC = 4.6


@dataclass
class SynapticLayer:
    """The activity entering one weight layer, over a batch of windows.

    Parameters
    ----------
    name : str
        Layer name, for reports.
    inputs : tuple of Tensor
        Presynaptic activity, each (batch, steps, n_in). A layer fed twice per step (the
        token shift of RWKV mixes the current and previous spikes) lists both.
    fan_out : Tensor, shape (n_in,)
        Non-zero outgoing synapses (kernel taps for delayed synapses) of each input neuron.
    event_driven : bool
        True when the inputs are spikes (0/1): an AC per spike and outgoing synapse.
    """

    name: str
    inputs: tuple[torch.Tensor, ...]
    fan_out: torch.Tensor
    event_driven: bool


@dataclass(frozen=True)
class OperationCount:
    """Operations per window of a spiking network and of its non-spiking equivalent.

    Parameters
    ----------
    synops : float
        Accumulates triggered by spikes, per window (mean over the counted windows).
    macs : float
        MACs per window of the spiking network's real-valued layers (its input encoding).
    macs_equivalent : float
        MACs per window of the same architecture with real-valued activations.
    spike_rate : float
        Mean spikes per neuron and step over the event-driven layers' inputs.
    n_windows : int
        Windows the counts were averaged over.
    per_layer : dict
        Operations per window of each layer (ACs for event-driven ones, MACs otherwise).
    """

    synops: float
    macs: float
    macs_equivalent: float
    spike_rate: float
    n_windows: int
    per_layer: dict[str, float]

    @property
    def energy_uj_spiking(self) -> float:
        """Return the estimated energy per window of the spiking network, in microjoules."""
        return (self.synops * PJ_PER_AC + self.macs * PJ_PER_MAC) * 1e-6

    @property
    def energy_uj_equivalent(self) -> float:
        """Return the estimated energy per window of the non-spiking equivalent, in µJ."""
        return self.macs_equivalent * PJ_PER_MAC * 1e-6

    def to_card_extra(self) -> dict[str, Any]:
        """Return the counts and energies as the ``extra`` entries of a decoder card."""
        ratio = self.energy_uj_equivalent / self.energy_uj_spiking if self.energy_uj_spiking else 0
        return {
            "synops_per_window": self.synops,
            "macs_per_window": self.macs,
            "macs_equivalent_per_window": self.macs_equivalent,
            "energy_uj_spiking": self.energy_uj_spiking,
            "energy_uj_equivalent": self.energy_uj_equivalent,
            "energy_ratio_equivalent_to_spiking": ratio,
            "spike_rate": self.spike_rate,
            "operations_per_layer": dict(self.per_layer),  # ACs, or MACs for the encoding
            "counted_on_windows": self.n_windows,
            "energy_convention": f"45 nm: {PJ_PER_AC} pJ/AC, {PJ_PER_MAC} pJ/MAC",
        }


def count_layers(layers: list[SynapticLayer]) -> OperationCount:
    """Count operations per window from the recorded activity of every weight layer.

    Raises
    ------
    ValueError
        When an event-driven layer receives anything other than 0/1 spikes.
    """
    n_windows = int(layers[0].inputs[0].shape[0])
    synops = macs = equivalent = 0.0
    spikes = slots = 0.0
    per_layer: dict[str, float] = {}
    for layer in layers:
        fan_out = layer.fan_out.double()
        steps = int(layer.inputs[0].shape[1])
        dense = steps * float(fan_out.sum())
        equivalent += dense
        if not layer.event_driven:
            macs += dense
            per_layer[layer.name] = dense
            continue
        accumulates = 0.0
        for activity in layer.inputs:
            if not bool(((activity == 0) | (activity == 1)).all()):
                raise ValueError(f"layer {layer.name} is event-driven but its input is not 0/1")
            accumulates += float((activity.double() * fan_out).sum()) / n_windows
            spikes += float(activity.sum())
            slots += activity.numel()
        synops += accumulates
        per_layer[layer.name] = accumulates
    return OperationCount(
        synops=synops,
        macs=macs,
        macs_equivalent=equivalent,
        spike_rate=spikes / slots if slots else 0.0,
        n_windows=n_windows,
        per_layer=per_layer,
    )


def count_operations(module: torch.nn.Module, windows: np.ndarray) -> OperationCount:
    """Run ``module`` (with a ``synaptic_layers`` method) on ``windows`` and count per window.

    Parameters
    ----------
    module : torch.nn.Module
        A spiking network of this package.
    windows : ndarray, shape (n_windows, n_channels, n_times)
        Input windows in the units the module expects (SI units for fitted decoders).
    """
    import torch

    module.eval()
    with torch.no_grad():
        layers = module.synaptic_layers(torch.as_tensor(np.asarray(windows, dtype=np.float32)))
    return count_layers(layers)


def linear_fan_out(weight: torch.Tensor) -> torch.Tensor:
    """Return the non-zero outgoing synapses per input of a weight (n_out, n_in[, taps])."""
    nonzero = weight != 0
    dims = [0, *range(2, weight.dim())]
    return nonzero.sum(dim=dims)
