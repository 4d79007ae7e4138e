"""EEGFormer's network: patch embedding, Transformer encoder, codebook, Transformer decoder.

The encoder and the decoder are stacks of pre-norm Transformer blocks written with plain
matrix products and a softmax, so that every graph exports to ONNX and runs identically in
ONNX Runtime; positions are sinusoidal, so one model takes sequences of any length.
"""

from __future__ import annotations

import math

import torch

from decoders.pretraining.vq import Quantized, VectorQuantizer

from .spectra import SpectralPatches

MAX_TOKENS = 4096


def sinusoidal_positions(n_positions: int, dim: int) -> torch.Tensor:
    """Return the fixed sine/cosine position codes (n_positions, dim) of Vaswani et al."""
    position = torch.arange(n_positions, dtype=torch.float64)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
    codes = torch.zeros(n_positions, dim, dtype=torch.float64)
    codes[:, 0::2] = torch.sin(position * rate)
    codes[:, 1::2] = torch.cos(position * rate)[:, : dim // 2]
    return codes.float()


class Block(torch.nn.Module):
    """A pre-norm Transformer block: self-attention then a GELU feed-forward, with residuals."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"the width {dim} does not split into {heads} heads")
        self.heads = heads
        self.norm1, self.norm2 = torch.nn.LayerNorm(dim), torch.nn.LayerNorm(dim)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.out = torch.nn.Linear(dim, dim)
        self.ff = torch.nn.Sequential(
            torch.nn.Linear(dim, 4 * dim), torch.nn.GELU(), torch.nn.Linear(4 * dim, dim)
        )
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the block's output for tokens ``x`` (n, tokens, dim)."""
        n, tokens, dim = x.shape
        head = dim // self.heads
        qkv = self.qkv(self.norm1(x)).reshape(n, tokens, 3, self.heads, head)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head), dim=-1)
        attended = (self.dropout(weights) @ v).transpose(1, 2).reshape(n, tokens, dim)
        x = x + self.dropout(self.out(attended))
        return x + self.dropout(self.ff(self.norm2(x)))


class Stack(torch.nn.Module):
    """Sinusoidal positions added, then ``depth`` blocks and (by default) a final layer norm.

    ``final_norm=False`` leaves the output the blocks' residual stream, which keeps each
    token's scale (a layer norm sets every token to unit scale).
    """

    def __init__(
        self, dim: int, depth: int, heads: int, dropout: float, *, final_norm: bool = True
    ) -> None:
        super().__init__()
        self.blocks = torch.nn.ModuleList(Block(dim, heads, dropout) for _ in range(depth))
        self.norm = torch.nn.LayerNorm(dim) if final_norm else torch.nn.Identity()
        self.register_buffer("positions", sinusoidal_positions(MAX_TOKENS, dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the stack's output for tokens ``x`` (n, tokens, dim)."""
        x = x + self.positions[: x.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class EEGFormerBackbone(torch.nn.Module):
    """Everything of EEGFormer but a task head: tokens, encoder, codebook, decoder.

    Parameters
    ----------
    patch, stride : int
        Patch length and step in samples (at the model's rate).
    dim : int
        Width of the encoder and the decoder.
    depth, decoder_depth : int
        Blocks of the encoder and of the decoder.
    heads : int
        Attention heads.
    n_codes, code_dim : int
        Codebook size and code dimension.
    cosine : bool
        A cosine (l2-normalised) codebook instead of a Euclidean one.
    beta : float
        Weight of the commitment loss.
    dropout : float
        Dropout in the Transformer blocks.
    seed : int
        Seeds the codebook's initialisation and restarts.
    """

    def __init__(
        self,
        *,
        patch: int,
        stride: int,
        dim: int,
        depth: int,
        decoder_depth: int,
        heads: int,
        n_codes: int,
        code_dim: int,
        cosine: bool = False,
        beta: float = 0.25,
        dropout: float = 0.1,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.tokens = SpectralPatches(patch, stride)
        n_bins = self.tokens.n_bins
        self.embed = torch.nn.Linear(n_bins, dim)
        self.encoder = Stack(dim, depth, heads, dropout)
        self.to_code = torch.nn.Linear(dim, code_dim)
        self.quantizer = VectorQuantizer(n_codes, code_dim, cosine=cosine, beta=beta, seed=seed)
        self.from_code = torch.nn.Linear(code_dim, dim)
        self.decoder = Stack(dim, decoder_depth, heads, dropout)
        self.reconstruct = torch.nn.Linear(dim, n_bins)

    def encode(self, x: torch.Tensor, weight: torch.Tensor | None = None) -> Quantized:
        """Return the quantised tokens of sequences ``x`` (n, n_times): (n, tokens, code_dim)."""
        features = self.tokens(x)
        return self._quantise(features, weight)

    def states(self, x: torch.Tensor) -> torch.Tensor:
        """Return the encoder's states before quantisation (n, tokens, code_dim) of ``x``."""
        return self._states(self.tokens(x))

    def _states(self, features: torch.Tensor) -> torch.Tensor:
        return self.to_code(self.encoder(self.embed(features)))

    def _quantise(self, features: torch.Tensor, weight: torch.Tensor | None) -> Quantized:
        hidden = self._states(features)
        mask = None if weight is None else weight[:, None].expand(hidden.shape[:2])
        return self.quantizer(hidden, mask)

    def reconstruction_loss(
        self, x: torch.Tensor, weight: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the weighted spectral reconstruction error and the codebook loss of ``x``."""
        error, quantised = self._reconstructed(x, weight)
        return (error * weight).sum() / weight.sum().clamp_min(1.0), quantised.loss

    def reconstruction_error(self, x: torch.Tensor) -> torch.Tensor:
        """Return each sequence's mean squared spectral reconstruction error (n,)."""
        return self._reconstructed(x, None)[0]

    def _reconstructed(
        self, x: torch.Tensor, weight: torch.Tensor | None
    ) -> tuple[torch.Tensor, Quantized]:
        features = self.tokens(x)
        quantised = self._quantise(features, weight)
        recon = self.reconstruct(self.decoder(self.from_code(quantised.vectors)))
        return (recon - features).pow(2).mean(dim=(1, 2)), quantised
