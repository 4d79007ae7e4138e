"""Real Fourier transforms of a fixed length as matrix products in the exported graph.

torch exports ``torch.fft.rfft`` (``aten::_fft_r2c``) and ``torch.stft`` as the ONNX ``DFT``
and ``STFT`` operators. ONNX Runtime's CPU kernels run those as a radix-2 FFT when the length
is a power of two, and otherwise term by term, computing the sine and cosine of every twiddle
factor on every call: ``n * (n // 2 + 1)`` of each per transform, so a 1 s window at 400 Hz
costs milliseconds where torch's FFT takes microseconds. For a length fixed at export, the
real DFT is a product with a constant matrix (the cosines and negated sines of the one-sided
spectrum, computed once, in float64, from exact integer phases), which ONNX Runtime runs as
one matrix multiplication; the short-time transform is a convolution, strided by the hop, with
the windowed rows of that matrix as kernels. The outputs keep the exporter's layout of complex
tensors (a last axis of real and imaginary parts), so everything downstream (``abs``,
``angle``, products) exports as before.

Lengths that are powers of two, not static, or whose matrix would exceed
:data:`MAX_BASIS_VALUES` keep the ``DFT``/``STFT`` operators. The export's parity gate
checks every graph against the torch module, so the translation is proven on every export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MAX_BASIS_VALUES = 1 << 22
"""Largest DFT matrix written into a graph (4 Mi float32 values, 16 MiB)."""


def dft_matrix(n: int, one_sided: bool, scale: float) -> np.ndarray:
    """Return the (n, bins * 2) float32 matrix of a real DFT, bins interleaved (re, im).

    ``x @ matrix`` reshaped to (..., bins, 2) is ``scale * rfft(x)`` (``fft(x)`` when not
    ``one_sided``) in the exporter's layout of complex values.
    """
    bins = n // 2 + 1 if one_sided else n
    phase = (np.arange(n)[:, None] * np.arange(bins)[None, :]) % n  # exact integers
    angle = 2 * np.pi * phase / n
    matrix = np.stack([np.cos(angle), -np.sin(angle)], axis=-1) * scale
    return matrix.reshape(n, 2 * bins).astype(np.float32)


def _replaces_dft(n: Any, one_sided: bool) -> bool:
    """Return whether a real DFT of length ``n`` is exported without the DFT operators."""
    if not isinstance(n, int) or n < 2 or n & (n - 1) == 0:  # symbolic, trivial, or radix-2
        return False
    bins = n // 2 + 1 if one_sided else n
    return n * 2 * bins <= MAX_BASIS_VALUES


def _constant(values: np.ndarray):
    from onnxscript import ir
    from onnxscript import opset18 as op

    return op.Constant(value=ir.tensor(values))


def _spectrum(signal, n: int, one_sided: bool, scale: float, rank: int):
    """Return ``signal @ dft_matrix`` reshaped to (..., bins, 2)."""
    from onnxscript import opset18 as op

    bins = n // 2 + 1 if one_sided else n
    product = op.MatMul(signal, _constant(dft_matrix(n, one_sided, scale)))
    shape = np.array([0] * (rank - 1) + [bins, 2], dtype=np.int64)  # 0: keep that axis
    return op.Reshape(product, _constant(shape))


def rfft_translation(self, dim: Sequence[int], normalization: int, onesided: bool):
    """``aten::_fft_r2c`` over the last axis of a static length, as a matrix product."""
    from onnxscript.function_libs.torch_lib.ops.fft import aten__fft_r2c

    shape = self.shape
    rank = len(shape) if shape is not None else 0
    axes = [axis % rank for axis in dim] if rank else []
    if axes != [rank - 1] or not _replaces_dft(shape[rank - 1], onesided):
        return aten__fft_r2c(self, dim, normalization, onesided)
    n = shape[rank - 1]
    scale = {0: 1.0, 1: n**-0.5, 2: 1.0 / n}[normalization]  # backward, ortho, forward
    return _spectrum(self, n, onesided, scale, rank)


def stft_translation(
    self,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window=None,
    normalized: bool = False,
    onesided: bool | None = None,
    return_complex: bool | None = None,
):
    """``aten::stft`` of a static length as a strided convolution with the DFT's rows.

    The kernels are the DFT matrix's columns times the window (a product ONNX Runtime folds
    when the window is a constant). Output (..., bins, frames, 2), as torch's (..., bins,
    frames) complex spectrogram.
    """
    from onnxscript import opset18 as op
    from onnxscript.function_libs.torch_lib.ops.core import aten_stft

    one_sided = onesided is None or bool(onesided)
    hop = n_fft // 4 if hop_length is None else hop_length
    shape = self.shape
    length = shape[len(shape) - 1] if shape is not None else None
    window_length = window.shape[0] if window is not None and window.shape is not None else n_fft
    if (
        not isinstance(length, int)
        or length < n_fft
        or window_length != n_fft
        or win_length not in (None, n_fft)
        or not _replaces_dft(n_fft, one_sided)
    ):
        return aten_stft(
            self, n_fft, hop_length, win_length, window, normalized, onesided, return_complex
        )
    rank = len(shape)
    bins = n_fft // 2 + 1 if one_sided else n_fft
    n_frames = (length - n_fft) // hop + 1
    scale = n_fft**-0.5 if normalized else 1.0
    rows = dft_matrix(n_fft, one_sided, scale).T[:, None, :]  # (bins * 2, 1, n_fft)
    kernels = _constant(np.ascontiguousarray(rows))
    if window is not None:
        kernels = op.Mul(kernels, op.CastLike(window, kernels))
    signals = op.Reshape(self, _constant(np.array([-1, 1, length], dtype=np.int64)))
    spectra = op.Conv(signals, kernels, strides=[hop])  # (signals, bins * 2, frames)
    prefix = op.Shape(self, start=0, end=rank - 1)
    layout = op.Concat(prefix, _constant(np.array([bins, 2, n_frames], dtype=np.int64)), axis=0)
    spectra = op.Reshape(spectra, layout)  # (..., bins, 2, frames)
    order = [*range(rank - 1), rank - 1, rank + 1, rank]
    return op.Transpose(spectra, perm=order)


def translations() -> dict[Callable, Callable]:
    """Return the exporter's ``custom_translation_table`` for the real transforms."""
    import torch

    return {
        torch.ops.aten._fft_r2c.default: rfft_translation,
        torch.ops.aten.stft.default: stft_translation,
    }
