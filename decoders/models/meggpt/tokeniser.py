"""MEG-GPT's data-driven tokeniser: one token per sample of a standardised time course.

The encoder (1-D convolutions over one channel's standardised time course, same length in
and out) gives every sample a vector; the shared :class:`~decoders.pretraining.vq.VectorQuantizer`
replaces it by the nearest of ``n_tokens`` codes, whose index is the sample's token. Nothing is
pooled or transformed away: there are as many tokens as samples. The decoder is one linear
convolution over the code vectors, ``x'[t] = sum_tau W[tau] . c[z[t + tau]]``: every token
``k`` owns a waveform kernel ``e_k[tau] = W[tau] . c_k`` of ``token_kernel`` samples and the
reconstruction at ``t`` sums the kernels of the tokens around ``t``, the dictionary of token
kernels of Huang et al. (2025). Trained to reconstruct the waveform (mean squared error plus
the commitment loss).
"""

from __future__ import annotations

import torch

from decoders.pretraining.vq import Quantized, VectorQuantizer


def standardise(x: torch.Tensor) -> torch.Tensor:
    """Return time courses (..., times) z-scored, whatever their unit (flat ones stay 0).

    No additive epsilon: MEG in tesla has standard deviations near 1e-13.
    """
    centred = x - x.mean(dim=-1, keepdim=True)
    scale = centred.std(dim=-1, keepdim=True)
    return centred / scale.where(scale > 0, torch.ones_like(scale))


def variance_explained(signal: torch.Tensor, reconstruction: torch.Tensor) -> float:
    """Return the share of ``signal``'s variance that ``reconstruction`` explains (1 - SSE/SST)."""
    centred = signal - signal.mean(dim=-1, keepdim=True)
    error = (signal - reconstruction).pow(2).sum()
    return float(1.0 - error / centred.pow(2).sum().clamp_min(1e-12))


class Tokeniser(torch.nn.Module):
    """Standardised time courses (n, times) <-> tokens (n, times).

    Parameters
    ----------
    n_tokens, code_dim : int
        Vocabulary size and dimension of the code vectors.
    width, layers, kernel : int
        Feature maps, hidden convolutions and (odd) kernel size of the encoder.
    token_kernel : int
        Samples of each token's waveform kernel in the decoder (odd).
    beta, decay, dead_threshold : float
        Commitment weight, EMA decay and dead-code threshold of the codebook.
    seed : int
        Seeds the codebook's initialisation and restarts.
    """

    def __init__(
        self,
        *,
        n_tokens: int,
        code_dim: int,
        width: int,
        layers: int,
        kernel: int,
        token_kernel: int,
        beta: float,
        decay: float,
        dead_threshold: float,
        seed: int,
    ) -> None:
        super().__init__()
        if kernel % 2 == 0 or token_kernel % 2 == 0:
            raise ValueError(f"kernels must be odd (encoder {kernel}, token {token_kernel})")
        modules: list[torch.nn.Module] = []
        features = 1
        for _ in range(layers):
            conv = torch.nn.Conv1d(features, width, kernel, padding=kernel // 2)
            torch.nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            torch.nn.init.zeros_(conv.bias)
            modules += [conv, torch.nn.GELU()]
            features = width
        modules.append(torch.nn.Conv1d(features, code_dim, 1))
        self.encoder = torch.nn.Sequential(*modules)
        self.quantizer = VectorQuantizer(
            n_tokens, code_dim, beta=beta, decay=decay, dead_threshold=dead_threshold, seed=seed
        )
        self.decoder = torch.nn.Conv1d(code_dim, 1, token_kernel, padding=token_kernel // 2)

    @property
    def n_tokens(self) -> int:
        """Return the vocabulary size."""
        return self.quantizer.n_codes

    def vectors(self, x: torch.Tensor) -> torch.Tensor:
        """Return the encoder's vector of every sample of ``x`` (n, times) -> (n, times, dim)."""
        return self.encoder(x[:, None, :]).transpose(1, 2)

    def forward(self, x: torch.Tensor, weight: torch.Tensor | None = None) -> Quantized:
        """Return the quantised samples of ``x`` (n, times); ``weight`` (n,) masks sequences."""
        vectors = self.vectors(x)
        mask = None if weight is None else weight[:, None].expand(vectors.shape[:2])
        return self.quantizer(vectors, mask)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Return the token of every sample of ``x`` (n, times) -> (n, times)."""
        return self.quantizer.codes_of(self.vectors(x))

    def reconstruct(self, vectors: torch.Tensor) -> torch.Tensor:
        """Return waveforms (n, times) from code vectors (n, times, dim)."""
        return self.decoder(vectors.transpose(1, 2))[:, 0]

    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Return the waveforms (n, times) of token sequences (n, times)."""
        return self.reconstruct(self.quantizer.lookup(tokens))

    def losses(self, x: torch.Tensor, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the weighted reconstruction error of ``x`` (n, times) and the codebook loss."""
        quantised = self(x, weight)
        error = (self.reconstruct(quantised.vectors) - x).pow(2).mean(dim=1)
        return (error * weight).sum() / weight.sum().clamp_min(1.0), quantised.loss
