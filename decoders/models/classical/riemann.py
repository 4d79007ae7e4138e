"""Covariance (or Xdawn covariance) matrices in the tangent space, then logistic regression."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from decoders.contract import Decoder, InputSpec, OutputSpec
from decoders.datasets.trials import TrialSet
from decoders.history import TrainingRun

from .csp_lda import linear_logits
from .spd import logm_spd, oas_covariance, upper_weighted

if TYPE_CHECKING:
    import torch


class TangentSpaceLR(Decoder):
    """pyRiemann covariances -> tangent space at the Riemannian mean -> logistic regression.

    Fitted with pyRiemann and scikit-learn; inference is the same computation as a torch
    module built from matrix products (OAS covariance, whitening by the reference, matrix
    logarithm by inverse scaling and squaring), which is what is exported.

    Parameters
    ----------
    xdawn : bool
        Use Xdawn covariances (class prototypes stacked with the Xdawn-filtered signal), which
        also capture the evoked, phase-locked part of the response.
    n_filters : int
        Xdawn filters per class.
    """

    def __init__(
        self, seed: int = 0, hop_s: float = 0.1, xdawn: bool = False, n_filters: int = 4
    ) -> None:
        super().__init__(seed, hop_s)
        self.xdawn = xdawn
        self.n_filters = n_filters

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the tangent-space module with zeroed parameters of the right shapes."""
        n_channels, n_classes = len(spec.ch_names), len(output.names)
        n_components = n_classes * min(self.n_filters, n_channels) if self.xdawn else 0
        return make_tangent_space_module(n_channels, spec.n_times, n_components, n_classes)

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> None:
        """Fit on training and validation trials together: nothing is selected on validation."""
        import torch
        from pyriemann.estimation import Covariances, XdawnCovariances
        from pyriemann.tangentspace import TangentSpace
        from scipy.linalg import fractional_matrix_power
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        train = train.concat(valid)
        scale = 1.0 / float(np.std(train.data))  # well-conditioned covariances
        data = train.data * scale
        if self.xdawn:
            estimator = XdawnCovariances(
                nfilter=min(self.n_filters, train.n_channels), estimator="oas"
            )
        else:
            estimator = Covariances(estimator="oas")
        covariances = estimator.fit_transform(data, train.labels)
        tangent = TangentSpace(metric="riemann").fit(covariances)
        scaler = StandardScaler().fit(tangent.transform(covariances))
        features = scaler.transform(tangent.transform(covariances))
        regression = LogisticRegression(max_iter=2000).fit(features, train.labels)
        coef, intercept = linear_logits(regression, train.n_classes)
        values = {
            "scale": np.float32(scale),
            "whitening": fractional_matrix_power(tangent.reference_, -0.5).real,
            "feature_mean": scaler.mean_,
            "feature_scale": scaler.scale_,
            "coef": coef,
            "intercept": intercept,
        }
        if self.xdawn:
            values |= {"prototypes": estimator.P_, "filters": estimator.Xd_.filters_}
        with torch.no_grad():
            for key, value in values.items():
                getattr(module, key).copy_(torch.as_tensor(np.asarray(value, dtype=np.float32)))
        self.pipeline_ = (estimator, tangent, scaler, regression)  # for benchmarks
        return None


def make_tangent_space_module(
    n_channels: int, n_times: int, n_components: int, n_classes: int
) -> torch.nn.Module:
    """Return a module: [Xdawn] -> OAS covariance -> tangent space -> standardise -> logits.

    ``n_components`` is the number of Xdawn filters over all classes (0: plain covariances).
    """
    import torch

    size = 2 * n_components if n_components else n_channels
    n_features = size * (size + 1) // 2

    class TangentSpaceModule(torch.nn.Module):
        """Tangent-space logistic regression as matrix products."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("scale", torch.ones(()))
            if n_components:
                self.register_buffer("prototypes", torch.zeros(n_components, n_times))
                self.register_buffer("filters", torch.zeros(n_components, n_channels))
            self.register_buffer("whitening", torch.eye(size))
            self.register_buffer("feature_mean", torch.zeros(n_features))
            self.register_buffer("feature_scale", torch.ones(n_features))
            self.register_buffer("coef", torch.zeros(n_classes, n_features))
            self.register_buffer("intercept", torch.zeros(n_classes))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x * self.scale
            if n_components:
                filtered = torch.matmul(self.filters, x)
                prototypes = self.prototypes.unsqueeze(0).expand(x.shape[0], -1, -1)
                x = torch.cat([prototypes, filtered], dim=1)
            # Covariances and their logarithm in float64: in float32 the Newton-Schulz roots
            # lose enough precision that ONNX Runtime and torch disagree beyond 1e-4.
            covariance = oas_covariance(x.double())
            whitening = self.whitening.double()
            tangent = upper_weighted(logm_spd(whitening @ covariance @ whitening)).float()
            features = (tangent - self.feature_mean) / self.feature_scale
            return features @ self.coef.T + self.intercept

    return TangentSpaceModule()
