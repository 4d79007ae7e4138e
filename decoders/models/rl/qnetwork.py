"""The 1D-CNN-LSTM Q-network of RLEEGNet, and the whole decoder module with its stream step.

A causal temporal convolution (left-padded, so a stream started from zeros computes the same
thing) with batch normalisation and ELU, a max-pool, a second causal convolution at the
pooled rate, a second max-pool down to one vector per LSTM step, an LSTM, and a linear head
giving one Q-value per action (class) from the last LSTM output. The Q-values are the
decoder's raw outputs (logits): the greedy action is the prediction.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from .csp_space import CspSpace

if TYPE_CHECKING:
    from torch import Tensor


def pooling(step_samples: int) -> tuple[int, int]:
    """Split about ``step_samples`` samples per LSTM step into two pooling lengths."""
    first = max(1, round(math.sqrt(step_samples)))
    return first, max(1, step_samples // first)


class QNetwork(torch.nn.Module):
    """Q-values (batch, n_actions) of csp-space windows (batch, n_inputs, n_times).

    Parameters
    ----------
    n_inputs, n_actions : int
        Csp-space signals and classes.
    n_times : int
        Window length; the oldest ``n_times % (pool1 * pool2)`` samples are dropped.
    conv_channels : int
        Width of both convolutions.
    kernel : int
        First convolution's kernel, in samples (at least 2).
    pools : (int, int)
        Max-pool lengths after each convolution; their product is the samples per LSTM step.
    kernel_pooled : int
        Second convolution's kernel, in pooled steps (at least 2).
    hidden : int
        LSTM size.
    dropout : float
        Dropout before the head during training.
    """

    def __init__(
        self,
        n_inputs: int,
        n_actions: int,
        n_times: int,
        conv_channels: int = 16,
        kernel: int = 5,
        pools: tuple[int, int] = (1, 1),
        kernel_pooled: int = 3,
        hidden: int = 32,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        if kernel < 2 or kernel_pooled < 2:
            raise ValueError(f"kernels must be at least 2, got {kernel} and {kernel_pooled}")
        self.conv1 = torch.nn.Conv1d(n_inputs, conv_channels, kernel)
        self.norm1 = torch.nn.BatchNorm1d(conv_channels)
        self.conv2 = torch.nn.Conv1d(conv_channels, conv_channels, kernel_pooled)
        self.norm2 = torch.nn.BatchNorm1d(conv_channels)
        self.lstm = torch.nn.LSTM(conv_channels, hidden, batch_first=True)
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(hidden, n_actions)
        self.pools = pools
        self.step_samples = pools[0] * pools[1]
        self.n_steps = n_times // self.step_samples
        self.hidden = hidden

    def convolve(self, x: Tensor) -> Tensor:
        """Return the pooled features (batch, steps, conv_channels) of whole windows."""
        x = x[..., x.shape[-1] - self.n_steps * self.step_samples :]
        x = F.pad(x, (self.conv1.kernel_size[0] - 1, 0))
        x = F.max_pool1d(F.elu(self.norm1(self.conv1(x))), self.pools[0])
        x = F.pad(x, (self.conv2.kernel_size[0] - 1, 0))
        x = F.max_pool1d(F.elu(self.norm2(self.conv2(x))), self.pools[1])
        return x.transpose(1, 2)

    def forward(self, x: Tensor) -> Tensor:
        """Return Q-values from the last LSTM output."""
        outputs, _ = self.lstm(self.convolve(x))
        return self.head(self.dropout(outputs[:, -1]))


class RleegnetModule(torch.nn.Module):
    """Csp space followed by the Q-network: raw windows in, Q-values out."""

    def __init__(self, front: CspSpace, qnet: QNetwork) -> None:
        super().__init__()
        self.front = front
        self.qnet = qnet

    def forward(self, x: Tensor) -> Tensor:
        """Return Q-values (batch, n_classes) of windows (batch, channels, n_times)."""
        return self.qnet(self.front(x))


class RleegnetStream(torch.nn.Module):
    """One LSTM step of :class:`RleegnetModule` with explicit state, for decoding a stream.

    ``forward(block, conv1_history, conv2_history, lstm_h, lstm_c) -> (q_values, *state)``:
    ``block`` is (batch, channels, ``block_samples``) raw samples (one pooling window); the
    histories hold the last ``kernel - 1`` inputs of each convolution, the LSTM state is
    (batch, hidden). After ``n_steps`` blocks the Q-values equal the window output.
    """

    state_names = ("conv1_history", "conv2_history", "lstm_h", "lstm_c")

    def __init__(self, module: RleegnetModule) -> None:
        super().__init__()
        self.module = module
        self.block_samples = module.qnet.step_samples

    def initial_state(self, batch: int) -> tuple[Tensor, ...]:
        """Return the state of a stream that starts now (distinct tensors)."""
        qnet = self.module.qnet
        new_zeros = qnet.head.weight.new_zeros
        return (
            new_zeros(batch, qnet.conv1.in_channels, qnet.conv1.kernel_size[0] - 1),
            new_zeros(batch, qnet.conv2.in_channels, qnet.conv2.kernel_size[0] - 1),
            new_zeros(batch, qnet.hidden),
            new_zeros(batch, qnet.hidden),
        )

    def forward(
        self, block: Tensor, history1: Tensor, history2: Tensor, h: Tensor, c: Tensor
    ) -> tuple[Tensor, ...]:
        """Advance by one block; return the Q-values and the new state."""
        if block.shape[-1] != self.block_samples:
            raise ValueError(
                f"a streaming block holds {self.block_samples} samples, got {block.shape[-1]}"
            )
        qnet = self.module.qnet
        x = torch.cat([history1, self.module.front(block)], dim=-1)
        history1 = x[..., x.shape[-1] - history1.shape[-1] :]
        x = F.max_pool1d(F.elu(qnet.norm1(qnet.conv1(x))), qnet.pools[0])
        x = torch.cat([history2, x], dim=-1)
        history2 = x[..., x.shape[-1] - history2.shape[-1] :]
        x = F.elu(qnet.norm2(qnet.conv2(x)))
        step = torch.amax(x, dim=-1, keepdim=True).transpose(1, 2)
        output, (h, c) = qnet.lstm(step, (h[None], c[None]))
        return qnet.head(output[:, -1]), history1, history2, h[0], c[0]
