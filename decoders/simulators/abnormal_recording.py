"""One simulated clinical recording, normal or abnormal, kept as its components (the ground truth)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .abnormalities import Abnormality, feature_snr_db
from .recording import eeg_raw

if TYPE_CHECKING:
    import mne

NORMAL, ABNORMAL = "normal", "abnormal"
CLASSES = (NORMAL, ABNORMAL)


@dataclass(frozen=True)
class AbnormalRecording:
    """A simulated recording: background, abnormal features and artefacts, in volts.

    Attributes
    ----------
    background : ndarray, shape (n_channels, n_times)
        Normal resting EEG and sensor noise.
    abnormalities : tuple of Abnormality
        The abnormal features (none in a normal recording).
    artifacts : ndarray, shape (n_channels, n_times)
        Eye blinks, muscle bursts and line noise.
    ch_names : tuple of str
        10-20 channel names.
    sfreq : float
        Sampling rate in Hz.
    label : str
        ``normal`` or ``abnormal``.
    subject, index : int
        Subject and recording (session) index.
    focus_electrode : str
        The electrode nearest to the subject's focal dipole.
    periods_s : dict of str to tuple
        Eyes-open and drowsy periods, in seconds.
    description : str
        What was simulated, with its seed, subject, recording and stated SNR.
    line_freq : float, optional
        Power-line frequency, when line noise was simulated.
    """

    background: np.ndarray
    abnormalities: tuple[Abnormality, ...]
    artifacts: np.ndarray
    ch_names: tuple[str, ...]
    sfreq: float
    label: str
    subject: int
    index: int
    focus_electrode: str
    periods_s: dict[str, tuple[tuple[float, float], ...]]
    description: str
    line_freq: float | None

    @property
    def signals(self) -> np.ndarray:
        """Return the recorded signals: the sum of the components (n_channels, n_times)."""
        signals = self.background + self.artifacts
        for abnormality in self.abnormalities:
            signals = signals + abnormality.signal
        return signals

    @property
    def kinds(self) -> tuple[str, ...]:
        """Return the kinds of abnormality present."""
        return tuple(abnormality.kind for abnormality in self.abnormalities)

    def snr_db(self) -> dict[str, float]:
        """Return each feature's SNR (dB) measured from the components (see :mod:`.abnormalities`)."""
        return {
            item.kind: feature_snr_db(
                item.signal, self.background, item.active, self.sfreq, item.kind
            )
            for item in self.abnormalities
        }

    def truth(self) -> dict[str, object]:
        """Return the ground truth as plain values (JSON-ready)."""
        index = self.ch_names.index(self.focus_electrode)
        features = {}
        for item in self.abnormalities:
            features[item.kind] = {
                "snr_db": round(item.snr_db, 3),
                "strength": item.strength,
                "peak_uv_at_focus": round(float(np.abs(item.signal[index]).max() * 1e6), 2),
                "peak_uv": round(float(np.abs(item.signal).max() * 1e6), 2),
            }
            if item.events_s:
                features[item.kind]["times_s"] = [round(t, 4) for t in item.events_s]
            if item.intervals_s:
                features[item.kind]["intervals_s"] = _rounded(item.intervals_s)
        return {
            "label": self.label,
            "subject": self.subject,
            "recording": self.index,
            "sfreq": self.sfreq,
            "duration_s": self.background.shape[1] / self.sfreq,
            "kinds": list(self.kinds),
            "focus_electrode": self.focus_electrode if self.abnormalities else None,
            "abnormalities": features,
            "periods_s": {name: _rounded(spans) for name, spans in self.periods_s.items()},
        }

    def to_raw(self) -> mne.io.RawArray:
        """Return the recording as :class:`mne.io.RawArray`, spikes and slowing bursts annotated."""
        import mne

        raw = eeg_raw(self.signals, self.ch_names, self.sfreq, self.line_freq, self.description)
        onsets, durations, names = [], [], []
        for item in self.abnormalities:
            onsets += list(item.events_s) + [start for start, _ in item.intervals_s]
            durations += [0.0] * len(item.events_s)
            durations += [stop - start for start, stop in item.intervals_s]
            names += [item.kind] * (len(item.events_s) + len(item.intervals_s))
        raw.set_annotations(mne.Annotations(onsets, durations, names))
        return raw


def _rounded(spans: tuple[tuple[float, float], ...]) -> list[list[float]]:
    """Return periods as lists of start and stop rounded to milliseconds."""
    return [[round(start, 3), round(stop, 3)] for start, stop in spans]
