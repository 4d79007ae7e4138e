"""The band-power forecaster: its graph computes periodogram band powers, and it learns them."""

import numpy as np
import pytest
import torch

from decoders import registry
from decoders.datasets.trials import TrialSet
from decoders.models.classical.bandpower import spectral_basis


def test_the_basis_gives_the_tapered_periodogram_summed_per_band():
    sfreq, n_times = 128.0, 256
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, n_times))
    bands = [(4.0, 8.0), (8.0, 13.0)]

    basis, pooling = spectral_basis(n_times, sfreq, bands)
    powers = (x @ basis) ** 2 @ pooling

    taper = np.hanning(n_times) / np.sqrt(np.sum(np.hanning(n_times) ** 2))
    spectrum = np.abs(np.fft.rfft(x * taper, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(n_times, 1 / sfreq)
    for column, (low, high) in enumerate(bands):
        inside = (freqs >= low) & (freqs < high)
        assert np.allclose(powers[:, column], spectrum[:, inside].mean(axis=1), rtol=1e-4)


def test_it_learns_a_band_power_difference_and_cuts_bands_at_nyquist():
    rng = np.random.default_rng(1)
    labels = np.arange(80) % 2
    t = np.arange(128) / 64.0
    data = rng.standard_normal((80, 4, 128)) * 10e-6
    data[labels == 1, 1] += 20e-6 * np.sin(2 * np.pi * 10 * t + rng.uniform(0, 6, (40, 1)))
    trials = TrialSet(
        data, labels, ("interictal", "preictal"), 64.0, ("a", "b", "c", "d"), ("eeg",) * 4, "toy"
    )
    decoder = registry.create("bandpower-lr").fit(
        trials.subset(slice(0, 60)), trials.subset(slice(60, 70))
    )

    assert decoder.band_list(64.0)[-1] == (30.0, 32.0)
    test = trials.subset(slice(70, 80))
    assert np.mean(decoder.predict_proba(test.data).argmax(1) == test.labels) >= 0.9
    with torch.no_grad():
        features = decoder.module_.features(torch.as_tensor(test.data, dtype=torch.float32))
    assert features.shape == (10, 4 * 5)
    with pytest.raises(ValueError, match="no band lies below the Nyquist"):
        registry.create("bandpower-lr", bands=[[40, 50]]).band_list(64.0)
