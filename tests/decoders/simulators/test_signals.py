import numpy as np
import pytest

from decoders.simulators.signals import (
    band_fraction,
    band_power,
    frequencies,
    peak_spectrum,
    pink_spectrum,
    shaped_noise,
)


@pytest.mark.parametrize("kind", ["pink", "peak"])
def test_shaped_noise_has_unit_variance_and_the_expected_band_share(kind):
    sfreq, n_times = 250.0, 50_000
    freqs = frequencies(n_times, sfreq)
    spectrum = pink_spectrum(freqs, 1.2) if kind == "pink" else peak_spectrum(freqs, 20.0, 3.0)
    noise = shaped_noise(np.random.default_rng(0), spectrum, 8, n_times)
    assert noise.var(axis=1).mean() == pytest.approx(1.0, rel=0.1)
    measured = band_power(noise, sfreq, (8.0, 30.0)) / band_power(noise, sfreq, (0.0, sfreq / 2))
    assert measured == pytest.approx(band_fraction(spectrum, freqs), abs=0.03)


def test_pink_spectrum_falls_as_one_over_f():
    freqs = frequencies(1000, 100.0)
    noise = shaped_noise(np.random.default_rng(1), pink_spectrum(freqs, 1.0), 50, 1000)
    low = band_power(noise, 100.0, (2.0, 4.0))
    high = band_power(noise, 100.0, (20.0, 40.0))
    assert low / high == pytest.approx(1.0, rel=0.25)  # 1/f: equal power in every octave


def test_band_power_of_a_sinusoid():
    t = np.arange(2500) / 250.0
    signal = 2.0 * np.sin(2 * np.pi * 10.0 * t)[None]
    assert band_power(signal, 250.0, (8.0, 12.0)) == pytest.approx(2.0, rel=1e-6)
    assert band_power(signal, 250.0, (20.0, 30.0)) < 1e-20
