"""Input conditioning of the spiking decoders: standardise channels, then bin time into steps.

A window of ``n_times`` samples becomes ``n_steps`` steps of ``bin_samples`` samples each (the
mean of each bin is the input current of that step: direct encoding). When ``n_times`` is not
a multiple of the bin, the oldest samples are dropped, so that the newest sample always closes
the last step, as it does on a stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from decoders.datasets.errors import DataError

if TYPE_CHECKING:
    from torch import Tensor


@dataclass(frozen=True)
class TimeBins:
    """How a window is cut into steps.

    Parameters
    ----------
    bin_samples : int
        Samples averaged into one step.
    n_steps : int
        Steps per window.
    """

    bin_samples: int
    n_steps: int

    @classmethod
    def for_window(cls, n_times: int, max_steps: int, source: str = "decoder") -> TimeBins:
        """Return the finest binning of ``n_times`` samples into at most ``max_steps`` steps."""
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        if n_times < 1:
            raise DataError(source, f"windows of {n_times} samples cannot be decoded")
        bin_samples = math.ceil(n_times / max_steps)
        return cls(bin_samples, n_times // bin_samples)

    @property
    def used_samples(self) -> int:
        """Return the samples of a window that enter the network (the newest ones)."""
        return self.bin_samples * self.n_steps


class Standardize(torch.nn.Module):
    """``(x - mean) / std`` per channel with buffers fitted on training trials."""

    def __init__(self, n_channels: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, n_channels, 1))
        self.register_buffer("std", torch.ones(1, n_channels, 1))

    def fit(self, data: np.ndarray) -> None:
        """Set the statistics from training trials (n_trials, n_channels, n_times)."""
        from decoders.training.standardize import channel_statistics

        mean, std = channel_statistics(data)
        with torch.no_grad():
            self.mean.copy_(torch.as_tensor(mean)[None, :, None])
            self.std.copy_(torch.as_tensor(std)[None, :, None])

    def forward(self, x: Tensor) -> Tensor:
        """Standardise (batch, channels, times)."""
        return (x - self.mean) / self.std


class BinnedInput(torch.nn.Module):
    """Standardise and bin a window: (batch, channels, n_times) -> (batch, n_steps, channels)."""

    def __init__(self, n_channels: int, bins: TimeBins) -> None:
        super().__init__()
        self.standardize = Standardize(n_channels)
        self.bins = bins
        self.n_channels = n_channels

    def forward(self, x: Tensor) -> Tensor:
        """Return the step inputs of whole windows."""
        x = self.standardize(x[..., x.shape[-1] - self.bins.used_samples :])
        x = x.reshape(-1, self.n_channels, self.bins.n_steps, self.bins.bin_samples)
        return x.mean(dim=-1).transpose(1, 2)

    def block(self, x: Tensor) -> Tensor:
        """Return the input of one step from a block (batch, channels, bin_samples)."""
        if x.shape[-1] != self.bins.bin_samples:
            raise ValueError(
                f"a streaming block holds {self.bins.bin_samples} samples, got {x.shape[-1]}"
            )
        return self.standardize(x).mean(dim=-1)
