"""The fine-tuned MEG-GPT module: standardisation, parcels, tokens, causal Transformer, head.

A window (batch, channels, times) is resampled to the model's rate (a fixed linear map),
centred per channel and scaled by each channel's standard deviation over the training windows
(so amplitude differences between windows remain), optionally mapped to parcels (scaled the
same way), tokenised (the frozen tokeniser), and run through the causal Transformer. Its hidden
states are averaged over ``pool_bins`` equal stretches of the window per channel, and a linear
head classifies them. :meth:`MEGGPTNet.embed` returns the pooled states (the zero-shot
features).
"""

from __future__ import annotations

import torch

from .tokeniser import Tokeniser
from .transformer import CausalTransformer


def pooling_matrix(n_times: int, n_bins: int) -> torch.Tensor:
    """Return the (n_times, n_bins) matrix averaging ``n_bins`` consecutive stretches."""
    n_bins = max(1, min(n_bins, n_times))
    edges = torch.linspace(0, n_times, n_bins + 1).round().long()
    matrix = torch.zeros(n_times, n_bins)
    for index in range(n_bins):
        start, stop = int(edges[index]), int(edges[index + 1])
        matrix[start:stop, index] = 1.0 / (stop - start)
    return matrix


class MEGGPTNet(torch.nn.Module):
    """Windows (batch, inputs, times) -> class logits through MEG-GPT.

    Parameters
    ----------
    tokeniser : Tokeniser
        Stage 1 (frozen here).
    transformer : CausalTransformer
        Stage 2, with one channel embedding per model channel.
    n_inputs, n_times : int
        The windows' channels and samples.
    resampled_times : int
        Samples of a window at the model's rate.
    n_parcels : int
        Parcels the inputs are mapped to (0: the inputs are the model's channels).
    n_classes : int
        Outputs.
    pool_bins : int
        Stretches of the window the hidden states are averaged over.
    dropout : float
        Dropout before the head.
    """

    def __init__(
        self,
        tokeniser: Tokeniser,
        transformer: CausalTransformer,
        *,
        n_inputs: int,
        n_times: int,
        resampled_times: int,
        n_parcels: int,
        n_classes: int,
        pool_bins: int,
        dropout: float,
    ) -> None:
        super().__init__()
        from decoders.models.eegformer.network import resampling_matrix

        matrix = resampling_matrix(n_times, resampled_times) if resampled_times != n_times else None
        self.register_buffer(
            "resampling", None if matrix is None else torch.from_numpy(matrix), persistent=False
        )
        self.register_buffer("input_scale", torch.ones(n_inputs))
        n_channels = n_parcels or n_inputs
        self.register_buffer("parcels", torch.zeros(n_parcels, n_inputs) if n_parcels else None)
        self.register_buffer("channel_scale", torch.ones(n_channels))
        self.register_buffer("channel_ids", torch.arange(n_channels), persistent=False)
        self.register_buffer(
            "pooling", pooling_matrix(resampled_times, pool_bins), persistent=False
        )
        self.tokeniser = tokeniser.requires_grad_(False)
        self.tokeniser.quantizer.frozen = True
        self.transformer = transformer
        self.dropout = torch.nn.Dropout(dropout)
        features = n_channels * self.pooling.shape[1] * transformer.width
        self.head = torch.nn.Linear(features, n_classes)

    def centred(self, x: torch.Tensor) -> torch.Tensor:
        """Return windows at the model's rate, centred per channel, scaled per input."""
        if self.resampling is not None:
            x = x @ self.resampling
        return (x - x.mean(dim=-1, keepdim=True)) / self.input_scale[:, None]

    def mapped(self, x: torch.Tensor) -> torch.Tensor:
        """Return the model's channels (parcels or inputs) before their own scaling."""
        x = self.centred(x)
        return x if self.parcels is None else self.parcels @ x

    def standardised(self, x: torch.Tensor) -> torch.Tensor:
        """Return the model's channels of windows ``x``, scaled per channel."""
        return self.mapped(x) / self.channel_scale[:, None]

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Return the tokens (batch, channels, times) of windows ``x``."""
        signal = self.standardised(x)
        batch, channels, times = signal.shape
        return self.tokeniser.tokens(signal.reshape(batch * channels, times)).reshape(
            batch, channels, times
        )

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Return the pooled hidden states (batch, channels * bins * width) of windows ``x``."""
        hidden = self.transformer.hidden(self.tokens(x), self.channel_ids)
        return (hidden.transpose(-1, -2) @ self.pooling).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the class logits of windows ``x``."""
        return self.head(self.dropout(self.embed(x)))
