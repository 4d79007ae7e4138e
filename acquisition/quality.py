"""Per-channel signal quality: flat line, line noise, amplitude out of range, non-finite values.

Statistics are accumulated chunk by chunk (a few operations per sample, cheap enough for the
acquisition thread at sEEG channel counts) over blocks of ``window`` seconds; each completed
block gives a :class:`QualityReport`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# Peak-to-peak below which a channel counts as flat, per MNE type (SI units); stim never is.
_FLAT = {"mag": 1e-14, "grad": 1e-13, "misc": 0.0, "stim": -1.0}
_FLAT_VOLTS = 1e-7  # 0.1 µV
# Largest peak-to-peak amplitude within a block that is still plausible (SI units).
_RANGE = {
    "eeg": 1e-3,
    "eog": 4e-3,
    "emg": 20e-3,
    "ecg": 20e-3,
    "seeg": 10e-3,
    "ecog": 10e-3,
    "dbs": 10e-3,
    "mag": 2e-10,
    "grad": 2e-8,
}
_MAX_HARMONICS = 4


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the quality flags.

    Parameters
    ----------
    window : float
        Seconds of signal each report covers (a new report every ``window`` seconds).
    line_freq : float
        Power-line frequency in Hz (50 or 60); its first harmonics below Nyquist count too.
    line_ratio : float
        Share of a channel's variance carried by sinusoids at the line frequencies above
        which the channel is flagged line-noisy.
    flat : dict
        Peak-to-peak (SI) at or below which a channel of that type is flat; voltage types
        not listed use 0.1 µV.
    max_amplitude : dict
        Peak-to-peak amplitude (SI) above which a channel of that type is out of range
        (1 mV for EEG); types absent are never out of range.
    """

    window: float = 1.0
    line_freq: float = 50.0
    line_ratio: float = 0.5
    flat: dict[str, float] = field(default_factory=lambda: dict(_FLAT))
    max_amplitude: dict[str, float] = field(default_factory=lambda: dict(_RANGE))


@dataclass(frozen=True)
class QualityReport:
    """Quality flags of every channel over one block of signal.

    Parameters
    ----------
    time : float
        LSL local time at which the block ended.
    ch_names : tuple of str
        Channel names, in the order of the arrays.
    flat, line_noisy, out_of_range, non_finite : ndarray of bool
        One flag per channel.
    line_noise : ndarray of float
        Share of each channel's variance at the line frequencies (0 to 1).
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


class QualityTracker:
    """Quality of a live stream, block after block.

    Parameters
    ----------
    ch_names, ch_types : sequence of str
        Names and MNE types of the channels.
    sfreq : float
        Sampling rate in Hz.
    settings : QualitySettings, optional
        Thresholds (defaults when None).
    block : int, optional
        Samples per report (default: ``settings.window`` seconds).
    """

    def __init__(
        self,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
        settings: QualitySettings | None = None,
        *,
        block: int | None = None,
    ) -> None:
        self.settings = settings or QualitySettings()
        self.ch_names = tuple(ch_names)
        types = list(ch_types)
        self.block = block or max(2, round(self.settings.window * sfreq))
        self.report: QualityReport | None = None
        harmonics = np.arange(1, _MAX_HARMONICS + 1) * self.settings.line_freq
        self._omega = 2 * np.pi * harmonics[harmonics < sfreq / 2] / sfreq  # rad per sample
        self._flat_limit = np.array([self.settings.flat.get(t, _FLAT_VOLTS) for t in types])
        self._range_limit = np.array([self.settings.max_amplitude.get(t, np.inf) for t in types])
        self._measured = np.array([t not in ("stim", "misc") for t in types])
        self._start_block()

    def update(self, data: np.ndarray, time: float) -> QualityReport | None:
        """Add samples (n_channels, n_times); return a report when a block completes."""
        finished = None
        start = 0
        while start < data.shape[1]:
            stop = min(data.shape[1], start + self.block - self._count)
            self._add(np.asarray(data[:, start:stop], dtype=float))
            start = stop
            if self._count == self.block:
                finished = self.report = self._finish(time)
                self._start_block()
        return finished

    def _start_block(self) -> None:
        n_channels = len(self.ch_names)
        self._count = 0
        self._low = np.full(n_channels, np.inf)
        self._high = np.full(n_channels, -np.inf)
        self._sum = np.zeros(n_channels)
        self._squares = np.zeros(n_channels)
        self._cos = np.zeros((n_channels, self._omega.size))
        self._sin = np.zeros((n_channels, self._omega.size))
        self._non_finite = np.zeros(n_channels, dtype=bool)

    def _add(self, data: np.ndarray) -> None:
        finite = np.isfinite(data)
        if not finite.all():
            self._non_finite |= ~finite.all(axis=1)
            data = np.where(finite, data, 0.0)
        phase = np.outer(self._count + np.arange(data.shape[1]), self._omega)
        self._cos += data @ np.cos(phase)
        self._sin += data @ np.sin(phase)
        self._low = np.minimum(self._low, data.min(axis=1))
        self._high = np.maximum(self._high, data.max(axis=1))
        self._sum += data.sum(axis=1)
        self._squares += np.einsum("ij,ij->i", data, data)
        self._count += data.shape[1]

    def _finish(self, time: float) -> QualityReport:
        n = self._count
        mean = self._sum / n
        variance = np.maximum(self._squares / n - mean * mean, 0.0)
        # Power of the sinusoid at each line harmonic (amplitude² / 2), from its projection.
        line_power = (2.0 / n**2) * (self._cos**2 + self._sin**2).sum(axis=1)
        share = np.divide(
            line_power, variance, out=np.zeros_like(variance), where=variance > 0
        ).clip(0.0, 1.0)
        peak_to_peak = self._high - self._low
        flat = (peak_to_peak <= self._flat_limit) & ~self._non_finite
        return QualityReport(
            time=time,
            ch_names=self.ch_names,
            flat=flat,
            line_noisy=self._measured & ~flat & (share > self.settings.line_ratio),
            out_of_range=peak_to_peak > self._range_limit,
            non_finite=self._non_finite.copy(),
            line_noise=share,
        )


def assess_quality(
    data: np.ndarray,
    ch_names: Sequence[str],
    ch_types: Sequence[str],
    sfreq: float,
    settings: QualitySettings | None = None,
    *,
    time: float = 0.0,
) -> QualityReport:
    """Assess each channel of a stretch of signal (n_channels, n_times) in SI units."""
    tracker = QualityTracker(ch_names, ch_types, sfreq, settings, block=data.shape[1])
    report = tracker.update(data, time)
    if report is None:
        raise ValueError("quality needs at least one sample")
    return report
