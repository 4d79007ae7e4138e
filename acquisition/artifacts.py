"""Causal artefact measures per channel, accumulated chunk by chunk over quality blocks.

Four measures, each a few operations per sample (cheap enough at 256 channels and 2 kHz) and
each in units a clinician reads:

- eye deflection (µV): peak-to-peak of the 0.5-6 Hz band (causal Butterworth) within the
  block, on the eye channels (EOG, frontal EEG): blinks and eye movements;
- muscle (dB): power above ``muscle_hz`` (causal Butterworth high-pass, line harmonics
  projected out) against the channel's own median of the last ``baseline_s`` seconds of
  blocks (so a channel's steady high-frequency floor is not muscle);
- jump (µV): largest change between the means of consecutive 5 ms segments: electrode pops
  and steps, which the slower blinks and the faster muscle activity do not reach;
- drift (µV/s): slope of the least-squares line through the last ``drift_s`` seconds of
  block means (at least three blocks);
- saturation (%): share of samples sitting at the block's maximum or minimum value (an
  amplifier's rail, or a channel clipped by the recording).

Eye deflections are measured on the eye channels; the other measures on scalp EEG channels
(an EOG channel's blinks would read as jumps and drift; intracranial signals are ten times
larger and their artefacts are not these), and
a channel's drift is not counted while it recovers from a jump of the last ``drift_s``
seconds (a pop's decay). Channels not measured report NaN.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

VOLTAGE_TYPES = ("eeg",)
EYE_BAND_HZ = (0.5, 6.0)
JUMP_SEGMENT_S = 0.005
_FRONTAL_PREFIXES = ("fp", "af")
_FRONTAL_NAMES = {"f7", "f8", "f9", "f10", "nz"}


def eye_channels(ch_names: Sequence[str], ch_types: Sequence[str]) -> list[int]:
    """Return the channels watched for eye artefacts: EOG and frontal EEG (by 10-20 name).

    When a recording has neither, every EEG channel is watched.
    """
    chosen = [
        index
        for index, (name, kind) in enumerate(zip(ch_names, ch_types, strict=True))
        if kind == "eog"
        or (
            kind == "eeg"
            and (name.lower().startswith(_FRONTAL_PREFIXES) or name.lower() in _FRONTAL_NAMES)
        )
    ]
    return chosen or [i for i, kind in enumerate(ch_types) if kind == "eeg"]


@dataclass(frozen=True)
class ArtifactMeasures:
    """One block's artefact measures per channel (NaN where not measured)."""

    eye_uv: np.ndarray
    muscle_db: np.ndarray
    jump_uv: np.ndarray
    drift_uv_per_s: np.ndarray
    saturation_percent: np.ndarray
    recovering: np.ndarray
    """True on channels that jumped within the drift history (a pop's step and decay)."""


class ArtifactMeter:
    """Accumulates the artefact measures of one block at a time, with filter state carried.

    Parameters
    ----------
    ch_names, ch_types : sequence of str
        Channels.
    sfreq : float
        Sampling rate in Hz.
    muscle_hz : float
        Lower edge of the muscle band (Hz).
    line_freqs : sequence of float
        Line frequency and harmonics (Hz) projected out of the muscle band.
    drift_s : float
        Seconds of block means the drift slope is fitted over.
    baseline_s : float
        Seconds of blocks whose median high-frequency power is the muscle baseline.
    block_s : float
        Seconds per block.
    eye : sequence of int, optional
        Indices of the eye channels (default :func:`eye_channels`).
    """

    def __init__(
        self,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
        *,
        muscle_hz: float,
        line_freqs: Sequence[float],
        drift_s: float,
        baseline_s: float,
        block_s: float,
        eye: Sequence[int] | None = None,
    ) -> None:
        from scipy.signal import butter

        n_channels = len(ch_names)
        self.sfreq = sfreq
        self.voltage = np.array([kind in VOLTAGE_TYPES for kind in ch_types])
        self._picks = np.flatnonzero(self.voltage)
        chosen = eye_channels(ch_names, ch_types) if eye is None else list(eye)
        self.eye = np.zeros(n_channels, dtype=bool)
        self.eye[chosen] = True
        self._eye_picks = np.flatnonzero(self.eye & (self.voltage | (np.array(ch_types) == "eog")))
        nyquist = sfreq / 2
        self._eye_sos = butter(2, EYE_BAND_HZ, "bandpass", fs=sfreq, output="sos")
        self._muscle = muscle_hz < 0.9 * nyquist
        self._muscle_sos = butter(
            4, min(muscle_hz, 0.45 * sfreq), "highpass", fs=sfreq, output="sos"
        )
        self._line = np.array([f for f in line_freqs if muscle_hz < f < nyquist])
        self._segment = max(1, round(JUMP_SEGMENT_S * sfreq))
        self._history: deque[np.ndarray] = deque(maxlen=max(3, round(drift_s / block_s)))
        self._jumped: deque[np.ndarray] = deque(maxlen=self._history.maxlen)
        self._high_history: deque[np.ndarray] = deque(maxlen=max(3, round(baseline_s / block_s)))
        self._block_s = block_s
        self._eye_state: np.ndarray | None = None
        self._muscle_state: np.ndarray | None = None
        self._carry = np.zeros((self._picks.size, 0))
        self._last_segment: np.ndarray | None = None
        self._start_block()

    def _start_block(self) -> None:
        n = self._picks.size
        self._count = 0
        self._eye_low = np.full(self._eye_picks.size, np.inf)
        self._eye_high = np.full(self._eye_picks.size, -np.inf)
        self._high_power = np.zeros(n)
        self._line_cos = np.zeros((n, self._line.size))
        self._line_sin = np.zeros((n, self._line.size))
        self._jump = np.zeros(n)
        self._sum = np.zeros(n)
        self._max = np.full(n, -np.inf)
        self._min = np.full(n, np.inf)
        self._at_max = np.zeros(n)
        self._at_min = np.zeros(n)

    def add(self, data: np.ndarray) -> None:
        """Add samples (n_channels, n_times) of the current block (finite values)."""
        from scipy.signal import sosfilt, sosfilt_zi

        volts = data[self._picks]
        n_times = volts.shape[1]
        if n_times == 0 or volts.shape[0] == 0:
            self._count += n_times
            return
        if self._eye_picks.size:
            eye = data[self._eye_picks]
            if self._eye_state is None:
                self._eye_state = sosfilt_zi(self._eye_sos)[:, None, :] * eye[:, 0][None, :, None]
            band, self._eye_state = sosfilt(self._eye_sos, eye, axis=1, zi=self._eye_state)
            self._eye_low = np.minimum(self._eye_low, band.min(axis=1))
            self._eye_high = np.maximum(self._eye_high, band.max(axis=1))
        if self._muscle:
            if self._muscle_state is None:
                zi = sosfilt_zi(self._muscle_sos)
                self._muscle_state = zi[:, None, :] * volts[:, 0][None, :, None]
            high, self._muscle_state = sosfilt(
                self._muscle_sos, volts, axis=1, zi=self._muscle_state
            )
            self._high_power += np.einsum("ij,ij->i", high, high)
            if self._line.size:
                phase = np.outer(
                    self._count + np.arange(n_times), 2 * np.pi * self._line / self.sfreq
                )
                self._line_cos += high @ np.cos(phase)
                self._line_sin += high @ np.sin(phase)
        self._add_jumps(volts)
        self._add_extremes(volts)
        self._sum += volts.sum(axis=1)
        self._count += n_times

    def _add_jumps(self, volts: np.ndarray) -> None:
        joined = np.concatenate([self._carry, volts], axis=1)
        whole = joined.shape[1] // self._segment * self._segment
        self._carry = joined[:, whole:]
        if whole == 0:
            return
        means = joined[:, :whole].reshape(joined.shape[0], -1, self._segment).mean(axis=2)
        if self._last_segment is not None:
            means = np.concatenate([self._last_segment[:, None], means], axis=1)
        if means.shape[1] > 1:
            self._jump = np.maximum(self._jump, np.abs(np.diff(means, axis=1)).max(axis=1))
        self._last_segment = means[:, -1]

    def _add_extremes(self, volts: np.ndarray) -> None:
        high, low = volts.max(axis=1), volts.min(axis=1)
        at_high = (volts == high[:, None]).sum(axis=1)
        at_low = (volts == low[:, None]).sum(axis=1)
        self._at_max = np.where(
            high > self._max, at_high, self._at_max + (high == self._max) * at_high
        )
        self._at_min = np.where(low < self._min, at_low, self._at_min + (low == self._min) * at_low)
        self._max, self._min = np.maximum(self._max, high), np.minimum(self._min, low)

    def finish(self, jump_uv: float) -> ArtifactMeasures:
        """Return the block's measures and start the next block.

        ``jump_uv`` is the jump threshold: drift is not measured on a channel that jumped
        within the drift history.
        """
        n_channels = self.voltage.size
        measures = {
            name: np.full(n_channels, np.nan)
            for name in ("eye", "muscle", "jump", "drift", "saturation")
        }
        count = max(self._count, 1)
        if self._eye_picks.size and np.isfinite(self._eye_high).all():
            measures["eye"][self._eye_picks] = (self._eye_high - self._eye_low) * 1e6
        mean = self._sum / count
        if self._muscle and self._picks.size:
            line = (2.0 / count**2) * (self._line_cos**2 + self._line_sin**2).sum(axis=1)
            high = np.maximum(self._high_power / count - line, 1e-30)
            if len(self._high_history) >= 3:
                baseline = np.median(np.array(self._high_history), axis=0)
                measures["muscle"][self._picks] = 10.0 * np.log10(high / baseline)
            self._high_history.append(high)
        measures["jump"][self._picks] = self._jump * 1e6
        self._history.append(mean)
        self._jumped.append(self._jump * 1e6 > jump_uv)
        if len(self._history) >= 3:
            means = np.array(self._history)
            times = (np.arange(len(means)) - (len(means) - 1) / 2) * self._block_s
            slope = np.abs(times @ (means - means.mean(axis=0)) / (times @ times)) * 1e6
            measures["drift"][self._picks] = np.where(np.any(self._jumped, axis=0), 0.0, slope)
        recovering = np.zeros(n_channels, dtype=bool)
        recovering[self._picks] = np.any(self._jumped, axis=0)
        flat = self._max <= self._min
        share = np.where(flat, 0.0, (self._at_max + self._at_min) / count)
        measures["saturation"][self._picks] = 100.0 * share
        self._start_block()
        return ArtifactMeasures(
            measures["eye"],
            measures["muscle"],
            measures["jump"],
            measures["drift"],
            measures["saturation"],
            recovering,
        )
