"""braindecode's EEGNet and ShallowFBCSPNet, trained by the shared early-stopping loop."""

from __future__ import annotations

import numpy as np

from decoders.datasets.trials import TrialSet
from decoders.training.loop import TrainConfig, fit_classifier, predict_proba
from decoders.training.standardize import channel_statistics, standardize_layer

ARCHITECTURES = ("EEGNet", "ShallowFBCSPNet")


def _architecture_options(architecture: str, sfreq: float, n_times: int) -> dict[str, int]:
    """Return kernel and pooling lengths scaled from the designs' own sampling rates.

    EEGNet's temporal kernel is half a second (64 samples at 128 Hz); ShallowFBCSPNet's
    temporal filter, pooling window and stride are 100, 300 and 60 ms (at 250 Hz).
    """
    if architecture == "EEGNet":
        return {"kernel_length": max(4, round(0.5 * sfreq))}
    filter_length = max(3, round(0.1 * sfreq))
    pool_length = min(max(3, round(0.3 * sfreq)), n_times - filter_length + 1)
    return {
        "filter_time_length": filter_length,
        "pool_time_length": pool_length,
        "pool_time_stride": max(1, round(0.06 * sfreq)),
    }


class BraindecodeClassifier:
    """A braindecode architecture with a fitted per-channel standardisation in front.

    Parameters
    ----------
    architecture : str
        ``EEGNet`` or ``ShallowFBCSPNet``.
    seed : int
        Seeds initialisation and batch order.
    config : TrainConfig, optional
        Optimisation settings; early stopping uses the validation trials only.
    """

    def __init__(self, architecture: str, seed: int = 0, config: TrainConfig | None = None) -> None:
        if architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {architecture} (known: {ARCHITECTURES})")
        self.architecture = architecture
        self.name = architecture.lower()
        self.seed = seed
        self.config = config or TrainConfig(seed=seed)

    def build(self, train: TrialSet):
        """Return the untrained torch module (standardisation + network) for ``train``'s shape."""
        import braindecode.models
        import torch

        torch.manual_seed(self.seed)
        network = getattr(braindecode.models, self.architecture)(
            n_chans=train.n_channels,
            n_outputs=train.n_classes,
            n_times=train.n_times,
            sfreq=train.sfreq,
            **_architecture_options(self.architecture, train.sfreq, train.n_times),
        )
        mean, std = channel_statistics(train.data)
        return torch.nn.Sequential(standardize_layer(mean, std), network)

    def fit(self, train: TrialSet, valid: TrialSet) -> BraindecodeClassifier:
        """Train with early stopping on ``valid``."""
        self.module_ = self.build(train)
        self.history_ = fit_classifier(
            self.module_, train.data, train.labels, valid.data, valid.labels, self.config
        )
        return self

    def predict_proba(self, data: np.ndarray) -> np.ndarray:
        """Return class probabilities for trials shaped (n, channels, times)."""
        return predict_proba(self.module_, data)
