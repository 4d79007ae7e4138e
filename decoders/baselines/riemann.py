"""Covariance (or Xdawn covariance) matrices in the tangent space, then logistic regression."""

from __future__ import annotations

import numpy as np

from decoders.datasets.trials import TrialSet

from .bandpass import BandPass
from .csp_lda import _full_proba


class TangentSpaceLR:
    """pyRiemann covariances -> tangent space at the Riemannian mean -> logistic regression.

    Parameters
    ----------
    xdawn : bool
        Use Xdawn covariances (spatially filtered class prototypes stacked with the signal),
        which also capture the evoked, phase-locked part of the response.
    n_filters : int
        Xdawn filters per class.
    band : tuple of float, optional
        Zero-phase band-pass applied to each trial first.
    """

    def __init__(
        self, xdawn: bool = False, n_filters: int = 4, band: tuple[float, float] | None = None
    ) -> None:
        self.xdawn = xdawn
        self.n_filters = n_filters
        self.bandpass = BandPass(band)
        self.name = "xdawncov-ts-lr" if xdawn else "cov-ts-lr"

    def fit(self, train: TrialSet, valid: TrialSet) -> TangentSpaceLR:
        """Fit on training and validation trials together: nothing is selected on validation."""
        train = train.concat(valid)
        from pyriemann.estimation import Covariances, XdawnCovariances
        from pyriemann.tangentspace import TangentSpace
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        covariances = (
            XdawnCovariances(nfilter=min(self.n_filters, train.n_channels), estimator="oas")
            if self.xdawn
            else Covariances(estimator="oas")
        )
        self.pipeline_ = make_pipeline(
            covariances,
            TangentSpace(metric="riemann"),
            StandardScaler(),
            LogisticRegression(max_iter=2000),
        )
        self.scale_ = 1.0 / float(np.std(train.data))  # well-conditioned covariances
        self.pipeline_.fit(self._prepare(train.data, train.sfreq), train.labels)
        self.sfreq_ = train.sfreq
        self.n_classes_ = train.n_classes
        return self

    def predict_proba(self, data: np.ndarray) -> np.ndarray:
        """Return class probabilities for trials shaped (n, channels, times)."""
        return _full_proba(self.pipeline_, self._prepare(data, self.sfreq_), self.n_classes_)

    def _prepare(self, data: np.ndarray, sfreq: float) -> np.ndarray:
        return self.bandpass(data, sfreq) * self.scale_
