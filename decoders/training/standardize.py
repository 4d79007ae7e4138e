"""Per-channel standardisation fitted on training trials, as a torch layer that exports."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def channel_statistics(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return per-channel mean and standard deviation over trials and time."""
    mean = data.mean(axis=(0, 2))
    std = data.std(axis=(0, 2))
    std = np.where(std > 0, std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


def standardize_layer(mean: np.ndarray, std: np.ndarray) -> torch.nn.Module:
    """Return a layer computing ``(x - mean) / std`` per channel, with fixed buffers."""
    import torch

    class Standardize(torch.nn.Module):
        """Subtract the training mean and divide by the training sd of each channel."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.as_tensor(mean)[None, :, None])
            self.register_buffer("std", torch.as_tensor(std)[None, :, None])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x - self.mean) / self.std

    return Standardize()
