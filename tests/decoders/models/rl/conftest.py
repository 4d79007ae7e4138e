"""Toy motor-imagery-like trials for the RLEEGNet tests."""

from __future__ import annotations

import numpy as np
import pytest

from decoders.datasets.trials import TrialSet

FAST = {
    "episodes": 25,
    "patience": 25,
    "conv_channels": 8,
    "hidden": 8,
    "lstm_steps": 8,
    "n_components": 2,
}
"""RLEEGNet options small enough for tests that still learn the toy task."""


def power_trials(n: int = 80, seed: int = 0, name: str = "toy", gain: float = 3.0) -> TrialSet:
    """Two classes; class 1 has ``gain`` times the amplitude on channel 0 (volts)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.normal(size=(n, 4, 64)) * 1e-5
    data[labels == 1, 0] *= gain
    names = tuple(f"C{i}" for i in range(4))
    return TrialSet(data, labels, ("rest", "move"), 128.0, names, ("eeg",) * 4, name)


@pytest.fixture(scope="session")
def fast() -> dict:
    """Return :data:`FAST`."""
    return dict(FAST)


@pytest.fixture(scope="session")
def make_trials():
    """Return :func:`power_trials`."""
    return power_trials


@pytest.fixture(scope="session")
def fitted_rleegnet():
    """An RLEEGNet fitted on toy trials (shared: tests that change it copy it first)."""
    from decoders import registry

    return registry.create("rleegnet", seed=0, **FAST).fit(power_trials(96), power_trials(24, 1))
