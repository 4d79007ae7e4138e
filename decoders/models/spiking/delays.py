"""Learnable synaptic delays in the spirit of DCLS (dilated convolution with learnable spacings).

Every synapse ``i -> j`` has a weight and a real-valued delay ``d`` in ``[0, max_delay]``
steps. Its kernel over the past ``max_delay + 1`` steps is the weight spread over the two
integer delays around ``d`` by linear interpolation (``max(0, 1 - |tap - d|)``), so the delay
gets a gradient. This is the interpolated form of DCLS; the Gaussian kernel whose width is
annealed during training (Hammouamri et al., SNN-delays) is not used. The layer is a causal
1-D convolution over time: whole sequences use ``conv1d`` with left padding, a stream keeps
the last ``max_delay`` input steps as explicit state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from torch import Tensor


class DelayedLinear(torch.nn.Module):
    """A fully connected layer whose synapses each have a learnable delay.

    Parameters
    ----------
    n_in, n_out : int
        Presynaptic and postsynaptic neurons.
    max_delay : int
        Longest delay in steps.
    """

    def __init__(self, n_in: int, n_out: int, max_delay: int) -> None:
        super().__init__()
        if max_delay < 1:
            raise ValueError(f"max_delay must be at least 1 step, got {max_delay}")
        bound = 1.0 / n_in**0.5
        self.weight = torch.nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound))
        self.bias = torch.nn.Parameter(torch.zeros(n_out))
        self.delay = torch.nn.Parameter(torch.rand(n_out, n_in) * max_delay)
        self.register_buffer("taps", torch.arange(max_delay + 1, dtype=torch.float32))
        self.max_delay = max_delay
        self.n_in = n_in

    def kernel(self) -> Tensor:
        """Return the effective kernel (n_out, n_in, max_delay + 1), index = delay in steps."""
        delay = self.delay.clamp(0.0, float(self.max_delay))
        spread = torch.relu(1.0 - torch.abs(self.taps - delay[..., None]))
        return self.weight[..., None] * spread

    def conv_kernel(self) -> Tensor:
        """Return the kernel in ``conv1d`` order (oldest step first)."""
        return torch.flip(self.kernel(), dims=[-1])

    def forward(self, x: Tensor) -> Tensor:
        """Map (batch, steps, n_in) to (batch, steps, n_out); step t sees steps t - delay."""
        padded = F.pad(x.transpose(1, 2), (self.max_delay, 0))
        return F.conv1d(padded, self.conv_kernel(), self.bias).transpose(1, 2)

    def step(self, x: Tensor, history: Tensor) -> tuple[Tensor, Tensor]:
        """Advance one step.

        Parameters
        ----------
        x : Tensor, shape (batch, n_in)
            Input of the current step.
        history : Tensor, shape (batch, n_in, max_delay)
            Inputs of the previous ``max_delay`` steps, oldest first.

        Returns
        -------
        output : Tensor, shape (batch, n_out)
        history : Tensor, shape (batch, n_in, max_delay)
        """
        window = torch.cat([history, x[..., None]], dim=-1)
        output = F.conv1d(window, self.conv_kernel(), self.bias)[..., 0]
        return output, window[..., 1:]

    def initial_history(self, batch: int) -> Tensor:
        """Return the empty input history of a stream that starts now."""
        return self.weight.new_zeros(batch, self.n_in, self.max_delay)
