"""MiniRocket and MultiRocket (aeon): random convolution features and a ridge classifier."""

from __future__ import annotations

import numpy as np

from decoders.datasets.trials import TrialSet

KINDS = {"minirocket": "MiniRocketClassifier", "multirocket": "MultiRocketClassifier"}


class RocketClassifier:
    """aeon's MiniRocket or MultiRocket classifier on the raw trials.

    Parameters
    ----------
    kind : str
        ``minirocket`` or ``multirocket``.
    seed : int
        Seeds the random kernels.
    """

    def __init__(self, kind: str, seed: int = 0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind} (known: {', '.join(KINDS)})")
        self.name = kind
        self.kind = kind
        self.seed = seed

    def fit(self, train: TrialSet, valid: TrialSet) -> RocketClassifier:
        """Fit on training and validation trials together.

        The ridge penalty is chosen by internal cross-validation on them.
        """
        train = train.concat(valid)
        try:
            from aeon.classification import convolution_based
        except ImportError as error:  # aeon is a dev/bench dependency
            raise ImportError("ROCKET baselines need aeon: pip install 'bci-app[dev]'") from error
        self.scale_ = 1.0 / float(np.std(train.data))
        classifier = getattr(convolution_based, KINDS[self.kind])(random_state=self.seed, n_jobs=1)
        self.classifier_ = classifier.fit(train.data * self.scale_, train.labels)
        self.n_classes_ = train.n_classes
        return self

    def predict_proba(self, data: np.ndarray) -> np.ndarray:
        """Return class probabilities (one-hot: the ridge classifier gives hard decisions)."""
        proba = self.classifier_.predict_proba(data * self.scale_)
        full = np.zeros((len(data), self.n_classes_))
        full[:, self.classifier_.classes_.astype(int)] = proba
        return full
