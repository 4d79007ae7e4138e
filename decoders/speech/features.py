"""Speech features of audio clips: log-mel spectrogram, envelope, or wav2vec 2.0 hidden states.

Every feature is computed offline from the audio a listener heard, as frames at
``frame_rate`` Hz, frame ``j`` covering ``[j, j + 1) / frame_rate`` s of the clip. A speech
decoder maps a brain window into this feature space; the retrieval embedding of a segment
(:func:`segment_embeddings`) is its features centred over time per dimension (what the brain
follows is how each feature changes, not its average), flattened and scaled to unit norm, so
that a candidate set can be computed for any sounds without training statistics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from decoders.datasets.errors import DataError

FEATURE_KINDS = ("mel", "envelope", "mel+envelope", "wav2vec")
AUDIO_SFREQ = 16000.0
"""Rate clips are made at before their features are computed (wav2vec 2.0's own rate)."""

_STFT_WINDOW_S = 0.025
_STFT_HOP_S = 0.010
_MEL_BAND_HZ = (50.0, 8000.0)
_POWER_FLOOR = 1e-10  # -100 dB: silence


@dataclass(frozen=True)
class FeatureSettings:
    """Which speech features, at which frame rate.

    Parameters
    ----------
    kind : str
        ``mel`` (log-mel spectrogram), ``envelope`` (broadband amplitude envelope),
        ``mel+envelope`` or ``wav2vec`` (hidden states of a local wav2vec 2.0 checkpoint).
    frame_rate : float
        Feature frames per second.
    n_mels : int
        Mel bands of ``mel`` features.
    wav2vec : str, optional
        Path of the wav2vec 2.0 checkpoint (see :mod:`decoders.speech.wav2vec`).
    layers : tuple of int
        Transformer layers (1 = first) whose hidden states are averaged; empty: the last.
    """

    kind: str = "mel"
    frame_rate: float = 20.0
    n_mels: int = 20
    wav2vec: str | None = None
    layers: tuple[int, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise DataError(
                "speech features", f"unknown kind '{self.kind}' (known: {FEATURE_KINDS})"
            )
        if self.kind == "wav2vec" and not self.wav2vec:
            raise DataError(
                "speech features", "wav2vec features need the path of a local checkpoint"
            )
        if self.frame_rate <= 0 or self.n_mels < 1:
            raise DataError("speech features", "frame_rate and n_mels must be positive")
        object.__setattr__(self, "layers", tuple(int(layer) for layer in self.layers))

    def names(self) -> tuple[str, ...]:
        """Return the name of each feature dimension."""
        mel = tuple(f"mel{index:02d}" for index in range(self.n_mels))
        if self.kind == "mel":
            return mel
        if self.kind == "envelope":
            return ("envelope",)
        if self.kind == "mel+envelope":
            return (*mel, "envelope")
        from .wav2vec import load_wav2vec

        return tuple(f"w2v{index:04d}" for index in range(load_wav2vec(self.wav2vec).dimension))

    def n_frames(self, duration_s: float) -> int:
        """Return the number of frames of a clip of ``duration_s`` seconds."""
        return round(duration_s * self.frame_rate)

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-serialisable data."""
        data = asdict(self)
        data["layers"] = list(self.layers)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSettings:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**{**data, "layers": tuple(data.get("layers", ()))})


def clip_features(clip: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """Return the features (n_dims, n_frames) of an audio ``clip`` at :data:`AUDIO_SFREQ`."""
    n_frames = settings.n_frames(len(clip) / AUDIO_SFREQ)
    parts = []
    if settings.kind in ("mel", "mel+envelope"):
        parts.append(log_mel(clip, settings.n_mels, settings.frame_rate, n_frames))
    if settings.kind in ("envelope", "mel+envelope"):
        parts.append(envelope(clip, settings.frame_rate, n_frames)[None])
    if settings.kind == "wav2vec":
        from .wav2vec import load_wav2vec

        model = load_wav2vec(settings.wav2vec)
        parts.append(model.hidden_states(clip, settings.layers, settings.frame_rate, n_frames))
    return np.concatenate(parts).astype(np.float32)


def log_mel(clip: np.ndarray, n_mels: int, frame_rate: float, n_frames: int) -> np.ndarray:
    """Return the log-mel power (dB) of ``clip``, shape (n_mels, n_frames).

    Power spectra of 25 ms Hann windows every 10 ms are pooled by a triangular mel filter bank
    (50 Hz to 8 kHz), averaged within each output frame, then taken in decibels.
    """
    from scipy.signal import stft

    window = round(_STFT_WINDOW_S * AUDIO_SFREQ)
    hop = round(_STFT_HOP_S * AUDIO_SFREQ)
    frequencies, times, spectrum = stft(
        clip, AUDIO_SFREQ, "hann", nperseg=window, noverlap=window - hop, boundary="even"
    )
    power = mel_filters(frequencies, n_mels) @ np.abs(spectrum) ** 2
    pooled = frame_average(power, times, frame_rate, n_frames)
    return 10.0 * np.log10(pooled + _POWER_FLOOR)


def envelope(clip: np.ndarray, frame_rate: float, n_frames: int) -> np.ndarray:
    """Return the broadband amplitude envelope (Hilbert magnitude averaged per frame)."""
    from scipy.signal import hilbert

    magnitude = np.abs(hilbert(clip)) if len(clip) else np.zeros(0)
    times = np.arange(len(clip)) / AUDIO_SFREQ
    return frame_average(magnitude[None], times, frame_rate, n_frames)[0]


def frame_average(values: np.ndarray, times: np.ndarray, frame_rate: float, n_frames: int):
    """Return the mean of ``values`` (n, n_times) within each frame, from their ``times`` (s)."""
    index = np.floor(np.asarray(times) * frame_rate + 1e-9).astype(int)
    keep = (index >= 0) & (index < n_frames)
    counts = np.bincount(index[keep], minlength=n_frames)
    sums = np.zeros((values.shape[0], n_frames))
    for row, series in enumerate(values):
        sums[row] = np.bincount(index[keep], weights=series[keep], minlength=n_frames)
    return sums / np.maximum(counts, 1)


def mel_filters(frequencies: np.ndarray, n_mels: int) -> np.ndarray:
    """Return triangular mel filters (n_mels, n_frequencies) over ``frequencies`` (Hz)."""
    low, high = (2595.0 * np.log10(1.0 + f / 700.0) for f in _MEL_BAND_HZ)
    edges = 700.0 * (10.0 ** (np.linspace(low, high, n_mels + 2) / 2595.0) - 1.0)
    filters = np.zeros((n_mels, len(frequencies)))
    for band in range(n_mels):
        left, centre, right = edges[band : band + 3]
        rising = (frequencies - left) / (centre - left)
        falling = (right - frequencies) / (right - centre)
        filters[band] = np.clip(np.minimum(rising, falling), 0.0, None)
    return filters


def segment_embeddings(features: np.ndarray) -> np.ndarray:
    """Return the retrieval embeddings (n, n_dims * n_frames) of segments (n, n_dims, n_frames).

    Each dimension is centred over the segment's frames, the segment flattened and scaled to
    unit norm (segments of constant features stay zero).
    """
    features = np.asarray(features, dtype=np.float64)
    centred = features - features.mean(axis=2, keepdims=True)
    flat = centred.reshape(len(features), -1)
    norms = np.linalg.norm(flat, axis=1, keepdims=True)
    return (flat / np.where(norms > 0, norms, 1.0)).astype(np.float32)
