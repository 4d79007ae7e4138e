"""STAN's network: patch tokens per channel, cascaded spatial and temporal attention blocks.

Each window (channels x time) is cut into patches of ``patch`` samples; every (channel, patch)
becomes a token from its standardised samples (linear embedding, which keeps the phase that
spatial attention needs to weigh synchrony between channels) and the log power of a learned
filter bank over the patch (spectral power), plus learned channel and patch-position codes.
A block attends across channels within each patch (spatial module), then across patches
within each channel (temporal module); three blocks cascade, so spatial and temporal
dependencies inform each other. The tokens' mean is the representation from which the head
forecasts (and on which the adversarial critic works, see :mod:`.adversarial`).

Attention is written with plain matrix products and a softmax, so the graph exports to ONNX
and runs identically in ONNX Runtime.
"""

from __future__ import annotations

import math

import torch

_EPS = 1e-6


class Attention(torch.nn.Module):
    """A pre-norm self-attention and feed-forward module over one axis of the tokens.

    ``last_weights`` keeps the attention weights (n, heads, tokens, tokens) of the last call
    when ``keep_weights`` is set (for inspection; never in the exported graph's outputs).
    """

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"the width {dim} does not split into {heads} heads")
        self.heads = heads
        self.norm_in, self.norm_ff = torch.nn.LayerNorm(dim), torch.nn.LayerNorm(dim)
        self.project = torch.nn.Linear(dim, 3 * dim)
        self.merge = torch.nn.Linear(dim, dim)
        self.feed = torch.nn.Sequential(
            torch.nn.Linear(dim, 2 * dim), torch.nn.GELU(), torch.nn.Linear(2 * dim, dim)
        )
        self.drop = torch.nn.Dropout(dropout)
        self.keep_weights = False
        self.last_weights: torch.Tensor | None = None

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Return the module's output for ``tokens`` (n, length, dim)."""
        n, length, dim = tokens.shape
        width = dim // self.heads
        q, k, v = (
            self.project(self.norm_in(tokens))
            .reshape(n, length, 3, self.heads, width)
            .permute(2, 0, 3, 1, 4)
        )
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(width), dim=-1)
        if self.keep_weights:
            self.last_weights = weights.detach()
        mixed = (self.drop(weights) @ v).transpose(1, 2).reshape(n, length, dim)
        tokens = tokens + self.drop(self.merge(mixed))
        return tokens + self.drop(self.feed(self.norm_ff(tokens)))


class SpatioTemporalBlock(torch.nn.Module):
    """Spatial attention across channels within each patch, then temporal across patches."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.spatial = Attention(dim, heads, dropout)
        self.temporal = Attention(dim, heads, dropout)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Return the block's output for tokens (batch, channels, patches, dim)."""
        batch, channels, patches, dim = tokens.shape
        across_channels = tokens.permute(0, 2, 1, 3).reshape(batch * patches, channels, dim)
        tokens = (
            self.spatial(across_channels).reshape(batch, patches, channels, dim).permute(0, 2, 1, 3)
        )
        across_patches = tokens.reshape(batch * channels, patches, dim)
        return self.temporal(across_patches).reshape(batch, channels, patches, dim)


class PatchTokens(torch.nn.Module):
    """Tokens of (channel, patch): linear embedding of the samples plus filter-bank log power."""

    def __init__(
        self, n_channels: int, n_patches: int, patch: int, n_filters: int, kernel: int, dim: int
    ) -> None:
        super().__init__()
        self.n_patches, self.patch = n_patches, patch
        self.samples = torch.nn.Linear(patch, dim)
        self.filters = torch.nn.Conv1d(1, n_filters, kernel, padding=kernel // 2, bias=False)
        self.power = torch.nn.Linear(n_filters, dim)
        self.channel_code = torch.nn.Parameter(torch.randn(n_channels, 1, dim) * 0.02)
        self.patch_code = torch.nn.Parameter(torch.randn(1, n_patches, dim) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return tokens (batch, channels, patches, dim) of windows ``x`` (batch, channels, times)."""
        batch, channels, _ = x.shape
        used = self.n_patches * self.patch
        x = x[:, :, x.shape[-1] - used :]  # the most recent whole patches
        patches = x.reshape(batch, channels, self.n_patches, self.patch)
        filtered = self.filters(x.reshape(batch * channels, 1, used))
        filtered = filtered[..., :used].reshape(batch, channels, -1, self.n_patches, self.patch)
        log_power = torch.log(torch.mean(filtered * filtered, dim=-1) + _EPS).transpose(2, 3)
        return self.samples(patches) + self.power(log_power) + self.channel_code + self.patch_code


class StanNetwork(torch.nn.Module):
    """Patch tokens, ``depth`` spatio-temporal blocks, mean pooling and a linear head.

    Parameters
    ----------
    n_channels, n_times : int
        Window shape.
    n_classes : int
        Outputs.
    patch : int
        Samples per patch (capped at ``n_times``).
    dim, heads, depth : int
        Token width, attention heads, cascaded blocks.
    n_filters, kernel : int
        Filter bank giving the tokens' spectral power.
    dropout : float
        Dropout inside the blocks.
    """

    def __init__(
        self,
        *,
        n_channels: int,
        n_times: int,
        n_classes: int,
        patch: int,
        dim: int = 64,
        heads: int = 4,
        depth: int = 3,
        n_filters: int = 8,
        kernel: int = 33,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        patch = max(1, min(patch, n_times))
        self.tokens = PatchTokens(n_channels, n_times // patch, patch, n_filters, kernel | 1, dim)
        self.blocks = torch.nn.ModuleList(
            SpatioTemporalBlock(dim, heads, dropout) for _ in range(depth)
        )
        self.norm = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Linear(dim, n_classes)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Return the representation (batch, dim) of windows ``x``."""
        tokens = self.tokens(x)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens.mean(dim=(1, 2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits (batch, n_classes)."""
        return self.head(self.encode(x))

    def attention_maps(self, x: torch.Tensor) -> list[dict[str, torch.Tensor]]:
        """Return each block's attention weights for windows ``x``.

        ``spatial``: (batch, patches, heads, channels, channels); ``temporal``: (batch,
        channels, heads, patches, patches); rows sum to one.
        """
        batch, channels = x.shape[:2]
        patches = self.tokens.n_patches
        modules = [m for block in self.blocks for m in (block.spatial, block.temporal)]
        for module in modules:
            module.keep_weights = True
        try:
            with torch.no_grad():
                self(x)
            return [
                {
                    "spatial": block.spatial.last_weights.reshape(
                        batch, patches, -1, channels, channels
                    ),
                    "temporal": block.temporal.last_weights.reshape(
                        batch, channels, -1, patches, patches
                    ),
                }
                for block in self.blocks
            ]
        finally:
            for module in modules:
                module.keep_weights, module.last_weights = False, None
