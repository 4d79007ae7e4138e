"""Common spatial patterns with log-variance features and shrinkage LDA."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from decoders.contract import Decoder, InputSpec, OutputSpec
from decoders.datasets.trials import TrialSet
from decoders.history import TrainingRun

if TYPE_CHECKING:
    import torch


class CspLda(Decoder):
    """CSP (mne, Ledoit-Wolf regularised) + shrinkage linear discriminant analysis.

    Fitted with mne and scikit-learn; inference is the same computation as a torch module
    (spatial filters, log of the mean power, linear discriminant), which is what is exported.

    Parameters
    ----------
    n_components : int
        CSP filters kept (capped at the channel count).
    band : list of float, optional
        ``[low, high]`` Hz of a declared causal band-pass applied before CSP.
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        n_components: int = 6,
        band: list[float] | None = None,
    ) -> None:
        super().__init__(seed, hop_s)
        self.n_components = n_components

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the CSP + LDA module with zeroed parameters of the right shapes."""
        return make_csp_lda_module(
            len(spec.ch_names), min(self.n_components, len(spec.ch_names)), len(output.names)
        )

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> None:
        """Fit on training and validation trials together: nothing is selected on validation."""
        import torch
        from mne.decoding import CSP
        from mne.utils import use_log_level
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        train = train.concat(valid)
        csp = CSP(n_components=module.filters.shape[0], log=True, reg="ledoit_wolf")
        with use_log_level("error"):
            features = csp.fit_transform(train.data, train.labels)
        lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(
            features, train.labels
        )
        coef, intercept = linear_logits(lda, train.n_classes)
        with torch.no_grad():
            module.filters.copy_(torch.as_tensor(csp.filters_[: module.filters.shape[0]]))
            module.coef.copy_(torch.as_tensor(coef))
            module.intercept.copy_(torch.as_tensor(intercept))
        self.pipeline_ = (csp, lda)  # kept in memory for benchmarks against the torch graph
        return None


def linear_logits(model, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Return weights whose softmax equals a fitted linear scikit-learn model's probabilities.

    Works for LDA, logistic regression and ridge classifiers: a binary model's sigmoid of its
    decision becomes the softmax of ``[0, decision]``; classes absent from training get a logit
    of -1e4. A binary model's weights may come as one row or as a vector (scikit-learn 1.9's
    ``RidgeClassifierCV``).
    """
    weights = np.atleast_2d(model.coef_)
    offsets = np.atleast_1d(model.intercept_)
    coef = np.zeros((n_classes, weights.shape[1]))
    intercept = np.full(n_classes, -1e4)
    if len(model.classes_) == 2:
        intercept[model.classes_] = [0.0, offsets[0]]
        coef[model.classes_[1]] = weights[0]
    else:
        coef[model.classes_] = weights
        intercept[model.classes_] = offsets
    return coef.astype(np.float32), intercept.astype(np.float32)


def make_csp_lda_module(n_channels: int, n_components: int, n_classes: int) -> torch.nn.Module:
    """Return a module: spatial filters -> log mean power -> linear logits."""
    import torch

    class CspLdaModule(torch.nn.Module):
        """log(mean((W x)^2)) then an affine map to class logits."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("filters", torch.zeros(n_components, n_channels))
            self.register_buffer("coef", torch.zeros(n_classes, n_components))
            self.register_buffer("intercept", torch.zeros(n_classes))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            sources = torch.matmul(self.filters, x)
            features = torch.log(torch.mean(sources * sources, dim=-1))
            return features @ self.coef.T + self.intercept

    return CspLdaModule()
