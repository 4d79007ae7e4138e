"""Log band power per channel and logistic regression: the classical seizure forecaster.

Each window's periodogram (Hann taper) is summed over the bins of each band (delta, theta,
alpha, beta, low gamma by default, cut at the Nyquist frequency), per channel; the log powers
are standardised and fed to a class-balanced logistic regression. Inference is the same
computation as a torch module (one matrix product with the taper's cosine and sine bases,
squares, a band-pooling product, a logarithm and an affine map), which is what is exported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from decoders.contract import Decoder, InputSpec, OutputSpec
from decoders.datasets.trials import TrialSet
from decoders.history import TrainingRun

from .csp_lda import linear_logits

if TYPE_CHECKING:
    import torch

BANDS_HZ = ((1.0, 4.0), (4.0, 8.0), (8.0, 13.0), (13.0, 30.0), (30.0, 45.0))


class BandPowerLR(Decoder):
    """Log band powers of every channel, standardised, then logistic regression.

    Parameters
    ----------
    bands : list of [low, high], optional
        Frequency bands in Hz (default: 1-4, 4-8, 8-13, 13-30, 30-45); bands above the
        Nyquist frequency are cut or dropped.
    C : float
        Inverse regularisation strength of the logistic regression.
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        bands: list[list[float]] | None = None,
        C: float = 1.0,
    ) -> None:
        super().__init__(seed, hop_s)
        self.bands = bands
        self.C = C

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the band-power module with zeroed read-out for this input."""
        basis, pooling = spectral_basis(spec.n_times, spec.sfreq, self.band_list(spec.sfreq))
        return make_band_power_module(basis, pooling, len(spec.ch_names), len(output.names))

    def band_list(self, sfreq: float) -> list[tuple[float, float]]:
        """Return the bands kept at ``sfreq`` (cut at the Nyquist frequency)."""
        bands = [tuple(band) for band in (self.bands or BANDS_HZ)]
        nyquist = sfreq / 2
        kept = [(low, min(high, nyquist)) for low, high in bands if low < nyquist]
        if not kept:
            raise ValueError(f"no band lies below the Nyquist frequency {nyquist:g} Hz")
        return kept

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> None:
        """Fit on training and validation windows together: nothing is selected on validation."""
        import torch
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        train = train.concat(valid)
        with torch.no_grad():
            features = module.features(torch.as_tensor(np.asarray(train.data, np.float32)))
        features = features.numpy().astype(float)
        scaler = StandardScaler().fit(features)
        regression = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000)
        regression.fit(scaler.transform(features), train.labels)
        coef, intercept = linear_logits(regression, train.n_classes)
        with torch.no_grad():
            module.mean.copy_(torch.as_tensor(scaler.mean_, dtype=torch.float32))
            module.scale.copy_(torch.as_tensor(scaler.scale_, dtype=torch.float32))
            module.coef.copy_(torch.as_tensor(coef))
            module.intercept.copy_(torch.as_tensor(intercept))
        return None


def spectral_basis(
    n_times: int, sfreq: float, bands: list[tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Return the tapered DFT basis (n_times, 2 x bins) and the band pooling (2 x bins, bands).

    ``(x @ basis) ** 2 @ pooling`` is each band's mean periodogram power of ``x``.
    """
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    taper = np.hanning(n_times)
    taper /= np.sqrt(np.sum(taper**2))
    columns, pooling_rows, pooling = [], [], []
    for index, (low, high) in enumerate(bands):
        bins = np.flatnonzero((freqs >= low) & (freqs < high))
        if bins.size == 0:  # a band narrower than the resolution: its nearest bin
            bins = np.array([np.argmin(np.abs(freqs - (low + high) / 2))])
        for k in bins:
            phase = 2 * np.pi * freqs[k] * np.arange(n_times) / sfreq
            columns += [taper * np.cos(phase), taper * np.sin(phase)]
            pooling_rows += [index, index]
        pooling.append(bins.size)
    basis = np.stack(columns, axis=1).astype(np.float32)
    pool = np.zeros((len(pooling_rows), len(bands)), np.float32)
    pool[np.arange(len(pooling_rows)), pooling_rows] = 1.0
    pool /= np.asarray(pooling, np.float32)[None, :]
    return basis, pool


def make_band_power_module(
    basis: np.ndarray, pooling: np.ndarray, n_channels: int, n_classes: int
) -> torch.nn.Module:
    """Return a module: log band power per channel -> standardisation -> linear logits."""
    import torch

    n_features = n_channels * pooling.shape[1]

    class BandPowerModule(torch.nn.Module):
        """Band powers by matrix products, their logarithm, an affine read-out."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("basis", torch.as_tensor(basis))
            self.register_buffer("pooling", torch.as_tensor(pooling))
            self.register_buffer("mean", torch.zeros(n_features))
            self.register_buffer("scale", torch.ones(n_features))
            self.register_buffer("coef", torch.zeros(n_classes, n_features))
            self.register_buffer("intercept", torch.zeros(n_classes))

        def features(self, x: torch.Tensor) -> torch.Tensor:
            """Return log band powers (batch, channels x bands) of windows in volts."""
            spectrum = torch.matmul(x * 1e6, self.basis)  # EEG in microvolts: powers near 1
            power = torch.matmul(spectrum * spectrum, self.pooling)
            # a floor far below any signal's power (MEG in tesla gives about 1e-14 here)
            return torch.log(torch.clamp(power, min=1e-30)).flatten(1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            standard = (self.features(x) - self.mean) / self.scale
            return standard @ self.coef.T + self.intercept

    return BandPowerModule()
