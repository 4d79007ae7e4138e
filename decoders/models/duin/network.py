"""Du-IN's layers: per-subject channel mixing, the spatial-fusion tokenizer, the encoder.

Every layer is written with operations that export to ONNX and run identically in ONNX
Runtime. The tokenizer has no normalisation layer, unlike the paper's BatchNorm: batch
statistics would make a data-parallel run differ from one process with the same global batch
(the framework's guarantee) and differ between training and a live window of one, and a
per-patch normalisation (GroupNorm, tried first) erases the amplitude differences between
patches that carry the responses (the decoder stayed at chance on an 8-word task that LDA
solved). The input is z-scored per channel over the window and the convolutions start with
He initialisation, so tokens start at unit scale, comparable to the position codes added to
them (with PyTorch's default initialisation they were 20 times smaller, and the encoder saw
little but the positions). Like the GroupNorm, the usual final layer norm of the Transformer is
left out: it set every encoded token to unit scale, so the classifier's head saw
nothing of a patch's power (the simulated words are high-gamma power changes), and the
decoder barely left chance on held-out trials while fitting its training trials.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from decoders.models.eegformer.backbone import Stack

EPSILON = 1e-6


def standardise(x: torch.Tensor) -> torch.Tensor:
    """Return windows (..., channels, times) z-scored per channel (flat channels stay 0)."""
    centred = x - x.mean(dim=-1, keepdim=True)
    return centred / (centred.std(dim=-1, keepdim=True) + EPSILON)


def mix_channels(layer: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """Apply a channel-mixing ``layer`` to windows (batch, channels, times)."""
    return layer(x.transpose(1, 2)).transpose(1, 2)


class SpatialFusionTokenizer(torch.nn.Module):
    """Windows (batch, channels, times) -> tokens (batch, times // patch, d_model).

    Each ``patch`` samples of all channels are fused by a stack of 1-D convolutions over
    time (the channels are the convolutions' input features), and the output features of
    the patch are flattened into one token of ``filters[-1] * patch / prod(strides)`` values.

    Parameters
    ----------
    n_channels : int
        Input channels (the virtual channels of the subject layers).
    patch : int
        Samples per token.
    filters, kernels, strides : sequence of int
        Output features, kernel sizes and strides of the convolutions.
    """

    def __init__(
        self,
        n_channels: int,
        patch: int,
        filters: Sequence[int],
        kernels: Sequence[int],
        strides: Sequence[int],
    ) -> None:
        super().__init__()
        if not len(filters) == len(kernels) == len(strides):
            raise ValueError("filters, kernels and strides need one value per convolution")
        step = math.prod(strides)
        if patch % step:
            raise ValueError(f"a patch of {patch} samples does not split by strides {strides}")
        layers: list[torch.nn.Module] = []
        width = n_channels
        for out, kernel, stride in zip(filters, kernels, strides, strict=True):
            padding = math.ceil((kernel - stride) / 2)
            conv = torch.nn.Conv1d(width, out, kernel, stride, padding)
            torch.nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            torch.nn.init.zeros_(conv.bias)
            layers += [conv, torch.nn.GELU()]
            width = out
        self.convs = torch.nn.Sequential(*layers)
        self.patch = patch
        self.d_model = filters[-1] * (patch // step)
        probe = self.convs(torch.zeros(2, n_channels, patch))
        if probe.shape[-1] != patch // step:
            raise ValueError(f"kernels {kernels} with strides {strides} do not tile a patch")

    def n_tokens(self, n_times: int) -> int:
        """Return the tokens of a window of ``n_times`` samples."""
        return n_times // self.patch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the tokens of windows ``x`` (batch, channels, times)."""
        batch, channels, _ = x.shape
        tokens = self.n_tokens(x.shape[-1])
        patches = x[..., : tokens * self.patch].reshape(batch, channels, tokens, self.patch)
        patches = patches.transpose(1, 2).reshape(batch * tokens, channels, self.patch)
        return self.convs(patches).reshape(batch, tokens, self.d_model)


class DuINEncoder(torch.nn.Module):
    """Virtual channels (batch, n_channels, times) -> encoded tokens (batch, tokens, d_model).

    Parameters
    ----------
    n_channels, patch, filters, kernels, strides
        The tokenizer's (:class:`SpatialFusionTokenizer`).
    depth, heads : int
        Transformer blocks and attention heads (no final layer norm: tokens keep their scale).
    dropout : float
        Dropout in the blocks.
    """

    def __init__(
        self,
        *,
        n_channels: int,
        patch: int,
        filters: Sequence[int],
        kernels: Sequence[int],
        strides: Sequence[int],
        depth: int,
        heads: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.tokenizer = SpatialFusionTokenizer(n_channels, patch, filters, kernels, strides)
        self.d_model = self.tokenizer.d_model
        self.stack = Stack(self.d_model, depth, heads, dropout, final_norm=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the encoded tokens of virtual channels ``x``."""
        return self.stack(self.tokenizer(x))

    def masked(self, x: torch.Tensor, mask: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
        """Return the encoded tokens with masked tokens (``mask`` True) replaced by ``fill``."""
        tokens = self.tokenizer(x)
        tokens = torch.where(mask[..., None], fill.to(tokens.dtype), tokens)
        return self.stack(tokens)


class SubjectLayers(torch.nn.Module):
    """One linear layer per subject mixing its contacts into the shared virtual channels.

    Parameters
    ----------
    n_out : int
        Virtual channels (or, for output layers, the subject's contacts are the output).
    inverse : bool
        Output layers: map ``n_out`` virtual channels back to each subject's contacts.
    """

    def __init__(self, n_out: int, *, inverse: bool = False) -> None:
        super().__init__()
        self.n_out, self.inverse = n_out, inverse
        self.layers = torch.nn.ModuleDict()

    def add(self, key: str, n_contacts: int) -> None:
        """Add the layer of subject ``key`` with ``n_contacts`` contacts."""
        shape = (self.n_out, n_contacts) if self.inverse else (n_contacts, self.n_out)
        self.layers[key] = torch.nn.Linear(*shape)

    def mix(self, key: str, x: torch.Tensor) -> torch.Tensor:
        """Return windows ``x`` (batch, channels, times) through subject ``key``'s layer."""
        return mix_channels(self.layers[key], x)

    def idle_term(self, used: set[str]) -> torch.Tensor:
        """Return zero tied to the layers of subjects not in ``used``.

        Added to a loss, it gives every layer a (zero) gradient, which data parallelism
        needs when a micro-batch holds only some subjects.
        """
        term = torch.zeros(())
        for key, layer in self.layers.items():
            if key not in used:
                term = term + sum(parameter.sum() for parameter in layer.parameters()) * 0.0
        return term


class DuINNet(torch.nn.Module):
    """Windows (batch, contacts, times) -> class logits of one patient.

    The chosen contacts (``picks``, set from the training trials) are resampled to the
    encoder's rate (a fixed linear map), z-scored, mixed by the patient's layer into the
    virtual channels, encoded, and the flattened tokens classified by a linear head.

    Parameters
    ----------
    encoder : DuINEncoder
        Tokenizer and Transformer (pretrained or new).
    n_picks : int
        Contacts the network takes.
    n_times, resampled_times : int
        Window samples at the data's rate and at the encoder's.
    n_classes : int
        Outputs.
    dropout : float
        Dropout before the head.
    """

    def __init__(
        self,
        encoder: DuINEncoder,
        *,
        n_picks: int,
        n_times: int,
        resampled_times: int,
        n_classes: int,
        dropout: float,
    ) -> None:
        super().__init__()
        from decoders.models.eegformer.network import resampling_matrix

        self.register_buffer("picks", torch.arange(n_picks))
        matrix = resampling_matrix(n_times, resampled_times) if resampled_times != n_times else None
        self.register_buffer(
            "resampling", None if matrix is None else torch.from_numpy(matrix), persistent=False
        )
        n_channels = encoder.tokenizer.convs[0].in_channels
        self.subject = torch.nn.Linear(n_picks, n_channels)
        self.encoder = encoder
        n_tokens = encoder.tokenizer.n_tokens(resampled_times)
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(n_tokens * encoder.d_model, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the class logits of windows ``x``."""
        x = x.index_select(1, self.picks)
        if self.resampling is not None:
            x = x @ self.resampling
        tokens = self.encoder(mix_channels(self.subject, standardise(x)))
        return self.head(self.dropout(tokens.flatten(1)))
