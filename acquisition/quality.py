"""Per-channel signal quality and artefacts, block by block.

Channel problems: flat line, line noise, amplitude out of range, non-finite values, drift,
saturation. Passing artefacts: eye blinks and movements, muscle, electrode pops and jumps.

Statistics are accumulated chunk by chunk (a few operations per sample, cheap enough for the
acquisition thread at 256 channels and 2 kHz) over blocks of ``window`` seconds; each completed
block gives a :class:`QualityReport`. Everything is causal: a block's report uses its own
samples and, for drift, the blocks before it. Artefact thresholds are in µV, µV/s, dB and %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from .artifacts import ArtifactMeter

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
    eye_uv : float
        Peak-to-peak of the 0.5-6 Hz band (µV) on an eye channel (EOG, frontal EEG) above
        which the block holds a blink or eye movement there.
    muscle_db : float
        Rise of the power above ``muscle_hz`` over the channel's median of the last
        ``baseline_s`` seconds (dB) above which the channel is flagged for muscle.
    muscle_hz : float
        Lower edge of the muscle band (Hz).
    jump_uv : float
        Change between consecutive 5 ms means (µV) above which a channel jumped (pop, step).
    drift_uv_per_s : float
        Slope of the channel's block means over the last ``drift_s`` seconds (µV/s) above
        which it drifts.
    drift_s : float
        Seconds of history the drift slope is fitted over.
    baseline_s : float
        Seconds of history of the muscle baseline.
    saturation_percent : float
        Share of a block's samples at its maximum or minimum value (%) above which the
        channel is saturated (clipped at a rail).
    eye_channels : tuple of str, optional
        Channels watched for eye artefacts (default: EOG and frontal EEG by 10-20 name, or
        every EEG channel when there are none).

    Raises
    ------
    ValueError
        For a threshold outside its range (named with the range).
    """

    window: float = 1.0
    line_freq: float = 50.0
    line_ratio: float = 0.5
    flat: dict[str, float] = field(default_factory=lambda: dict(_FLAT))
    max_amplitude: dict[str, float] = field(default_factory=lambda: dict(_RANGE))
    eye_uv: float = 120.0
    muscle_db: float = 6.0
    muscle_hz: float = 30.0
    jump_uv: float = 150.0
    drift_uv_per_s: float = 40.0
    drift_s: float = 4.0
    baseline_s: float = 30.0
    saturation_percent: float = 5.0
    eye_channels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for name, (low, high) in THRESHOLD_RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                unit = THRESHOLD_UNITS[name]
                raise ValueError(
                    f"quality threshold {name}={value} {unit} outside its range "
                    f"{low:g}..{high:g} {unit}"
                )

    @classmethod
    def from_options(cls, options: dict[str, float]) -> QualitySettings:
        """Return settings with ``options`` (threshold names to values) over the defaults."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(f"unknown quality setting(s) {unknown} (settable: {known})")
        return cls(**options)  # type: ignore[arg-type]


THRESHOLD_RANGES = {
    "window": (0.05, 60.0),
    "line_ratio": (0.0, 1.0),
    "eye_uv": (10.0, 5000.0),
    "muscle_db": (0.5, 40.0),
    "muscle_hz": (10.0, 500.0),
    "jump_uv": (10.0, 10000.0),
    "drift_uv_per_s": (1.0, 10000.0),
    "drift_s": (1.0, 600.0),
    "baseline_s": (2.0, 3600.0),
    "saturation_percent": (0.1, 100.0),
}
"""Allowed range of each settable threshold."""
THRESHOLD_UNITS = {
    "window": "s",
    "line_ratio": "",
    "eye_uv": "µV",
    "muscle_db": "dB",
    "muscle_hz": "Hz",
    "jump_uv": "µV",
    "drift_uv_per_s": "µV/s",
    "drift_s": "s",
    "baseline_s": "s",
    "saturation_percent": "%",
}
ARTIFACT_KINDS = ("eye", "muscle", "jump", "drift", "saturated")
"""The artefact flags of a report, per channel."""


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
    eye, muscle, jump, drift, saturated : ndarray of bool
        Artefact flags per channel (see :class:`QualitySettings` for their thresholds); a
        channel that jumped in the block is not also flagged for muscle, nor for eye or drift
        while it recovers (``drift_s`` seconds): a step rings in their bands.
    measures : dict of str to ndarray
        The measured values behind the artefact flags, per channel (NaN where not
        measured): ``eye_uv``, ``muscle_db``, ``jump_uv``, ``drift_uv_per_s``,
        ``saturation_percent``.
    """

    time: float
    ch_names: tuple[str, ...]
    flat: np.ndarray
    line_noisy: np.ndarray
    out_of_range: np.ndarray
    non_finite: np.ndarray
    line_noise: np.ndarray
    eye: np.ndarray = field(default=None)  # type: ignore[assignment]
    muscle: np.ndarray = field(default=None)  # type: ignore[assignment]
    jump: np.ndarray = field(default=None)  # type: ignore[assignment]
    drift: np.ndarray = field(default=None)  # type: ignore[assignment]
    saturated: np.ndarray = field(default=None)  # type: ignore[assignment]
    measures: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind in ARTIFACT_KINDS:
            if getattr(self, kind) is None:
                object.__setattr__(self, kind, np.zeros(len(self.ch_names), dtype=bool))

    @property
    def bad(self) -> np.ndarray:
        """Return the channel-is-bad flag: any problem of the channel itself (not artefacts)."""
        return (
            self.flat
            | self.line_noisy
            | self.out_of_range
            | self.non_finite
            | self.saturated
            | self.drift
        )

    @property
    def artifacts(self) -> np.ndarray:
        """Return the per-channel flag of a passing artefact (eye, muscle, jump)."""
        return self.eye | self.muscle | self.jump

    def window_flags(self) -> dict[str, bool]:
        """Return, per artefact kind, whether any channel of this block has it."""
        return {kind: bool(np.any(getattr(self, kind))) for kind in ARTIFACT_KINDS}

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
            "saturated": self.saturated,
            "drift": self.drift,
            "eye": self.eye,
            "muscle": self.muscle,
            "jump": self.jump,
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
        eye = self.settings.eye_channels
        self._artifacts = ArtifactMeter(
            self.ch_names,
            types,
            sfreq,
            muscle_hz=self.settings.muscle_hz,
            line_freqs=list(harmonics),
            drift_s=self.settings.drift_s,
            baseline_s=self.settings.baseline_s,
            block_s=self.block / sfreq,
            eye=None
            if eye is None
            else [self.ch_names.index(n) for n in eye if n in self.ch_names],
        )
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
        self._artifacts.add(data)

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
        measured = self._artifacts.finish(self.settings.jump_uv)
        settings = self.settings
        values = {
            "eye_uv": measured.eye_uv,
            "muscle_db": measured.muscle_db,
            "jump_uv": measured.jump_uv,
            "drift_uv_per_s": measured.drift_uv_per_s,
            "saturation_percent": measured.saturation_percent,
        }
        with np.errstate(invalid="ignore"):
            above = {
                name: np.nan_to_num(v, nan=-np.inf) > getattr(settings, name)
                for name, v in values.items()
            }
        return QualityReport(
            time=time,
            ch_names=self.ch_names,
            flat=flat,
            line_noisy=self._measured & ~flat & (share > settings.line_ratio),
            out_of_range=peak_to_peak > self._range_limit,
            non_finite=self._non_finite.copy(),
            line_noise=share,
            eye=above["eye_uv"] & ~measured.recovering,
            muscle=above["muscle_db"] & ~flat & ~above["jump_uv"],
            jump=above["jump_uv"],
            drift=above["drift_uv_per_s"],
            saturated=above["saturation_percent"] & ~flat,
            measures=values,
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
