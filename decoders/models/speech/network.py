"""The brain module: spatial attention, subject layers, dilated residual convolutions, a head.

After Défossez et al. (2023), written here under this project's licence and composed with
braindecode's BSD-3 blocks: :class:`braindecode.modules.ChannelMerger` (attention of each
virtual channel over the sensors, from a Fourier embedding of their 2-D positions, with
spatial dropout during training) and :class:`braindecode.modules.SubjectLayers` (one matrix
per subject; the last one is shared, used for subjects not seen in training and learnt by
routing a share of the training windows to it).

Windows (batch, channels, times) are centred per channel, scaled by each channel's training
deviation and clipped at ``clip`` deviations; the network keeps the time axis until the
head, which either maps it into the speech-feature space (``n_features`` per frame, frames
pooled to the features' rate, flattened) or classifies its average (``n_classes``).
"""

from __future__ import annotations

import copy

import torch
from braindecode.modules import ChannelMerger, SubjectLayers
from torch import nn


class SpatialAttention(nn.Module):
    """Virtual channels attending over sensors by position (positions in a buffer).

    Parameters
    ----------
    n_channels : int
        Sensors of the deployed montage (their 2-D positions fill :attr:`positions`).
    n_virtual : int
        Virtual channels out.
    fourier_dim : int
        Size of the Fourier embedding of positions (``2 * k**2``).
    dropout_radius : float
        Spatial dropout: during training the sensors within this distance of a random point
        are left out.
    """

    def __init__(self, n_channels: int, n_virtual: int, fourier_dim: int, dropout_radius: float):
        super().__init__()
        self.merger = ChannelMerger(n_virtual, fourier_dim, dropout_radius)
        self.register_buffer("positions", torch.zeros(n_channels, 2))

    def mixing(self, positions: torch.Tensor) -> torch.Tensor:
        """Return the attention weights (montages, virtual, sensors) of positions (montages, sensors, 2).

        Sensors at the merger's invalid position (-0.1, -0.1) are padding and get no weight.
        """
        identity = torch.eye(positions.shape[1], device=positions.device)
        return self.merger(identity.expand(len(positions), -1, -1), positions)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Mix (batch, sensors, times) into (batch, virtual, times).

        ``positions`` (batch, sensors, 2) gives each window its own montage (padded with the
        invalid position); by default every window has the deployed montage.
        """
        if positions is None:
            return self.mixing(self.positions[None])[0] @ x
        montages, which = torch.unique(positions, dim=0, return_inverse=True)
        return self.mixing(montages)[which] @ x


class DilatedBlock(nn.Module):
    """Two residual dilated convolutions (batch norm, GELU), then a convolution halved by a GLU."""

    def __init__(
        self, n_in: int, hidden: int, kernel: int, dilations: tuple[int, int], dropout: float
    ):
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for index, dilation in enumerate(dilations):
            width = n_in if index == 0 else hidden
            self.convs.append(
                nn.Conv1d(
                    width, hidden, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation
                )
            )
            self.norms.append(nn.BatchNorm1d(hidden))
        self.gated = nn.Conv1d(hidden, 2 * hidden, kernel, padding=kernel - 1, dilation=2)
        self.dropout = nn.Dropout(dropout)
        self.residual_first = n_in == hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to (batch, n_in, times)."""
        for index, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            y = nn.functional.gelu(norm(conv(x)))
            x = x + y if index > 0 or self.residual_first else y
        return self.dropout(nn.functional.glu(self.gated(x), dim=1))


class BrainModule(nn.Module):
    """The whole network (see the module docstring).

    Parameters
    ----------
    n_channels : int
        Sensors in a window.
    n_times : int
        Samples in a window.
    n_subjects : int
        Subjects with their own layer (a shared one is added).
    n_features, pool : int
        Speech features per frame, and brain samples per feature frame (``n_times`` must be a
        multiple of it); with ``n_classes`` set, unused.
    n_classes : int, optional
        Classify instead: the head gives one logit per class.
    spatial_attention : bool
        Attend over sensors by position; False: a learnt linear map of the channels.
    n_virtual, fourier_dim, dropout_radius
        Spatial attention settings (:class:`SpatialAttention`).
    hidden, n_blocks, kernel, dropout
        Width, number of :class:`DilatedBlock`, kernel size, dropout after each block.
    clip : float
        Standardised samples are clipped at this many deviations.
    """

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        n_subjects: int,
        *,
        n_features: int = 0,
        pool: int = 1,
        n_classes: int | None = None,
        spatial_attention: bool = True,
        n_virtual: int = 270,
        fourier_dim: int = 2048,
        dropout_radius: float = 0.2,
        hidden: int = 320,
        n_blocks: int = 5,
        kernel: int = 3,
        dropout: float = 0.0,
        clip: float = 20.0,
    ):
        super().__init__()
        self.register_buffer("scale", torch.ones(1, n_channels, 1))
        self.register_buffer("subject_ids", torch.zeros(n_subjects, dtype=torch.long))
        self.register_buffer("default_subject", torch.tensor(n_subjects))
        self.clip = clip
        if spatial_attention:
            self.spatial = SpatialAttention(n_channels, n_virtual, fourier_dim, dropout_radius)
        else:
            self.spatial = nn.Conv1d(n_channels, n_virtual, 1)
        self.initial = nn.Conv1d(n_virtual, n_virtual, 1)
        self.subjects = SubjectLayers(n_virtual, n_virtual, n_subjects + 1, init_id=True)
        blocks, width = [], n_virtual
        for index in range(n_blocks):
            dilations = (2 ** ((2 * index) % 5), 2 ** ((2 * index + 1) % 5))
            blocks.append(DilatedBlock(width, hidden, kernel, dilations, dropout))
            width = hidden
        self.blocks = nn.Sequential(*blocks)
        self.classify = n_classes is not None
        if self.classify:
            self.head = nn.Linear(hidden, n_classes)
        else:
            if n_times % pool:
                raise ValueError(f"{n_times} samples are not a whole number of frames of {pool}")
            self.head = nn.Sequential(
                nn.Conv1d(hidden, 2 * hidden, 1),
                nn.GELU(),
                nn.Conv1d(2 * hidden, n_features, 1),
                nn.AvgPool1d(pool),
                nn.Flatten(),
            )

    @property
    def shared_subject(self) -> int:
        """Return the index of the shared subject layer."""
        return len(self.subject_ids)

    def forward(
        self,
        x: torch.Tensor,
        subjects: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return embeddings (batch, n_features * frames) or logits (batch, n_classes).

        ``subjects`` are subject-layer indices (default: :attr:`default_subject` for every
        window); ``positions`` give each window its own montage (see :class:`SpatialAttention`).
        """
        x = torch.clamp((x - x.mean(dim=-1, keepdim=True)) / self.scale, -self.clip, self.clip)
        x = self.spatial(x) if positions is None else self.spatial(x, positions)
        x = self.initial(x)
        if subjects is None:  # one subject's matrix for the whole batch
            weights = self.subjects.weights[self.default_subject]
            x = torch.einsum("bct,cd->bdt", x, weights)
        else:
            x = self.subjects(x, subjects)
        x = self.blocks(x)
        return self.head(x.mean(dim=-1)) if self.classify else self.head(x)


class FixedMixing(nn.Module):
    """A fixed linear map of the sensors: the spatial attention of one montage, precomputed."""

    def __init__(self, weights: torch.Tensor):
        super().__init__()
        self.register_buffer("weights", weights.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mix (batch, sensors, times) into (batch, virtual, times)."""
        return self.weights @ x


def deployed(module: BrainModule) -> BrainModule:
    """Return a copy of a trained module for one montage: its attention weights precomputed.

    The Fourier embedding and attention scores of the deployed sensors do not change once
    trained; computing them for every window would cost more than the rest of the network.
    """
    rewrite = copy.deepcopy(module).eval()
    if isinstance(rewrite.spatial, SpatialAttention):
        with torch.no_grad():
            weights = rewrite.spatial.mixing(rewrite.spatial.positions[None])[0]
        rewrite.spatial = FixedMixing(weights)
    return rewrite
