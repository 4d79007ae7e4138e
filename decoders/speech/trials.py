"""Speech trials: brain windows paired with the speech-feature segments heard, for retrieval.

A :class:`SpeechTrials` is a :class:`~decoders.datasets.trials.TrialSet` whose label is the
sound a window was heard in (``classes`` are the sound names) and which carries, for every
window, the features of the speech segment heard (``features``) and the segment's position
in its sound (``segments``). The harness splits it like any trial set; what differs is read
from the type: validation parts are carved by sound (no sentence in both), the test part is
scored by retrieval among its distinct segments, and a sentence in both the training and
the test part of a fold is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet

from .features import FeatureSettings, segment_embeddings


@dataclass(frozen=True)
class SpeechTrials(TrialSet):
    """Brain windows and the speech segments heard during them (brain shifted by a lag).

    Parameters
    ----------
    features : ndarray, shape (n_trials, n_dims, n_frames)
        Speech features of each window's segment (see :mod:`decoders.speech.features`).
    segments : ndarray of int, shape (n_trials,)
        Index of the segment within its sound (the label): ``(label, segment)`` names a
        distinct piece of speech, whoever heard it.
    speech : dict
        How the pairs were made: ``features`` (:class:`FeatureSettings` data), ``window_s``,
        ``hop_s``, ``lag_s`` and ``alignment``.
    """

    features: np.ndarray = field(default=None)  # type: ignore[assignment]
    segments: np.ndarray = field(default=None)  # type: ignore[assignment]
    speech: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        features = np.asarray(self.features, dtype=np.float32)
        segments = np.asarray(self.segments, dtype=int)
        if features.ndim != 3 or features.shape[0] != self.n_trials:
            raise DataError(
                self.name,
                f"speech features of shape {features.shape} do not pair with {self.n_trials} "
                "windows (expected (windows, dimensions, frames))",
            )
        if segments.shape != (self.n_trials,):
            raise DataError(
                self.name, f"segments has shape {segments.shape}, expected ({self.n_trials},)"
            )
        if not np.isfinite(features).all():
            raise DataError(self.name, "NaN or Inf in the speech features")
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "segments", segments)

    @property
    def feature_settings(self) -> FeatureSettings:
        """Return the settings the features were computed with."""
        return FeatureSettings.from_dict(self.speech["features"])

    @property
    def embedding_size(self) -> int:
        """Return the size of a segment's retrieval embedding (dimensions x frames)."""
        return int(self.features.shape[1] * self.features.shape[2])

    def subset(self, index: np.ndarray | slice | list[int]) -> SpeechTrials:
        """Return the windows (and their segments) selected by ``index``."""
        return replace(
            self,
            data=self.data[index],
            labels=self.labels[index],
            groups=self.groups[index],
            blocks=self.blocks[index],
            features=self.features[index],
            segments=self.segments[index],
        )

    def concat(self, other: TrialSet) -> SpeechTrials:
        """Return these windows followed by ``other``'s (same channels, rate, sounds, features)."""
        if not isinstance(other, SpeechTrials) or (
            other.ch_names,
            other.sfreq,
            other.classes,
            other.speech,
        ) != (self.ch_names, self.sfreq, self.classes, self.speech):
            raise DataError(
                other.name, f"channels, rate, sounds or features differ from {self.name}"
            )
        return replace(
            self,
            data=np.concatenate([self.data, other.data]),
            labels=np.concatenate([self.labels, other.labels]),
            groups=np.concatenate([self.groups, other.groups]),
            blocks=np.concatenate([self.blocks, other.blocks]),
            features=np.concatenate([self.features, other.features]),
            segments=np.concatenate([self.segments, other.segments]),
        )

    def require_classes(self, minimum: int = 2) -> None:
        """Raise when fewer than ``minimum`` distinct segments are present (what is told apart)."""
        distinct = len(np.unique(np.stack([self.labels, self.segments], axis=1), axis=0))
        if distinct < minimum:
            raise DataError(
                self.name, f"holds {distinct} distinct speech segment(s); at least {minimum} needed"
            )

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the distinct segments' embeddings and, per window, the row of its segment.

        Returns
        -------
        embeddings : ndarray, shape (n_distinct, embedding_size)
            One row per distinct ``(sound, segment)``, in order of first appearance.
        truth : ndarray of int, shape (n_trials,)
            The row of each window's segment.
        """
        keys = np.stack([self.labels, self.segments], axis=1)
        _, first, truth = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        return segment_embeddings(self.features[first]), truth.ravel()

    def split_by_sound(self, fraction: float, seed: int) -> tuple[SpeechTrials, SpeechTrials]:
        """Return a fitting part and a validation part holding ``fraction`` of the sounds.

        Raises
        ------
        DataError
            When fewer than two sounds are present.
        """
        sounds = np.unique(self.labels)
        if sounds.size < 2:
            raise DataError(self.name, "holds one sound; a validation part needs another")
        rng = np.random.default_rng([seed, 11])
        count = min(sounds.size - 1, max(1, round(fraction * sounds.size)))
        held = np.isin(self.labels, rng.choice(sounds, count, replace=False))
        return self.subset(~held), self.subset(held)

    def require_unseen(self, train: TrialSet) -> None:
        """Raise :class:`DataError` when a sound of these (test) windows is also in ``train``."""
        shared = sorted(
            {self.classes[c] for c in np.unique(self.labels)}
            & {train.classes[c] for c in np.unique(train.labels)}
        )
        if shared:
            raise DataError(
                self.name,
                f"{len(shared)} sound(s) are in both the training and the test part "
                f"({', '.join(shared[:3])}{' ...' if len(shared) > 3 else ''}): split by "
                "recording block (--protocol blocks) with blocks holding different sounds",
            )
