"""One-versus-rest common spatial patterns that keep the time axis, as a torch layer.

RLEEGNet filters the (standardised) channels with the CSP filters of each class against the
rest and keeps the filtered time series ("csp space", ``mne.decoding.CSP(transform_into=
'csp_space')``) rather than their log-variance. With two classes, "class 1 vs rest" and
"class 0 vs rest" are the same problem, so a single CSP is fitted. The filters are fitted
by :meth:`CspSpace.fit` from the trials it is given (the decoder gives it its training
trials only) and are frozen buffers afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from decoders.training.standardize import channel_statistics

if TYPE_CHECKING:
    from torch import Tensor


def n_csp_filters(n_channels: int, n_classes: int, n_components: int) -> int:
    """Return the number of csp-space signals for this many channels and classes."""
    problems = 1 if n_classes == 2 else n_classes
    return problems * min(n_components, n_channels)


def fit_ovr_csp(
    data: np.ndarray, labels: np.ndarray, n_classes: int, n_components: int
) -> np.ndarray:
    """Return one-versus-rest CSP filters (n_filters, n_channels), ``n_components`` per class.

    Each class covariance is the mean of the trials' Ledoit-Wolf covariances. A class absent
    from ``labels`` gets zero filters (its block carries no signal).
    """
    from mne.decoding import CSP
    from mne.utils import use_log_level

    n_components = min(n_components, data.shape[1])
    targets = [1] if n_classes == 2 else list(range(n_classes))
    blocks = []
    for target in targets:
        is_target = (labels == target).astype(int)
        if is_target.min() == is_target.max():
            blocks.append(np.zeros((n_components, data.shape[1])))
            continue
        csp = CSP(
            n_components=n_components,
            reg="ledoit_wolf",
            cov_est="epoch",  # mean of per-trial covariances: 6x faster than concatenating
            transform_into="csp_space",
        )
        with use_log_level("error"):
            csp.fit(data, is_target)
        blocks.append(csp.filters_[:n_components])
    return np.concatenate(blocks).astype(np.float32)


class CspSpace(torch.nn.Module):
    """Standardise channels, then project onto CSP filters scaled to unit training variance.

    Parameters
    ----------
    n_channels : int
        Input channels.
    n_filters : int
        Output csp-space signals (see :func:`n_csp_filters`).
    """

    def __init__(self, n_channels: int, n_filters: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, n_channels, 1))
        self.register_buffer("std", torch.ones(1, n_channels, 1))
        self.register_buffer("filters", torch.zeros(n_filters, n_channels))

    @property
    def n_filters(self) -> int:
        """Return the number of csp-space signals."""
        return self.filters.shape[0]

    def fit(self, data: np.ndarray, labels: np.ndarray, n_classes: int, n_components: int) -> None:
        """Fit standardisation and filters on ``data`` (the training trials only)."""
        mean, std = channel_statistics(data)
        standardised = (data - mean[None, :, None]) / std[None, :, None]
        filters = fit_ovr_csp(standardised, labels, n_classes, n_components)
        sources = np.einsum("fc,nct->nft", filters, standardised)
        scale = sources.std(axis=(0, 2))
        filters = filters / np.where(scale > 0, scale, 1.0)[:, None]
        with torch.no_grad():
            self.mean.copy_(torch.as_tensor(mean)[None, :, None])
            self.std.copy_(torch.as_tensor(std)[None, :, None])
            self.filters.copy_(torch.as_tensor(filters, dtype=torch.float32))

    def forward(self, x: Tensor) -> Tensor:
        """Map (batch, channels, times) to csp space (batch, n_filters, times)."""
        return torch.matmul(self.filters, (x - self.mean) / self.std)
