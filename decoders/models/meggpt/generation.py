"""Synthetic data from a pretrained MEG-GPT, and how its spectra compare with real data.

:func:`generate` samples every channel's tokens one step at a time from the causal
Transformer (each step's tokens drawn from the predicted distributions given the last
``context`` steps of all channels) and decodes them into waveforms with the tokeniser's token
kernels. :func:`compare_spectra` sets the Welch spectra of generated and real channels side by
side: the correlation of their log spectra (mean over channels) and the log-spectral distance
(RMS difference in dB); the same figures for tokens drawn independently from the real data's
token frequencies (the control: what a model without temporal structure gives).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from .pretraining import MEGGPTPretraining


def recording_channels(model: MEGGPTPretraining, path: Path) -> np.ndarray:
    """Return a recording's channels as the model sees them (channels, times), standardised.

    Parcels of the model's sensors, or its channels by name, at the model's rate.

    Raises
    ------
    DataError
        When the recording lacks some of the model's sensors or channels.
    """
    from decoders.datasets.readers import read_recording
    from decoders.pretraining.segments import resample

    from .tokeniser import standardise

    raw = read_recording(Path(path), preload=False)
    sensors = model.parcellation.sensors if model.parcellation else model.channels
    if model.parcellation is not None:
        picks = model.parcellation.columns(raw.ch_names, str(path), "")
    else:
        missing = [name for name in sensors if name not in raw.ch_names]
        if missing:
            from decoders.datasets.errors import DataError

            raise DataError(path, f"lacks the model's channels {', '.join(missing[:6])}")
        picks = np.array([raw.ch_names.index(name) for name in sensors])
    sfreq = model.config["sfreq"]
    n_times = int(raw.n_times * sfreq / raw.info["sfreq"])
    samples = resample(raw.get_data(picks=picks.tolist()), raw.info["sfreq"], sfreq, n_times)
    signal = standardise(torch.as_tensor(samples, dtype=torch.float32))
    if model.parcellation is not None:
        signal = standardise(model.parcel_weights @ signal)
    return signal.numpy()


@torch.no_grad()
def generate(
    model: MEGGPTPretraining,
    prompt: torch.Tensor,
    n_steps: int,
    *,
    temperature: float = 1.0,
    seed: int = 0,
) -> torch.Tensor:
    """Return ``prompt`` (channels, times) of tokens continued by ``n_steps`` sampled steps.

    The context is the model's segment length (``segment_s`` at ``sfreq``).
    """
    generator = torch.Generator().manual_seed(seed)
    context = round(model.config["segment_s"] * model.config["sfreq"])
    channels = torch.arange(prompt.shape[0])
    tokens = prompt.clone()
    for _ in range(n_steps):
        logits = model.gpt(tokens[None, :, -context:], channels)[0, :, -1] / temperature
        drawn = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)
        tokens = torch.cat([tokens, drawn], dim=1)
    return tokens


@dataclass(frozen=True)
class SpectralComparison:
    """Welch spectra of generated, control and real channels, and how they agree.

    Attributes
    ----------
    freqs : ndarray
        Frequencies (Hz) of the spectra.
    generated, control, real : ndarray, shape (channels, freqs)
        Power spectral densities (standardised units).
    correlation, control_correlation : float
        Correlation of the log spectra with the real ones, averaged over channels.
    distance_db, control_distance_db : float
        Log-spectral distance from the real spectra (RMS over frequencies, dB), averaged over
        channels.
    """

    freqs: np.ndarray
    generated: np.ndarray
    control: np.ndarray
    real: np.ndarray
    correlation: float
    control_correlation: float
    distance_db: float
    control_distance_db: float

    def summary(self) -> dict[str, float]:
        """Return the figures (JSON-ready)."""
        return {
            "spectral_correlation": self.correlation,
            "control_spectral_correlation": self.control_correlation,
            "log_spectral_distance_db": self.distance_db,
            "control_log_spectral_distance_db": self.control_distance_db,
        }


def _agreement(estimate: np.ndarray, real: np.ndarray) -> tuple[float, float]:
    """Return the mean correlation and log-spectral distance (dB) of two spectra sets."""
    log_estimate, log_real = 10 * np.log10(estimate), 10 * np.log10(real)
    correlations = [np.corrcoef(a, b)[0, 1] for a, b in zip(log_estimate, log_real, strict=True)]
    distance = np.sqrt(np.mean((log_estimate - log_real) ** 2, axis=1))
    return float(np.mean(correlations)), float(np.mean(distance))


def compare_spectra(
    model: MEGGPTPretraining,
    real: np.ndarray,
    generated_tokens: torch.Tensor,
    *,
    fmin: float = 1.0,
    seed: int = 0,
) -> SpectralComparison:
    """Compare generated waveforms with ``real`` standardised channels (channels, times).

    The control decodes tokens drawn independently from the real data's token frequencies
    (per channel), as many as were generated.
    """
    from scipy.signal import welch

    sfreq = model.config["sfreq"]
    with torch.no_grad():
        real_tensor = torch.as_tensor(real, dtype=torch.float32)
        generated = model.tokeniser.decode(generated_tokens).numpy()
        real_tokens = model.tokeniser.tokens(real_tensor).numpy()
        rng = np.random.default_rng(seed)
        drawn = np.stack(
            [rng.choice(row, size=generated_tokens.shape[1], replace=True) for row in real_tokens]
        )
        control = model.tokeniser.decode(torch.as_tensor(drawn)).numpy()
    segment = min(round(sfreq), generated.shape[1], real.shape[1])
    spectra = [welch(x, fs=sfreq, nperseg=segment, axis=-1) for x in (generated, control, real)]
    freqs = spectra[0][0]
    keep = freqs >= fmin
    gen, ctl, ref = (np.maximum(psd[:, keep], 1e-12) for _, psd in spectra)
    correlation, distance = _agreement(gen, ref)
    control_correlation, control_distance = _agreement(ctl, ref)
    return SpectralComparison(
        freqs[keep], gen, ctl, ref, correlation, control_correlation, distance, control_distance
    )


def plot_spectra(comparison: SpectralComparison, path: Path, title: str) -> Path:
    """Draw the mean log spectra (generated, control, real) with their spread over channels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for label, psd, colour in (
        (
            f"MEG-GPT (r = {comparison.correlation:.2f}, {comparison.distance_db:.1f} dB)",
            comparison.generated,
            "tab:blue",
        ),
        (
            f"independent tokens (r = {comparison.control_correlation:.2f}, "
            f"{comparison.control_distance_db:.1f} dB)",
            comparison.control,
            "tab:grey",
        ),
        ("real", comparison.real, "black"),
    ):
        log = 10 * np.log10(psd)
        axis.plot(comparison.freqs, log.mean(0), color=colour, label=label)
        axis.fill_between(
            comparison.freqs, *np.percentile(log, [25, 75], axis=0), color=colour, alpha=0.15
        )
    axis.set_xlabel("frequency (Hz)")
    axis.set_ylabel("power (dB, standardised units)")
    axis.set_title(title)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return Path(path)
