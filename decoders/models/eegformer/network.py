"""The fine-tuned EEGFormer module: resampling, per-channel tokens, channel averages, head."""

from __future__ import annotations

import numpy as np
import torch

from .backbone import EEGFormerBackbone


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

    def _decide(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        quantised = self.backbone.encode(self.sequences(x))
        channels = quantised.vectors.mean(dim=1).reshape(x.shape[0], -1)
        codes = quantised.codes.reshape(x.shape[0], self.n_channels, -1)
        return self.head(self.dropout(channels)), codes


class Explaining(torch.nn.Module):
    """The exported graph: class probabilities, then the token evidence map."""

    def __init__(self, network: EEGFormerNet) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the softmax of the logits and the evidence of each token."""
        logits, evidence = self.network.explain(x)
        return torch.softmax(logits, dim=1), evidence
