"""Common spatial patterns with log-variance features and shrinkage LDA."""

from __future__ import annotations

import numpy as np

from decoders.datasets.trials import TrialSet

from .bandpass import BandPass


class CspLda:
    """CSP (mne) + shrinkage linear discriminant analysis.

    Parameters
    ----------
    n_components : int
        CSP filters kept (capped at the channel count).
    band : tuple of float, optional
        Zero-phase band-pass applied to each trial before CSP (declared preprocessing).
    """

    name = "csp-lda"

    def __init__(self, n_components: int = 6, band: tuple[float, float] | None = None) -> None:
        self.n_components = n_components
        self.bandpass = BandPass(band)

    def fit(self, train: TrialSet, valid: TrialSet) -> CspLda:
        """Fit on training and validation trials together: nothing is selected on validation."""
        train = train.concat(valid)
        from mne.decoding import CSP
        from mne.utils import use_log_level
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
        from sklearn.pipeline import make_pipeline

        components = min(self.n_components, train.n_channels)
        self.pipeline_ = make_pipeline(
            CSP(n_components=components, log=True, reg="ledoit_wolf"),
            LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
        )
        with use_log_level("error"):
            self.pipeline_.fit(self.bandpass(train.data, train.sfreq), train.labels)
        self.sfreq_ = train.sfreq
        self.n_classes_ = train.n_classes
        return self

    def predict_proba(self, data: np.ndarray) -> np.ndarray:
        """Return class probabilities for trials shaped (n, channels, times)."""
        return _full_proba(self.pipeline_, self.bandpass(data, self.sfreq_), self.n_classes_)


def _full_proba(pipeline, data: np.ndarray, n_classes: int) -> np.ndarray:
    """Return probabilities with a column for every class, including classes unseen in fit."""
    proba = pipeline.predict_proba(data)
    full = np.zeros((len(data), n_classes))
    full[:, pipeline.classes_] = proba
    return full
