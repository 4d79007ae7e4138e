"""Leaky integrate-and-fire neurons with a surrogate gradient that exists only in training."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from torch import Tensor


def fire(excess: Tensor, slope: float, training: bool) -> Tensor:
    """Return spikes ``excess > 0`` as floats; in training their gradient is a sigmoid's.

    The straight-through form ``hard + (soft - soft.detach())`` has the value of the
    Heaviside step and the derivative of ``sigmoid(slope * excess)``; in evaluation mode only
    the comparison remains, which exports to ONNX as Greater + Cast.
    """
    hard = (excess > 0).to(excess.dtype)
    if not training:
        return hard
    soft = torch.sigmoid(slope * excess)
    return hard + (soft - soft.detach())


class LIF(torch.nn.Module):
    """A layer of leaky integrate-and-fire neurons with subtractive reset.

    Each step: ``v = beta * v + current``; a spike when ``v > threshold``; then ``v -=
    spike * threshold``. The leak ``beta`` is learned per neuron (through a sigmoid, so it
    stays in (0, 1)); the reset is detached from the gradient, as is usual for surrogate
    training.

    Parameters
    ----------
    n_neurons : int
        Layer width.
    beta : float
        Initial leak factor per step.
    threshold : float
        Firing threshold.
    slope : float
        Steepness of the surrogate sigmoid.
    """

    def __init__(
        self, n_neurons: int, beta: float = 0.9, threshold: float = 1.0, slope: float = 5.0
    ) -> None:
        super().__init__()
        logit = torch.logit(torch.tensor(beta))
        self.beta_logit = torch.nn.Parameter(torch.full((n_neurons,), float(logit)))
        self.threshold = threshold
        self.slope = slope
        self.n_neurons = n_neurons

    def step(self, current: Tensor, membrane: Tensor) -> tuple[Tensor, Tensor]:
        """Advance one step: return (spikes, new membrane), both (batch, n_neurons)."""
        membrane = torch.sigmoid(self.beta_logit) * membrane + current
        spikes = fire(membrane - self.threshold, self.slope, self.training)
        membrane = membrane - spikes.detach() * self.threshold
        return spikes, membrane

    def forward(self, currents: Tensor, membrane: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run over time: ``currents`` (batch, steps, n_neurons) -> (spikes, last membrane)."""
        if membrane is None:
            membrane = currents.new_zeros(currents.shape[0], self.n_neurons)
        spikes = []
        for index in range(currents.shape[1]):
            spike, membrane = self.step(currents[:, index], membrane)
            spikes.append(spike)
        return torch.stack(spikes, dim=1), membrane
