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
        tokens = self.backbone.encode(self.sequences(x)).vectors
        channels = tokens.mean(dim=1).reshape(x.shape[0], -1)
        return self.head(self.dropout(channels))
