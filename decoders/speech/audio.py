"""Sound files: read with their rate checked, mixed onto a recording's timeline as presented."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from decoders.datasets.errors import DataError

SIDECAR_RATE = "SamplingFrequency"
"""Key of a sound's JSON sidecar (``<sound>.json``) declaring its sampling rate in Hz."""


@dataclass(frozen=True)
class Sound:
    """One mono sound, as played.

    Parameters
    ----------
    name : str
        How the data set names it (its path relative to the data set, e.g.
        ``stimuli/sentence_001.wav``).
    samples : ndarray, shape (n_samples,)
        Pressure waveform, float, full scale 1.
    sfreq : float
        Sampling rate in Hz.
    """

    name: str
    samples: np.ndarray
    sfreq: float

    @property
    def duration_s(self) -> float:
        """Return the length in seconds."""
        return len(self.samples) / self.sfreq


def read_sound(path: Path, name: str | None = None, declared_sfreq: float | None = None) -> Sound:
    """Read a sound file (WAV, FLAC, OGG) as mono, checking its rate against the declared one.

    The rate is declared by ``declared_sfreq`` or, when that is None, by a JSON sidecar beside
    the file (``<stem>.json`` with ``SamplingFrequency``), when one exists.

    Raises
    ------
    DataError
        When the file is missing or unreadable, or its rate differs from the declared one.
    """
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "sound file missing")
    try:
        samples, sfreq = soundfile.read(path, dtype="float64", always_2d=True)
    except Exception as error:  # any parse failure is the file's
        raise DataError(path, f"cannot be read as a sound file: {error}") from error
    declared = declared_sfreq if declared_sfreq is not None else _sidecar_rate(path)
    if declared is not None and not np.isclose(sfreq, declared):
        raise DataError(
            path, f"sampled at {sfreq:g} Hz, but its rate is declared as {declared:g} Hz"
        )
    if samples.shape[0] == 0:
        raise DataError(path, "the sound file holds no samples")
    return Sound(name or path.name, samples.mean(axis=1), float(sfreq))


def _sidecar_rate(path: Path) -> float | None:
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        return None
    try:
        return float(json.loads(sidecar.read_text())[SIDECAR_RATE])
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(sidecar, f"has no readable {SIDECAR_RATE} ({error!r})") from error


def resample(samples: np.ndarray, sfreq: float, target: float) -> np.ndarray:
    """Return ``samples`` resampled from ``sfreq`` to ``target`` Hz (polyphase, anti-aliased)."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    if np.isclose(sfreq, target):
        return np.asarray(samples, dtype=float)
    ratio = Fraction(target / sfreq).limit_denominator(1000)
    return resample_poly(samples, ratio.numerator, ratio.denominator, axis=-1)


@dataclass(frozen=True)
class Presentation:
    """A sound played at a time of a recording (seconds from its first sample)."""

    onset_s: float
    sound: Sound

    @property
    def offset_s(self) -> float:
        """Return when the sound ended."""
        return self.onset_s + self.sound.duration_s
