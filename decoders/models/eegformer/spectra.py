"""Tokens of one channel: the log amplitude spectra of its patches, normalised per sequence.

A sequence (n, n_times) is scaled to unit variance, cut into patches of ``patch`` samples
every ``stride`` samples, each patch Hann-windowed and transformed by a real DFT written as
two matrix products (so the graph exports to ONNX and runs identically in ONNX Runtime),
and its log amplitude taken; the token features are then standardised over the sequence
(instance normalisation). Amplitude and DC offsets of the input therefore do not matter.
"""

from __future__ import annotations

import math

import torch

EPSILON = 1e-6


def n_patches(n_times: int, patch: int, stride: int) -> int:
    """Return the patches of a sequence of ``n_times`` samples (0 when shorter than a patch)."""
    return 0 if n_times < patch else 1 + (n_times - patch) // stride


class SpectralPatches(torch.nn.Module):
    """(n, n_times) sequences -> (n, n_patches, patch // 2 + 1) standardised log spectra.

    Parameters
    ----------
    patch, stride : int
        Patch length and step in samples.
    """

    def __init__(self, patch: int, stride: int) -> None:
        super().__init__()
        self.patch, self.stride = patch, stride
        self.n_bins = patch // 2 + 1
        time = torch.arange(patch, dtype=torch.float64)
        frequency = torch.arange(self.n_bins, dtype=torch.float64)
        angle = 2.0 * math.pi * time[:, None] * frequency[None, :] / patch
        window = torch.hann_window(patch, periodic=False, dtype=torch.float64)[:, None]
        self.register_buffer("cosine", (window * torch.cos(angle)).float(), persistent=False)
        self.register_buffer("sine", (window * torch.sin(angle)).float(), persistent=False)

    def patch_index(self, n_times: int) -> torch.Tensor:
        """Return the sample indices (n_patches, patch) of every patch."""
        count = n_patches(n_times, self.patch, self.stride)
        if count == 0:
            raise ValueError(
                f"sequences of {n_times} samples are shorter than one patch of {self.patch}"
            )
        starts = torch.arange(count) * self.stride
        return starts[:, None] + torch.arange(self.patch)[None, :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the token features of sequences ``x`` (n, n_times)."""
        x = x - x.mean(dim=-1, keepdim=True)
        # scale-free: MEG in tesla has an sd near 1e-13, far below any fixed epsilon
        x = x / torch.clamp(x.std(dim=-1, keepdim=True), min=torch.finfo(x.dtype).tiny)
        patches = x[:, self.patch_index(x.shape[-1]).to(x.device)]
        real, imaginary = patches @ self.cosine, patches @ self.sine
        amplitude = torch.sqrt(real * real + imaginary * imaginary + EPSILON)
        features = torch.log(amplitude)
        mean = features.mean(dim=(-1, -2), keepdim=True)
        spread = features.std(dim=(-1, -2), keepdim=True) + EPSILON
        return (features - mean) / spread
