"""MEG-GPT's causal Transformer: the next token of every channel from the past of all channels.

Input: tokens (batch, channels, times) with an id per channel (a parcel or a sensor name). Each
token becomes the sum of its token embedding, its channel's embedding and a sinusoidal code of
its time. Each block attends over time within every channel, causally (a token sees its own
channel's tokens up to its time), then across channels at the same time step (a token sees
every channel's token of its own time, none later), then applies a feed-forward layer; all
three pre-norm with residuals. The output at ``(c, t)`` therefore depends on tokens up to ``t``
only, and the head predicts the token of channel ``c`` at ``t + 1``. Written with plain matrix
products, masks and a softmax, so the graph exports to ONNX.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from decoders.models.eegformer.backbone import MAX_TOKENS, sinusoidal_positions


def attend(
    qkv: torch.nn.Linear,
    out: torch.nn.Linear,
    x: torch.Tensor,
    heads: int,
    *,
    causal: bool = False,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return multi-head self-attention within each sequence of ``x`` (sequences, n, dim).

    ``causal``: position ``i`` attends to positions up to ``i`` only. ``mask`` (sequences, 1,
    1, n) of bool: False for positions nothing attends to.
    """
    sequences, n, dim = x.shape
    q, k, v = qkv(x).reshape(sequences, n, 3, heads, dim // heads).permute(2, 0, 3, 1, 4)
    mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    return out(mixed.transpose(1, 2).reshape(sequences, n, dim))


class SpaceTimeBlock(torch.nn.Module):
    """Causal attention over time, attention across channels at each time, feed-forward."""

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"the width {width} does not split into {heads} heads")
        self.heads = heads
        self.norms = torch.nn.ModuleList(torch.nn.LayerNorm(width) for _ in range(3))
        self.time_qkv = torch.nn.Linear(width, 3 * width)
        self.time_out = torch.nn.Linear(width, width)
        self.space_qkv = torch.nn.Linear(width, 3 * width)
        self.space_out = torch.nn.Linear(width, width)
        self.ff = torch.nn.Sequential(
            torch.nn.Linear(width, 4 * width), torch.nn.GELU(), torch.nn.Linear(4 * width, width)
        )
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, present: torch.Tensor | None = None) -> torch.Tensor:
        """Return the block's output for ``x`` (batch, channels, times, width).

        ``present`` (batch, channels) of bool: False for padding channels, which no token
        attends to.
        """
        batch, channels, times, width = x.shape
        along = self.norms[0](x).reshape(batch * channels, times, width)
        time = attend(self.time_qkv, self.time_out, along, self.heads, causal=True)
        x = x + self.dropout(time.reshape(batch, channels, times, width))
        across = self.norms[1](x).transpose(1, 2).reshape(batch * times, channels, width)
        mask = None
        if present is not None:
            mask = present[:, None, None, None, :].expand(batch, times, 1, 1, channels)
            mask = mask.reshape(batch * times, 1, 1, channels)
        space = attend(self.space_qkv, self.space_out, across, self.heads, mask=mask)
        x = x + self.dropout(space.reshape(batch, times, channels, width).transpose(1, 2))
        return x + self.dropout(self.ff(self.norms[2](x)))


class CausalTransformer(torch.nn.Module):
    """Tokens (batch, channels, times) -> next-token logits (batch, channels, times, n_tokens).

    Parameters
    ----------
    n_tokens : int
        Vocabulary of the tokeniser.
    n_channels : int
        Channel ids the channel embedding knows.
    width, depth, heads : int
        Model width, blocks and attention heads.
    dropout : float
        Dropout in the blocks.
    """

    def __init__(
        self, *, n_tokens: int, n_channels: int, width: int, depth: int, heads: int, dropout: float
    ) -> None:
        super().__init__()
        self.token = torch.nn.Embedding(n_tokens, width)
        self.channel = torch.nn.Embedding(n_channels, width)
        self.blocks = torch.nn.ModuleList(
            SpaceTimeBlock(width, heads, dropout) for _ in range(depth)
        )
        self.norm = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, n_tokens)
        self.register_buffer("positions", sinusoidal_positions(MAX_TOKENS, width), persistent=False)

    @property
    def width(self) -> int:
        """Return the model width."""
        return self.token.embedding_dim

    def hidden(
        self,
        tokens: torch.Tensor,
        channels: torch.Tensor,
        present: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return the last hidden states (batch, channels, times, width).

        Parameters
        ----------
        tokens : Tensor of int64, shape (batch, channels, times)
            Token sequences.
        channels : Tensor of int64, shape (batch, channels) or (channels,)
            The channel id of every row.
        present : Tensor of bool, shape (batch, channels), optional
            False for padding rows, which no token attends to.
        """
        n_times = tokens.shape[-1]
        x = self.token(tokens) + self.channel(channels)[..., None, :] + self.positions[:n_times]
        for block in self.blocks:
            x = block(x, present)
        return self.norm(x)

    def forward(
        self,
        tokens: torch.Tensor,
        channels: torch.Tensor,
        present: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return the logits of every channel's next token (batch, channels, times, n_tokens)."""
        return self.head(self.hidden(tokens, channels, present))
