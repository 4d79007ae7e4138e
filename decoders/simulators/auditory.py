"""Cortical responses to speech: temporal response functions of bilateral auditory sources.

Each hemisphere holds two auditory dipoles a centimetre apart (a low- and a high-frequency
region, as in tonotopic maps). Every dipole follows the compressed broadband envelope of the
speech and its onsets (the envelope's rising edges) through a P1-N1-P2-like temporal
response function (peaks near 50, 100 and 180 ms), and the spectrogram bands of its own
frequency range through a slower one; latencies and gains differ between subjects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from decoders.speech.features import envelope, log_mel

N_MELS = 16
N_BANDS = 4
"""Spectrogram bands (groups of mel bands), the lower half driving the low-frequency dipoles."""
TRF_LENGTH_S = 0.5
COMPRESSION = 0.3
"""Exponent compressing amplitudes (loudness grows roughly as amplitude to the 0.3)."""


@dataclass(frozen=True)
class ResponseProfile:
    """One subject's auditory responses.

    Attributes
    ----------
    latency_scale : float
        Multiplies every latency of the response functions.
    gains : ndarray, shape (4,)
        Gain of each dipole (left low, left high, right low, right high).
    """

    latency_scale: float
    gains: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator) -> ResponseProfile:
        """Return a random subject's profile (latencies within 10 %, gains 0.7 to 1.3)."""
        return cls(float(rng.uniform(0.9, 1.1)), rng.uniform(0.7, 1.3, size=4))

    def kernels(self, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
        """Return the envelope/onset response function and the spectrogram band one."""
        times = np.arange(round(TRF_LENGTH_S * sfreq)) / sfreq
        scale = self.latency_scale
        evoked = _peaks(times, [(0.05, 0.012, 0.5), (0.10, 0.02, -1.0), (0.18, 0.035, 0.6)], scale)
        slow = _peaks(times, [(0.12, 0.05, 1.0), (0.30, 0.07, -0.4)], scale)
        return evoked, slow


def _peaks(times: np.ndarray, peaks: list[tuple[float, float, float]], scale: float) -> np.ndarray:
    return sum(
        amplitude * np.exp(-0.5 * ((times - latency * scale) / (width * scale)) ** 2)
        for latency, width, amplitude in peaks
    )


def speech_drives(audio: np.ndarray, sfreq: float) -> np.ndarray:
    """Return the stimulus drives (2 + N_BANDS, n_times) of audio at 16 kHz, at ``sfreq``.

    Rows: compressed envelope, its onsets (positive changes), and the compressed power of
    each spectrogram band.
    """
    n_times = round(len(audio) / 16000.0 * sfreq)
    loudness = envelope(audio, sfreq, n_times) ** COMPRESSION
    onsets = np.clip(np.diff(loudness, prepend=0.0), 0.0, None) * 5.0
    mel = 10.0 ** (log_mel(audio, N_MELS, sfreq, n_times) / 10.0)
    bands = mel.reshape(N_BANDS, N_MELS // N_BANDS, n_times).mean(axis=1) ** (COMPRESSION / 2)
    return np.vstack([loudness, onsets, bands])


def dipole_activity(drives: np.ndarray, profile: ResponseProfile, sfreq: float) -> np.ndarray:
    """Return the moments (4, n_times) of the auditory dipoles, arbitrary units."""
    evoked, slow = profile.kernels(sfreq)
    n_times = drives.shape[1]
    broadband = np.convolve(drives[0], evoked)[:n_times] + np.convolve(drives[1], evoked)[:n_times]
    half = N_BANDS // 2
    spectral = [
        sum(np.convolve(band, slow)[:n_times] for band in drives[2 : 2 + half]),
        sum(np.convolve(band, slow)[:n_times] for band in drives[2 + half :]),
    ]
    activity = np.stack([broadband + spectral[0], broadband + spectral[1]] * 2)
    return activity * profile.gains[:, None]
