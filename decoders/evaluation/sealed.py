"""A test split that can be scored once and never looked at otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from decoders.datasets.trials import TrialSet

from .metrics import classification_metrics


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


class SealedTestSet:
    """Holds a test split so that a fitted model is scored on it exactly once.

    Only the sizes and class names are visible; the signals and labels are reachable only
    through :meth:`score`, which works a single time. Model selection therefore cannot use it.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, trials: TrialSet) -> None:
        self.__trials = trials
        self.__used = False
        self.n_trials = trials.n_trials
        self.classes = trials.classes
        self.name = trials.name

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
        proba = np.asarray(predict_proba(trials.data), dtype=float)
        expected = (trials.n_trials, trials.n_classes)
        if proba.shape != expected:
            raise ValueError(f"predict_proba returned shape {proba.shape}, expected {expected}")
        if not np.isfinite(proba).all():
            raise ValueError("predict_proba returned NaN or Inf on the test split")
        return TestOutcome(classification_metrics(trials.labels, proba), proba, trials.labels)
