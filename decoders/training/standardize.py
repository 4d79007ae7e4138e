"""Input conditioning of networks, as torch layers that export: detrending and scaling.

A network's first layer removes each window's DC offset and slow drift (its least-squares
line, per channel) and divides by a per-channel scale fitted on the training trials. Both
act on the window alone, so the ONNX graph carries them and a live window is treated
exactly as an offline trial: an amplifier's DC offset of several millivolts, or one that
wanders between trials, reaches the network as nothing.

Removing each window's level also removes what slow cortical potentials carry, so by
default (``auto``) it is done when the training trials' offsets dwarf their signal
(:func:`offsets_dominate`: an amplifier's DC, constant or wandering), and the level is kept
otherwise (a per-channel training mean is still subtracted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from torch import Tensor


def channel_statistics(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return per-channel mean and standard deviation over trials and time."""
    mean = data.mean(axis=(0, 2))
    std = data.std(axis=(0, 2))
    std = np.where(std > 0, std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


DC_RATIO = 10.0
"""Size of the trials' offsets over their within-trial sd above which the offsets are an
amplifier's DC (real trial sets here stay below 4: SelfRegulationSCP1 3.4, FingerMovements
2.3; a headset's millivolts over microvolts of EEG give hundreds)."""


def offset_ratio(data: np.ndarray) -> float:
    """Return how far the trials' offsets exceed their signal (trials, channels, times).

    Per channel: the root mean square over trials of each trial's mean (a common DC level
    and offsets that wander from trial to trial both count) over the median within-trial
    sd; the median over channels. Flat channels count as 0.
    """
    data = np.asarray(data, dtype=float)
    means = data.mean(axis=-1)
    spread = np.median(data.std(axis=-1), axis=0)
    level = np.sqrt(np.mean(means**2, axis=0))
    return float(np.median(level / np.where(spread > 0, spread, np.inf)))


def offsets_dominate(data: np.ndarray) -> bool:
    """Return True when :func:`offset_ratio` of ``data`` exceeds :data:`DC_RATIO`."""
    return offset_ratio(data) > DC_RATIO


def resolve_auto(option: bool | str, data: np.ndarray, name: str) -> bool:
    """Return ``option`` as a bool: ``"auto"`` becomes :func:`offsets_dominate` of ``data``."""
    if option == "auto":
        return offsets_dominate(data)
    if not isinstance(option, bool):
        raise ValueError(f"{name} must be true, false or 'auto', got {option!r}")
    return option


def detrend_windows(data: np.ndarray) -> np.ndarray:
    """Return windows (..., n_times) minus each channel's least-squares line (numpy)."""
    times = np.arange(data.shape[-1]) - (data.shape[-1] - 1) / 2
    centred = data - data.mean(axis=-1, keepdims=True)
    norm = max(float(times @ times), 1.0)
    return centred - (centred @ times / norm)[..., None] * times


class InputScaling(torch.nn.Module):
    """``(detrend(x) - mean) / std`` per channel, with ``mean``/``std`` fitted on training.

    Parameters
    ----------
    n_channels : int
        Input channels.
    n_times : int
        Samples per window (the detrending line is fixed to it).
    detrend : bool
        Remove each window's per-channel line (offset and slope) before scaling; without it
        the layer is the plain standardisation ``(x - mean) / std``.
    """

    def __init__(self, n_channels: int, n_times: int, *, detrend: bool = True) -> None:
        super().__init__()
        self.detrend = detrend
        self.register_buffer("mean", torch.zeros(1, n_channels, 1))
        self.register_buffer("std", torch.ones(1, n_channels, 1))
        times = torch.arange(n_times, dtype=torch.float32) - (n_times - 1) / 2
        norm = max(float(times @ times), 1.0)
        self.register_buffer("times", times, persistent=False)
        self.register_buffer("slope_weights", times / norm, persistent=False)

    def fit(self, data: np.ndarray) -> None:
        """Fit ``mean`` and ``std`` on training trials (n_trials, n_channels, n_times)."""
        conditioned = detrend_windows(np.asarray(data, dtype=float)) if self.detrend else data
        mean, std = channel_statistics(conditioned)
        with torch.no_grad():
            self.mean.copy_(torch.as_tensor(mean)[None, :, None])
            self.std.copy_(torch.as_tensor(std)[None, :, None])

    def forward(self, x: Tensor) -> Tensor:
        """Condition windows (batch, channels, times)."""
        if self.detrend:
            x = x - x.mean(dim=-1, keepdim=True)
            slope = (x * self.slope_weights).sum(dim=-1, keepdim=True)
            x = x - slope * self.times
        return (x - self.mean) / self.std

    @staticmethod
    def conditioning(detrend: bool | str) -> dict[str, str]:
        """Return what the layer does with ``detrend`` (true, false or ``"auto"``), for the card."""
        offset = {
            True: "each window's per-channel least-squares line removed (DC offset and slow drift)",
            False: "training mean subtracted (the trials' level may carry signal)",
            "auto": "decided on the training trials: each window's per-channel line removed "
            "when their offsets dwarf their signal (an amplifier's DC), else the training mean",
        }[detrend]
        return {"dc_and_drift": offset, "scale": "per-channel sd of the training trials"}
