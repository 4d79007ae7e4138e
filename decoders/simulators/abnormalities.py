"""Abnormal EEG features, each the deviation of an abnormal recording from the normal one.

Kinds
-----
``focal_slowing``
    Polymorphic delta (1-4 Hz) from the focal dipole, in bursts of 2-8 s every 2-10 s (at most
    150 µV at any electrode).
``spikes``
    Interictal epileptiform discharges from the focal dipole at random times: a spike or sharp
    wave of 20-70 ms (surface-negative at the nearest electrode) and an after-going slow wave
    of 150-300 ms (spikes at most 250 µV at any electrode).
``asymmetry``
    Alpha and beta attenuated over the lesion's hemisphere (at most 90 % of their amplitude).
``diffuse_slowing``
    A share of the posterior rhythm's amplitude moved from its normal peak to 6-8 Hz, with
    spatially diffuse theta growing alongside (at most the whole rhythm).

SNR
---
Each feature's SNR is 10 log10(P_feature / P_background), both powers in the kind's band
(:data:`BANDS_HZ`), summed over channels and measured where the feature is expressed (during
bursts; from 0.1 s before to 0.4 s after each spike; the whole recording otherwise). The
background is the normal resting EEG with sensor noise; artefacts are not counted. Each
feature is scaled on the recording to its target SNR, within the caps above, and the SNR it
reaches is stated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .resting_eeg import RestingEEG, RestingRecording, Rhythm
from .signals import band_power, frequencies, on_off_course, peak_spectrum, shaped_noise

KINDS = ("focal_slowing", "spikes", "asymmetry", "diffuse_slowing")
"""Every kind of abnormality the simulator knows."""

BANDS_HZ = {
    "focal_slowing": (1.0, 4.0),
    "spikes": (1.0, 30.0),
    "asymmetry": (8.0, 30.0),
    "diffuse_slowing": (4.0, 8.0),
}
"""The band in which each kind's SNR is stated."""

_BURST_S, _PAUSE_S = (2.0, 8.0), (2.0, 10.0)
_SPIKE_S, _SLOW_WAVE_S = (0.020, 0.070), (0.150, 0.300)
_SPIKE_WINDOW_S = (-0.1, 0.4)
_MIN_SPIKE_GAP_S = 0.7
_SLOWED_ALPHA_HZ = (6.0, 8.0)
_MAX_STRENGTH = {"asymmetry": 0.9, "diffuse_slowing": 1.0}
_MAX_PEAK_UV = {"focal_slowing": 150.0, "spikes": 250.0}


@dataclass(frozen=True)
class Lesion:
    """Where an abnormal subject's focal features come from.

    Attributes
    ----------
    pattern : ndarray, shape (n_channels,)
        Potential (V) of the focal dipole at unit moment, signed so that it is positive at the
        nearest electrode.
    side : int
        Hemisphere of the focus: 0 left, 1 right.
    """

    pattern: np.ndarray
    side: int


@dataclass(frozen=True)
class Abnormality:
    """One abnormal feature of one recording.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    signal : ndarray, shape (n_channels, n_times)
        The feature at the sensors, in volts.
    active : ndarray of bool, shape (n_times,)
        Where the feature is expressed (its SNR is measured there).
    snr_db : float
        The SNR it reaches (see the module docstring).
    strength : float
        Scale reached: the feature's amplitude relative to a full attenuation (asymmetry) or
        a full shift (diffuse slowing); ampere-metres of the focal dipole otherwise.
    events_s : tuple of float
        Peak times of the spikes.
    intervals_s : tuple of (float, float)
        Bursts of focal slowing.
    """

    kind: str
    signal: np.ndarray
    active: np.ndarray
    snr_db: float
    strength: float
    events_s: tuple[float, ...] = ()
    intervals_s: tuple[tuple[float, float], ...] = ()


def feature_snr_db(
    feature: np.ndarray, background: np.ndarray, active: np.ndarray, sfreq: float, kind: str
) -> float:
    """Return the SNR (dB) of ``feature`` over ``background`` where ``active``, in the kind's band."""
    band = BANDS_HZ[kind]
    ratio = band_power(feature[:, active], sfreq, band) / band_power(
        background[:, active], sfreq, band
    )
    return float(10.0 * np.log10(ratio))


def simulate_abnormality(
    kind: str,
    rng: np.random.Generator,
    target_db: float,
    context: tuple[RestingEEG, RestingRecording, Lesion],
    sfreq: float,
    spikes_per_min: float,
) -> Abnormality:
    """Return the abnormality ``kind`` of one recording, scaled to ``target_db`` where allowed.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    rng : numpy.random.Generator
        Source of randomness.
    target_db : float
        SNR to reach (see the module docstring).
    context : tuple
        The subject's resting EEG, the recording's resting EEG and the subject's lesion.
    sfreq : float
        Sampling rate in Hz.
    spikes_per_min : float
        Mean rate of spikes.
    """
    resting, recording, lesion = context
    n_times = recording.signals.shape[1]
    events: tuple[float, ...] = ()
    intervals: tuple[tuple[float, float], ...] = ()
    if kind == "focal_slowing":
        burst, intervals = on_off_course(rng, sfreq, n_times, _BURST_S, _PAUSE_S)
        spectrum = peak_spectrum(frequencies(n_times, sfreq), 2.0, 0.8)
        unit = np.outer(lesion.pattern, shaped_noise(rng, spectrum, 1, n_times)[0] * burst)
        active = burst > 0.5
    elif kind == "spikes":
        events = _spike_times(rng, spikes_per_min, n_times / sfreq)
        unit = np.outer(lesion.pattern, _spike_train(rng, events, sfreq, n_times))
        active = _around(events, _SPIKE_WINDOW_S, sfreq, n_times)
    elif kind == "asymmetry":
        side = slice(lesion.side, lesion.side + 1)
        unit = -(
            resting.alpha.patterns[:, side] @ recording.alpha_moments[side]
            + resting.beta.patterns[:, side] @ recording.beta_moments[side]
        )
        active = np.ones(n_times, dtype=bool)
    elif kind == "diffuse_slowing":
        unit = _slowing(rng, resting, recording, sfreq)
        active = np.ones(n_times, dtype=bool)
    else:
        raise ValueError(f"unknown abnormality {kind!r} (known: {', '.join(KINDS)})")
    background = recording.signals
    reached_db = feature_snr_db(unit, background, active, sfreq, kind)
    largest = _MAX_STRENGTH.get(kind) or _MAX_PEAK_UV[kind] * 1e-6 / np.abs(unit).max()
    strength = min(10 ** ((target_db - reached_db) / 20), largest)
    signal = strength * unit
    snr_db = feature_snr_db(signal, background, active, sfreq, kind)
    return Abnormality(kind, signal, active, snr_db, float(strength), events, intervals)


def _spike_times(rng: np.random.Generator, per_min: float, duration_s: float) -> tuple[float, ...]:
    """Return at least one random spike time, Poisson, ``per_min`` a minute, 0.7 s apart or more."""
    count = max(1, rng.poisson(per_min * duration_s / 60.0))
    times = np.sort(rng.uniform(0.5, duration_s - 0.5, count))
    kept = [times[0]]
    for time in times[1:]:
        if time - kept[-1] >= _MIN_SPIKE_GAP_S:
            kept.append(time)
    return tuple(float(time) for time in kept)


def _spike_train(
    rng: np.random.Generator, times_s: tuple[float, ...], sfreq: float, n_times: int
) -> np.ndarray:
    """Return the moment course of spike-and-slow-wave complexes peaking at ``times_s``.

    Each complex: a negative spike (Gaussian lasting 20-70 ms), a small positive rebound, and a
    negative half-wave of 150-300 ms at 35-50 % of the spike; sizes vary by ±30 %.
    """
    train = np.zeros(n_times)
    t = np.arange(n_times) / sfreq
    for peak in times_s:
        width, wave_s = rng.uniform(*_SPIKE_S), rng.uniform(*_SLOW_WAVE_S)
        size, wave_size = rng.uniform(0.7, 1.3), rng.uniform(0.35, 0.5)
        first = max(round((peak - 0.1) * sfreq), 0)
        last = min(round((peak + width + wave_s + 0.1) * sfreq), n_times)
        u = t[first:last] - peak
        spike = -np.exp(-0.5 * (u / (width / 4)) ** 2)
        rebound = 0.2 * np.exp(-0.5 * ((u - 0.6 * width) / (width / 3)) ** 2)
        phase = (u - width / 2) / wave_s
        wave = -wave_size * np.sin(np.pi * np.clip(phase, 0.0, 1.0))
        train[first:last] += size * (spike + rebound + wave)
    return train


def _around(
    times_s: tuple[float, ...], window_s: tuple[float, float], sfreq: float, n_times: int
) -> np.ndarray:
    """Return a mask of the samples within ``window_s`` of any of ``times_s``."""
    mask = np.zeros(n_times, dtype=bool)
    for time in times_s:
        mask[max(round((time + window_s[0]) * sfreq), 0) : round((time + window_s[1]) * sfreq)] = 1
    return mask


def _slowing(
    rng: np.random.Generator, resting: RestingEEG, recording: RestingRecording, sfreq: float
) -> np.ndarray:
    """Return the full diffuse slowing: slowed alpha instead of alpha, plus diffuse theta.

    The slowed alpha has the generators, power and reactivity of the normal one at a peak of
    6-8 Hz; diffuse theta (4-7 Hz, spread like the 1/f activity) carries half its power.
    """
    n_channels, n_times = recording.signals.shape
    alpha = resting.alpha
    slowed = Rhythm(alpha.patterns, rng.uniform(*_SLOWED_ALPHA_HZ), alpha.width_hz)
    slowed_moments = slowed.moments(rng, sfreq, n_times) * recording.alpha_gain
    spectrum = peak_spectrum(frequencies(n_times, sfreq), 5.5, 1.0)
    theta = resting.mixing @ shaped_noise(rng, spectrum, n_channels, n_times)
    theta *= np.sqrt(0.5 * np.sum(alpha.patterns**2) / np.sum(resting.mixing**2))
    return alpha.patterns @ (slowed_moments - recording.alpha_moments) + theta
