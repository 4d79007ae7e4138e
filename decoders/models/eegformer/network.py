"""The fine-tuned EEGFormer module: resampling, per-channel tokens, channel averages, head.

The channel averages of code vectors vary little between windows next to their common level
(their sd across windows is a few percent of it on clinical EEG), so the head sees them
standardised with the mean and sd of the training windows (:meth:`EEGFormerNet.standardise`,
fitted before fine-tuning): unscaled, a linear head learned little but a bias in the few
steps of a label-scarce fine-tuning, and predicted one class.
"""

from __future__ import annotations

import numpy as np
import torch

from .backbone import EEGFormerBackbone

SCALE_FLOOR = 1e-3
"""A feature's sd is floored at this share of the largest one (constant features stay 0)."""
KMEANS_VECTORS = 20_000
"""Encoder states (at most, evenly spaced) that initialise a codebook from scratch."""


def resampling_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Return the (n_in, n_out) matrix of Fourier resampling of a window (``x @ M``)."""
    from scipy.signal import resample

    return resample(np.eye(n_in), n_out, axis=1).astype(np.float32)


class EEGFormerNet(torch.nn.Module):
    """Windows (batch, channels, times) -> class logits through EEGFormer's codebook.

    Parameters
    ----------
    backbone : EEGFormerBackbone
        Tokens, encoder and codebook (pretrained or new).
    n_channels, n_times : int
        The windows' shape.
    resampled_times : int
        Samples of a window at the backbone's rate (equal to ``n_times``: no resampling).
    n_classes : int
        Outputs.
    dropout : float
        Dropout before the head.
    """

    def __init__(
        self,
        backbone: EEGFormerBackbone,
        *,
        n_channels: int,
        n_times: int,
        resampled_times: int,
        n_classes: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.n_channels = n_channels
        matrix = resampling_matrix(n_times, resampled_times) if resampled_times != n_times else None
        self.register_buffer(
            "resampling", None if matrix is None else torch.from_numpy(matrix), persistent=False
        )
        code_dim = backbone.quantizer.dim
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(n_channels * code_dim, n_classes)
        self.register_buffer("feature_mean", torch.zeros(n_channels * code_dim))
        self.register_buffer("feature_scale", torch.ones(n_channels * code_dim))
        # Each code's evidence for each class (naive Bayes over codes, fitted after training).
        self.register_buffer("evidence", torch.zeros(n_classes, backbone.quantizer.n_codes))

    def sequences(self, x: torch.Tensor) -> torch.Tensor:
        """Return the windows as single-channel sequences at the backbone's rate."""
        if self.resampling is not None:
            x = x @ self.resampling
        return x.reshape(-1, x.shape[-1])

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """Return the codebook index of every token (batch, channels, tokens)."""
        codes = self.backbone.encode(self.sequences(x)).codes
        return codes.reshape(x.shape[0], self.n_channels, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the class logits of windows ``x``."""
        return self._decide(x)[0]

    def explain(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the logits and each token's evidence for the decided class.

        The evidence map is (batch, channels, tokens): the evidence of every token's code
        for the class of largest logit.
        """
        logits, codes = self._decide(x)
        rows = self.evidence[logits.argmax(dim=1)]  # (batch, n_codes)
        table = rows[:, None, :].expand(-1, self.n_channels, -1)
        return logits, torch.gather(table, 2, codes)

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return each channel's average code vector (batch, channels * code_dim) and the codes."""
        quantised = self.backbone.encode(self.sequences(x))
        channels = quantised.vectors.mean(dim=1).reshape(x.shape[0], -1)
        return channels, quantised.codes.reshape(x.shape[0], self.n_channels, -1)

    @torch.no_grad()
    def initialise_codebook(self, x: torch.Tensor, batch: int = 64) -> None:
        """Set a codebook never trained (a model from scratch) by k-means on windows ``x``.

        A random codebook sends nearly every token to the same few codes, and the head then
        sees nearly the same input for every window.
        """
        quantizer = self.backbone.quantizer
        if bool(quantizer.initialised):
            return
        states = torch.cat(
            [
                self.backbone.states(self.sequences(x[s : s + batch])).reshape(-1, quantizer.dim)
                for s in range(0, len(x), batch)
            ]
        )
        step = max(1, len(states) // KMEANS_VECTORS)
        quantizer.update(candidates=quantizer.normalise(states[::step]))

    @torch.no_grad()
    def standardise(self, x: torch.Tensor, batch: int = 64) -> None:
        """Set the head's input standardisation to the mean and sd of windows ``x``."""
        features = torch.cat([self.features(x[s : s + batch])[0] for s in range(0, len(x), batch)])
        self.feature_mean.copy_(features.mean(dim=0))
        spread = features.std(dim=0) if len(features) > 1 else torch.ones_like(self.feature_scale)
        self.feature_scale.copy_(
            spread.clamp_min(SCALE_FLOOR * float(spread.max().clamp_min(1e-12)))
        )

    def _decide(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        channels, codes = self.features(x)
        standard = (channels - self.feature_mean) / self.feature_scale
        return self.head(self.dropout(standard)), codes


class Explaining(torch.nn.Module):
    """The exported graph: class probabilities, then the token evidence map."""

    def __init__(self, network: EEGFormerNet) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the softmax of the logits and the evidence of each token."""
        logits, evidence = self.network.explain(x)
        return torch.softmax(logits, dim=1), evidence
