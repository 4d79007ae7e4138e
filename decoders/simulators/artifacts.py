"""EEG artefacts: eye blinks over frontal channels and power-line noise."""

from __future__ import annotations

import numpy as np

from .forward import REFERENCE
from .montages import electrode_positions

_EYES_FROM_NASION_M = np.array([0.0, -0.01, -0.025])
_BLINK_DECAY_M = 0.04  # blink amplitude falls by e over this distance from the eyes
_BLINK_PEAK_S = 0.1


def blink_pattern(ch_names: tuple[str, ...]) -> np.ndarray:
    """Return each channel's share of a blink (1 at Fpz), referenced to linked mastoids."""
    positions = electrode_positions()
    eyes = positions["nasion"] + _EYES_FROM_NASION_M

    def spread(name: str) -> float:
        return float(np.exp(-np.linalg.norm(positions[name] - eyes) / _BLINK_DECAY_M))

    reference = np.mean([spread(name) for name in REFERENCE])
    return (np.array([spread(name) for name in ch_names]) - reference) / spread("Fpz")


def blinks(
    rng: np.random.Generator, pattern: np.ndarray, per_min: float, sfreq: float, n_times: int
) -> np.ndarray:
    """Return eye blinks at random times (Poisson, ``per_min`` a minute) at the sensors.

    ``pattern`` (n_channels,) is the potential of a mean blink in volts; blink sizes vary by
    ±30 %. Each blink rises to its peak in 0.1 s and fades within 0.5 s.
    """
    n_blinks = rng.poisson(per_min * n_times / sfreq / 60.0)
    onsets = np.sort(rng.integers(0, n_times, n_blinks))
    sizes = rng.uniform(0.7, 1.3, n_blinks)
    return pattern[:, None] * blink_course(onsets, sizes, sfreq, n_times)


def blink_course(onsets: np.ndarray, sizes: np.ndarray, sfreq: float, n_times: int) -> np.ndarray:
    """Return the time course (n_times,) of blinks starting at sample ``onsets``, scaled by ``sizes``.

    Each blink rises to its peak (the size) in 0.1 s and fades within 0.5 s.
    """
    phase = np.arange(round(6 * _BLINK_PEAK_S * sfreq)) / (_BLINK_PEAK_S * sfreq)
    waveform = phase**2 * np.exp(2.0 * (1.0 - phase))
    course = np.zeros(n_times)
    for onset, size in zip(onsets, sizes, strict=True):
        stop = min(onset + waveform.size, n_times)
        course[onset:stop] += size * waveform[: stop - onset]
    return course


def line_noise(
    rng: np.random.Generator, amplitude: np.ndarray, line_freq: float, sfreq: float, n_times: int
) -> np.ndarray:
    """Return power-line noise: a sinusoid of ``amplitude`` (n_channels,) volts per channel.

    Channels share the phase up to a small jitter; nothing is returned above Nyquist.
    """
    if line_freq >= sfreq / 2:
        return np.zeros((amplitude.size, n_times))
    phase = rng.uniform(0, 2 * np.pi) + rng.normal(0.0, 0.2, amplitude.size)
    t = np.arange(n_times) / sfreq
    return amplitude[:, None] * np.sin(2 * np.pi * line_freq * t + phase[:, None])
