"""braindecode's FIR filter bank as one matrix product (or one convolution), for export.

braindecode's ``FilterBankLayer`` (FBCNet, FBLightConvNet, FBMSNet, IFNet) filters every
channel with each band's zero-phase FIR through an FFT convolution (torchaudio's
``fftconvolve``, mode ``same``). Exported, that is an ONNX ``DFT`` and inverse ``DFT`` of
``n_times + taps - 1`` points per channel and band, a length that is rarely a power of two,
for which ONNX Runtime's CPU kernel evaluates the DFT term by term, computing every twiddle
factor with a sine and a cosine on every call: milliseconds for one window.

For a window of fixed length the same output is linear in the window: band ``b`` at time
``t`` is ``sum_j x[j] * taps_b[t + (len_b - 1) // 2 - j]`` (the centre of the full
convolution), i.e. ``x @ T_b`` with a banded Toeplitz matrix ``T_b``. All bands' matrices side
by side make one matrix product over every channel of the window, which ONNX Runtime runs as
one well-shaped GEMM. When that matrix would exceed :data:`MAX_MATRIX_VALUES`, the bank is a
direct convolution instead (the reversed taps of every band in one kernel; slower in ONNX
Runtime, whose 1-d convolution with one input channel runs a skinny GEMM per channel, but
still no DFT).

The export checks parity of the rewritten graph against the trained network, so the rewrite
is proven on every export, not assumed.
"""

from __future__ import annotations

import copy

import torch

MAX_MATRIX_VALUES = 1 << 22
"""Largest filter-bank matrix (n_times x n_bands * n_times) written into a graph (16 MiB)."""


def linear_filter_banks(network: torch.nn.Module) -> torch.nn.Module | None:
    """Return a copy of ``network`` with its FIR filter banks as linear maps (no FFT).

    None when ``network`` has no zero-phase FIR filter bank (causal and IIR filter banks are
    kept as they are). The banks filter the network's input, ``network.n_times`` samples.
    ``network`` itself is not changed.
    """
    from braindecode.modules import FilterBankLayer

    def zero_phase_fir(module: torch.nn.Module) -> bool:
        return (
            isinstance(module, FilterBankLayer)
            and not module.method_iir
            and not module.forward_filter
        )

    if not any(zero_phase_fir(module) for module in network.modules()):
        return None
    copied = copy.deepcopy(network)
    for name, module in list(copied.named_modules()):
        if zero_phase_fir(module):
            parent_name, _, child = name.rpartition(".")
            parent = copied.get_submodule(parent_name) if parent_name else copied
            setattr(parent, child, LinearFilterBank(list(module.fir_list), network.n_times))
    return copied.eval()


class LinearFilterBank(torch.nn.Module):
    """(batch, n_chans, n_times) -> (batch, n_bands, n_chans, n_times), FIR ``same`` mode.

    Band ``b``'s output at ``t`` is the full convolution of the channel with its taps at
    ``t + (taps_b - 1) // 2``, as ``fftconvolve(..., mode="same")`` gives.

    Parameters
    ----------
    taps : list of torch.Tensor
        One 1-d FIR per band.
    n_times : int
        Window length the bank filters.
    """

    def __init__(self, taps: list[torch.Tensor], n_times: int) -> None:
        super().__init__()
        self.n_times = n_times
        self.n_bands = len(taps)
        taps = [t.detach().double() for t in taps]
        if n_times * n_times * len(taps) <= MAX_MATRIX_VALUES:
            self.register_buffer("matrix", _toeplitz(taps, n_times).float())
            self.kernel = None
        else:
            self.matrix = None
            self.left, kernel = _kernel(taps)
            self.register_buffer("kernel", kernel.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return every band's filtered channels."""
        batch, n_chans, n_times = x.shape
        if n_times != self.n_times:
            raise ValueError(f"the filter bank filters {self.n_times} samples, not {n_times}")
        if self.matrix is not None:
            filtered = (x @ self.matrix).reshape(batch, n_chans, self.n_bands, n_times)
            return filtered.transpose(1, 2)
        flat = x.reshape(batch * n_chans, 1, n_times)
        right = self.kernel.shape[-1] - 1 - self.left
        filtered = torch.nn.functional.conv1d(
            torch.nn.functional.pad(flat, (self.left, right)), self.kernel
        )
        return filtered.reshape(batch, n_chans, self.n_bands, n_times).transpose(1, 2)


def _toeplitz(taps: list[torch.Tensor], n_times: int) -> torch.Tensor:
    """Return (n_times, n_bands * n_times): column ``b * n_times + t`` holds band b's output t."""
    source = torch.arange(n_times)[:, None]
    target = torch.arange(n_times)[None, :]
    blocks = []
    for t in taps:
        index = target + (len(t) - 1) // 2 - source  # tap read for (source j, output t)
        inside = (index >= 0) & (index < len(t))
        blocks.append(torch.where(inside, t[index.clamp(0, len(t) - 1)], 0.0))
    return torch.cat(blocks, dim=1)


def _kernel(taps: list[torch.Tensor]) -> tuple[int, torch.Tensor]:
    """Return the left zero-padding and the (n_bands, 1, length) correlation kernel.

    torch's convolution correlates: band b reads x[t + i - lead_b] with weight
    taps_b[len_b - 1 - i], lead_b = len_b - 1 - (len_b - 1) // 2; one padding serves every
    band once each band's reversed taps are offset by ``left - lead_b``.
    """
    leads = [len(t) - 1 - (len(t) - 1) // 2 for t in taps]
    left = max(leads)
    length = max(left - lead + len(t) for lead, t in zip(leads, taps, strict=True))
    kernel = torch.zeros(len(taps), 1, length, dtype=torch.float64)
    for band, (lead, t) in enumerate(zip(leads, taps, strict=True)):
        offset = left - lead
        kernel[band, 0, offset : offset + len(t)] = torch.flip(t, [0])
    return left, kernel
