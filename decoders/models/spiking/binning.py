"""Input conditioning of the spiking decoders: baseline, standardise channels, bin time into steps.

With ``baseline``, each window is first referred to its own baseline, the mean of each
channel over the first step's samples (as EEG epochs are baseline-corrected): an amplifier's
DC offset, however large and however it wanders between windows, cancels. A stream keeps
that baseline in its state from its first block, so stepping through a window gives the
window's output.

A window of ``n_times`` samples becomes ``n_steps`` steps of ``bin_samples`` samples each; the
step's input currents are features of its bin (direct encoding): the ``mean`` carries slow
potentials and evoked fields, the root mean square (``rms``) the power of oscillations that
the mean averages out (mu and beta rhythms over bins of tens of milliseconds). Each feature is
standardised with statistics of the training trials. A step may also be cut into ``sub_bins``
equal parts whose features all enter that step (a coarse time course within one step, which a
network with very few steps needs). When ``n_times`` is not a multiple of the bin, the oldest
samples are dropped, so that the newest sample always closes the last step, as it does on a
stream.
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
    sub_bins : int
        Equal parts of a step whose features each enter the step (``bin_samples`` is a
        multiple of it).
    """

    bin_samples: int
    n_steps: int
    sub_bins: int = 1

    def __post_init__(self) -> None:
        if self.sub_bins < 1 or self.bin_samples % self.sub_bins:
            raise ValueError(
                f"a bin of {self.bin_samples} samples cannot be cut into {self.sub_bins} parts"
            )

    @classmethod
    def for_window(
        cls, n_times: int, max_steps: int, source: str = "decoder", sub_bins: int = 1
    ) -> TimeBins:
        """Return the finest binning of ``n_times`` samples into at most ``max_steps`` steps."""
        if max_steps < 1 or sub_bins < 1:
            raise ValueError(
                f"max_steps and sub_bins must be at least 1, got {max_steps}, {sub_bins}"
            )
        if n_times < max(1, sub_bins):
            raise DataError(source, f"windows of {n_times} samples cannot be decoded")
        widest = math.ceil(n_times / max_steps)
        bin_samples = widest // sub_bins * sub_bins  # a multiple of sub_bins, as wide
        if bin_samples == 0 or n_times // bin_samples > max_steps:
            bin_samples = min(math.ceil(widest / sub_bins), n_times // sub_bins) * sub_bins
        return cls(bin_samples, n_times // bin_samples, sub_bins)

    @property
    def sub_samples(self) -> int:
        """Return the samples of one part of a step."""
        return self.bin_samples // self.sub_bins

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


FEATURES = ("mean", "rms")
"""Per-bin features of the spiking decoders by default."""

KNOWN_FEATURES = (*FEATURES, "slope")
"""Every per-bin feature: ``slope`` is the least-squares trend of the bin (per sample)."""


class BinnedInput(torch.nn.Module):
    """Standardise and bin windows: (batch, channels, n_times) -> (batch, n_steps, n_inputs).

    ``n_inputs`` is ``n_channels * bins.sub_bins * len(features)``, ordered by channel, then
    part of the step, then feature.

    Parameters
    ----------
    n_channels : int
        Input channels.
    bins : TimeBins
        How windows are cut into steps.
    features : tuple of str
        Per-bin features of each channel, among :data:`KNOWN_FEATURES`.
    baseline : bool
        Refer each window to the mean of its first step.
    """

    def __init__(
        self,
        n_channels: int,
        bins: TimeBins,
        features: tuple[str, ...] = FEATURES,
        *,
        baseline: bool = False,
    ) -> None:
        super().__init__()
        unknown = sorted(set(features) - set(KNOWN_FEATURES))
        if unknown or not features:
            raise ValueError(f"bin features must be among {KNOWN_FEATURES}, got {features}")
        self.standardize = Standardize(n_channels)
        self.bins = bins
        self.features = tuple(features)
        self.n_channels = n_channels
        self.use_baseline = baseline
        self.n_inputs = n_channels * bins.sub_bins * len(features)
        centred = torch.arange(bins.sub_samples, dtype=torch.float64)
        centred -= centred.mean()
        trend = centred / max(float((centred * centred).sum()), 1.0)
        self.register_buffer("trend", trend.float(), persistent=False)
        self.register_buffer("feature_mean", torch.zeros(self.n_inputs))
        self.register_buffer("feature_std", torch.ones(self.n_inputs))

    def fit(self, data: np.ndarray) -> None:
        """Fit channel and feature standardisation on training trials (after the baseline)."""
        if self.use_baseline:
            used = np.asarray(data)[..., np.shape(data)[-1] - self.bins.used_samples :]
            data = used - used[..., : self.bins.bin_samples].mean(-1, keepdims=True)
        self.standardize.fit(data)
        self.feature_mean.zero_()
        self.feature_std.fill_(1.0)
        with torch.no_grad():
            steps = self(torch.as_tensor(np.asarray(data), dtype=torch.float32))
            std = steps.std(dim=(0, 1))
            self.feature_mean.copy_(steps.mean(dim=(0, 1)))
            self.feature_std.copy_(torch.where(std > 0, std, torch.ones_like(std)))

    def summarise(self, bins: Tensor) -> Tensor:
        """Return standardised features (..., n_inputs) of standardised bins (..., C, samples)."""
        bins = bins.reshape(*bins.shape[:-1], self.bins.sub_bins, self.bins.sub_samples)
        values = []
        for feature in self.features:
            if feature == "mean":
                values.append(bins.mean(dim=-1))
            elif feature == "rms":
                values.append(torch.sqrt((bins * bins).mean(dim=-1)))
            else:
                values.append(bins @ self.trend)
        stacked = torch.stack(values, dim=-1).flatten(-3)
        return (stacked - self.feature_mean) / self.feature_std

    def forward(self, x: Tensor) -> Tensor:
        """Return the step inputs (batch, n_steps, n_inputs) of whole windows."""
        x = x[..., x.shape[-1] - self.bins.used_samples :]
        if self.use_baseline:
            x = x - x[..., : self.bins.bin_samples].mean(dim=-1, keepdim=True)
        x = self.standardize(x)
        x = x.reshape(-1, self.n_channels, self.bins.n_steps, self.bins.bin_samples)
        return self.summarise(x.transpose(1, 2))

    def baseline(self, x: Tensor, baseline: Tensor, count: Tensor) -> Tensor:
        """Return a stream's baseline (batch, channels): the first block's mean, then kept."""
        if not self.use_baseline:
            return baseline
        return torch.where(count == 0, x.mean(dim=-1), baseline)

    def block(self, x: Tensor, baseline: Tensor) -> Tensor:
        """Return the input (batch, n_inputs) of one step from a block (batch, channels, bin)."""
        if x.shape[-1] != self.bins.bin_samples:
            raise ValueError(
                f"a streaming block holds {self.bins.bin_samples} samples, got {x.shape[-1]}"
            )
        return self.summarise(self.standardize(x - baseline[..., None]))
