"""EEG artefacts: eye blinks over frontal channels, temporal muscle bursts, power-line noise."""

from __future__ import annotations

import numpy as np

from .forward import REFERENCE
from .montages import electrode_positions
from .signals import frequencies, shaped_noise

_EYES_FROM_NASION_M = np.array([0.0, -0.01, -0.025])
_BLINK_DECAY_M = 0.04  # blink amplitude falls by e over this distance from the eyes
_BLINK_PEAK_S = 0.1
_MUSCLES = ("T7", "T8")  # electrodes over the left and right temporalis muscles
_MUSCLE_DECAY_M = 0.03  # muscle potentials fall by e over this distance
_MUSCLE_BAND_HZ = (20.0, 150.0)
_MUSCLE_BURST_S = (0.5, 3.0)


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


def muscle_patterns(ch_names: tuple[str, ...]) -> np.ndarray:
    """Return each channel's share (n_channels, 2) of left and right temporalis muscle activity.

    1 at T7 (left) or T8 (right), falling with distance; referenced to linked mastoids.
    """
    positions = electrode_positions()

    def spread(name: str, muscle: str) -> float:
        distance = np.linalg.norm(positions[name] - positions[muscle])
        return float(np.exp(-distance / _MUSCLE_DECAY_M))

    shares = []
    for muscle in _MUSCLES:
        reference = np.mean([spread(name, muscle) for name in REFERENCE])
        shares.append([spread(name, muscle) - reference for name in ch_names])
    return np.array(shares).T


def muscle_bursts(
    rng: np.random.Generator, patterns: np.ndarray, per_min: float, sfreq: float, n_times: int
) -> np.ndarray:
    """Return bursts of muscle activity at random times (Poisson, ``per_min`` a minute).

    ``patterns`` (n_channels, 2) is the potential (V RMS) of a mean burst of the left and right
    temporalis. Each burst lasts 0.5-3 s, involves the left, the right or both muscles, varies
    in size by ±50 % and is broadband (20-150 Hz, up to 0.45 times the sampling rate).
    """
    n_bursts = rng.poisson(per_min * n_times / sfreq / 60.0)
    onsets = rng.integers(0, n_times, n_bursts)
    lengths = np.round(rng.uniform(*_MUSCLE_BURST_S, n_bursts) * sfreq).astype(int)
    sides = rng.choice(3, n_bursts, p=[0.4, 0.4, 0.2])  # left, right, both
    sizes = rng.uniform(0.5, 1.5, n_bursts)
    envelope = np.zeros((2, n_times))
    for onset, length, side, size in zip(onsets, lengths, sides, sizes, strict=True):
        stop = min(onset + length, n_times)
        rows = [0, 1] if side == 2 else [side]
        envelope[rows, onset:stop] += size * np.hanning(length)[: stop - onset]
    freqs = frequencies(n_times, sfreq)
    top = min(_MUSCLE_BAND_HZ[1], 0.45 * sfreq)
    band = ((freqs >= _MUSCLE_BAND_HZ[0]) & (freqs <= top)).astype(float)
    return patterns @ (envelope * shaped_noise(rng, band, 2, n_times))


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
