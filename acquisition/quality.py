"""Per-channel signal quality: flat line, line noise, amplitude out of range, non-finite values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# Peak-to-peak below which a channel counts as flat, per MNE type (SI units).
_FLAT = {"mag": 1e-14, "grad": 1e-13, "misc": 0.0, "stim": -1.0}
_FLAT_VOLTS = 1e-7  # 0.1 µV
# Largest absolute deviation from the channel median that is still plausible (SI units).
_RANGE = {
    "eeg": 500e-6,
    "eog": 2e-3,
    "emg": 10e-3,
    "ecg": 10e-3,
    "seeg": 5e-3,
    "ecog": 5e-3,
    "dbs": 5e-3,
    "mag": 1e-10,
    "grad": 1e-8,
}


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the quality flags.

    Parameters
    ----------
    window : float
        Seconds of the most recent signal assessed.
    line_freq : float
        Power-line frequency in Hz (50 or 60); its harmonics below Nyquist count too.
    line_ratio : float
        Share of a channel's power (above 1 Hz) within 1 Hz of the line frequencies above
        which the channel is flagged line-noisy.
    flat : dict
        Peak-to-peak (SI) below which a channel of that type is flat; other voltage types
        use 0.1 µV.
    max_amplitude : dict
        Absolute deviation from the channel median (SI) above which a channel of that type
        is out of range; types absent are never out of range.
    """

    window: float = 2.0
    line_freq: float = 50.0
    line_ratio: float = 0.5
    flat: dict[str, float] = field(default_factory=lambda: dict(_FLAT))
    max_amplitude: dict[str, float] = field(default_factory=lambda: dict(_RANGE))


@dataclass(frozen=True)
class QualityReport:
    """Quality flags of every channel at one moment.

    Parameters
    ----------
    time : float
        LSL local time of the assessment.
    ch_names : tuple of str
        Channel names, in the order of the arrays.
    flat, line_noisy, out_of_range, non_finite : ndarray of bool
        One flag per channel.
    line_noise : ndarray of float
        Share of each channel's power at the line frequencies (0 to 1).
    """

    time: float
    ch_names: tuple[str, ...]
    flat: np.ndarray
    line_noisy: np.ndarray
    out_of_range: np.ndarray
    non_finite: np.ndarray
    line_noise: np.ndarray

    @property
    def bad(self) -> np.ndarray:
        """Return the channel-is-bad flag: any problem found."""
        return self.flat | self.line_noisy | self.out_of_range | self.non_finite

    @property
    def bad_channels(self) -> list[str]:
        """Return the names of the bad channels."""
        return [name for name, bad in zip(self.ch_names, self.bad, strict=True) if bad]

    def reasons(self, ch_name: str) -> list[str]:
        """Return why one channel is flagged (empty when it is good)."""
        index = self.ch_names.index(ch_name)
        flags = {
            "flat": self.flat,
            "line noise": self.line_noisy,
            "out of range": self.out_of_range,
            "NaN/Inf": self.non_finite,
        }
        return [reason for reason, values in flags.items() if values[index]]


def assess_quality(
    data: np.ndarray,
    ch_names: Sequence[str],
    ch_types: Sequence[str],
    sfreq: float,
    settings: QualitySettings | None = None,
    *,
    time: float = 0.0,
) -> QualityReport:
    """Assess each channel of a stretch of signal.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        The most recent signal, in SI units.
    ch_names, ch_types : sequence of str
        Names and MNE types of the channels.
    sfreq : float
        Sampling rate in Hz.
    settings : QualitySettings, optional
        Thresholds (defaults when None).
    time : float
        Time stamped on the report.
    """
    settings = settings or QualitySettings()
    types = list(ch_types)
    non_finite = ~np.isfinite(data).all(axis=1)
    clean = np.where(np.isfinite(data), data, 0.0).astype(float)
    flat_limit = np.array([settings.flat.get(t, _FLAT_VOLTS) for t in types])
    flat = (np.ptp(clean, axis=1) <= flat_limit) & ~non_finite
    limits = np.array([settings.max_amplitude.get(t, np.inf) for t in types])
    deviation = np.abs(clean - np.median(clean, axis=1, keepdims=True)).max(axis=1)
    out_of_range = deviation > limits
    line_noise = _line_share(clean, sfreq, settings.line_freq)
    measured = np.array([t not in ("stim", "misc") for t in types]) & ~flat
    line_noisy = measured & (line_noise > settings.line_ratio)
    return QualityReport(
        time, tuple(ch_names), flat, line_noisy, out_of_range, non_finite, line_noise
    )


def _line_share(data: np.ndarray, sfreq: float, line_freq: float) -> np.ndarray:
    """Return each channel's share of power (above 1 Hz) within 1 Hz of the line harmonics."""
    n_times = data.shape[1]
    if n_times < 4:
        return np.zeros(data.shape[0])
    taper = np.hanning(n_times)
    power = np.abs(np.fft.rfft((data - data.mean(axis=1, keepdims=True)) * taper, axis=1)) ** 2
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    harmonics = np.arange(line_freq, sfreq / 2, line_freq)
    near_line = (np.abs(freqs[:, None] - harmonics[None, :]) <= 1.0).any(axis=1)
    above = freqs >= 1.0
    total = power[:, above].sum(axis=1)
    share = power[:, near_line & above].sum(axis=1)
    return np.divide(share, total, out=np.zeros_like(share), where=total > 0)
