"""Toy trials and test-only decoders for the export tests."""

from __future__ import annotations

import numpy as np
import pytest

from decoders.datasets.trials import TrialSet

SFREQ = 128.0
N_CHANNELS = 8
N_TIMES = 128


def toy_trials(n_trials: int = 60, seed: int = 0, name: str = "toy") -> TrialSet:
    """Three classes, each with more power on its own pair of channels (volts)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_trials) % 3
    data = rng.standard_normal((n_trials, N_CHANNELS, N_TIMES)) * 10e-6
    for label in range(3):
        data[labels == label, 2 * label : 2 * label + 2] *= 3.0
    names = tuple(f"C{i}" for i in range(N_CHANNELS))
    return TrialSet(
        data, labels, ("left", "right", "feet"), SFREQ, names, ("eeg",) * N_CHANNELS, name
    )


@pytest.fixture(scope="session")
def toy_split() -> tuple[TrialSet, TrialSet]:
    """Training and validation toy trials."""
    return toy_trials(60, 0, "toy/train"), toy_trials(30, 1, "toy/valid")
