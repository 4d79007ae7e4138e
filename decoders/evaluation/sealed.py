"""A test split that can be scored once and never looked at otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from decoders.datasets.trials import TrialSet
from decoders.speech.trials import SpeechTrials

from .metrics import classification_metrics, retrieval_metrics, retrieval_ranks


class TestSetReuseError(RuntimeError):
    """Raised when a sealed test split is scored a second time."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class TestOutcome:
    """What a single scoring of the test split returns."""

    __test__ = False  # not a pytest test class

    metrics: dict[str, float]
    proba: np.ndarray
    labels: np.ndarray
    ranks: np.ndarray | None = None
    """For retrieval: the rank of each window's true segment (1 = best)."""


class SealedTestSet:
    """Holds a test split so that a fitted model is scored on it exactly once.

    Only the sizes, class names and the subject of each trial are visible; the signals and
    labels are reachable only through :meth:`score`, which works a single time. Model
    selection therefore cannot use it. Speech trials
    (:class:`~decoders.speech.trials.SpeechTrials`) are scored by retrieval: the rank of each
    window's true speech segment among the distinct segments of the split (or
    ``n_candidates`` of them), by cosine similarity of the predicted embedding.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, trials: TrialSet, n_candidates: int | None = None) -> None:
        self.__trials = trials
        self.__used = False
        self.n_trials = trials.n_trials
        self.classes = trials.classes
        self.name = trials.name
        self.groups = trials.groups.copy()
        self.n_candidates = n_candidates

    @property
    def used(self) -> bool:
        """Return True once the split has been scored."""
        return self.__used

    def score(self, predict_proba: Callable[[np.ndarray], np.ndarray]) -> TestOutcome:
        """Score a fitted model once; return its metrics, probabilities and the true labels.

        Raises
        ------
        TestSetReuseError
            On any call after the first.
        """
        if self.__used:
            raise TestSetReuseError(f"the test split of {self.name} was already scored once")
        self.__used = True
        trials = self.__trials
        if isinstance(trials, SpeechTrials):
            return self._retrieval(trials, predict_proba)
        proba = np.asarray(predict_proba(trials.data), dtype=float)
        expected = (trials.n_trials, trials.n_classes)
        if proba.shape != expected:
            raise ValueError(f"predict_proba returned shape {proba.shape}, expected {expected}")
        if not np.isfinite(proba).all():
            raise ValueError("predict_proba returned NaN or Inf on the test split")
        return TestOutcome(classification_metrics(trials.labels, proba), proba, trials.labels)

    def _retrieval(
        self, trials: SpeechTrials, predict: Callable[[np.ndarray], np.ndarray]
    ) -> TestOutcome:
        embeddings = np.asarray(predict(trials.data), dtype=float)
        candidates, truth = trials.candidates()
        if embeddings.shape != (trials.n_trials, candidates.shape[1]):
            raise ValueError(
                f"the decoder returned embeddings of shape {embeddings.shape}, expected "
                f"{(trials.n_trials, candidates.shape[1])} (the speech features' size)"
            )
        if not np.isfinite(embeddings).all():
            raise ValueError("the decoder returned NaN or Inf embeddings on the test split")
        n_candidates = min(self.n_candidates or len(candidates), len(candidates))
        ranks = retrieval_ranks(embeddings, candidates, truth, n_candidates)
        metrics = retrieval_metrics(ranks, n_candidates)
        return TestOutcome(metrics, embeddings, trials.labels, ranks)
