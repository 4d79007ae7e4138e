"""SPD-matrix operations in torch built from matmuls only, so that they export to ONNX.

ONNX has no eigendecomposition, so the matrix logarithm uses inverse scaling and squaring:
repeated square roots by the coupled Newton-Schulz iteration bring the matrix close to the
identity, where a short series gives the logarithm.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

FIRST_ROOT_ITERATIONS = 40
LATER_ROOT_ITERATIONS = 12
N_ROOTS = 6
SERIES_TERMS = 8


def oas_covariance(x: torch.Tensor) -> torch.Tensor:
    """Return Oracle Approximating Shrinkage covariances of (batch, channels, times) data.

    Matches scikit-learn's ``oas`` (data centred, the 2/p factor omitted).
    """
    import torch

    n_channels, n_times = x.shape[-2], x.shape[-1]
    centred = x - x.mean(dim=-1, keepdim=True)
    empirical = centred @ centred.transpose(-1, -2) / n_times
    eye = torch.eye(n_channels, dtype=x.dtype)
    mu = (empirical * eye).sum(dim=(-1, -2)) / n_channels
    alpha = (empirical * empirical).mean(dim=(-1, -2))
    numerator = alpha + mu * mu
    denominator = (n_times + 1) * (alpha - mu * mu / n_channels)
    shrinkage = torch.clamp(numerator / denominator, max=1.0)[..., None, None]
    return (1 - shrinkage) * empirical + shrinkage * mu[..., None, None] * eye


def sqrtm_newton_schulz(matrix: torch.Tensor, iterations: int) -> torch.Tensor:
    """Return the square root of SPD matrices by the coupled Newton-Schulz iteration.

    The matrices are first divided by their Frobenius norm, so every eigenvalue lies in
    (0, 1], where the iteration converges.
    """
    import torch

    n = matrix.shape[-1]
    norm = torch.sqrt((matrix * matrix).sum(dim=(-1, -2), keepdim=True))
    y = matrix / norm
    eye = torch.eye(n, dtype=matrix.dtype).expand_as(matrix)
    z = eye
    for _ in range(iterations):
        t = 0.5 * (3.0 * eye - z @ y)
        y = y @ t
        z = t @ z
    return y * torch.sqrt(norm)


def logm_spd(matrix: torch.Tensor) -> torch.Tensor:
    """Return the principal logarithm of SPD matrices (accurate near the identity).

    ``log(A) = log(s) I + 2^k log((A/s)^(1/2^k))`` with ``s`` the mean eigenvalue; after
    ``k`` square roots the remainder ``E = (A/s)^(1/2^k) - I`` is small and
    ``log(I + E)`` is its alternating series.
    """
    import torch

    n = matrix.shape[-1]
    eye = torch.eye(n, dtype=matrix.dtype)
    scale = (matrix * eye).sum(dim=(-1, -2), keepdim=True) / n
    root = matrix / scale
    root = sqrtm_newton_schulz(root, FIRST_ROOT_ITERATIONS)
    for _ in range(N_ROOTS - 1):
        root = sqrtm_newton_schulz(root, LATER_ROOT_ITERATIONS)
    excess = root - eye
    power = excess
    series = excess
    for term in range(2, SERIES_TERMS + 1):
        power = power @ excess
        series = series + ((-1) ** (term + 1) / term) * power
    return (2**N_ROOTS) * series + torch.log(scale) * eye


def upper_weighted(matrix: torch.Tensor) -> torch.Tensor:
    """Return the upper triangle (row-major) with off-diagonal entries times sqrt(2)."""
    import torch

    n = matrix.shape[-1]
    rows, cols = torch.triu_indices(n, n)
    weights = torch.where(rows == cols, 1.0, math.sqrt(2.0)).to(matrix.dtype)
    return matrix[..., rows, cols] * weights
