import numpy as np
import pytest

from acquisition.preprocessing.iir import BandPass, Notch, SosFilter

SFREQ = 500.0
TIMES = np.arange(5000) / SFREQ


def _power(signal, freq):
    spectrum = np.abs(np.fft.rfft(signal[-2500:])) ** 2
    return spectrum[np.argmin(np.abs(np.fft.rfftfreq(2500, 1 / SFREQ) - freq))]


def test_band_pass_keeps_the_band_and_removes_the_rest():
    signal = np.sin(2 * np.pi * 10 * TIMES) + np.sin(2 * np.pi * 100 * TIMES) + 5.0
    out = BandPass(["a"], ["eeg"], SFREQ, l_freq=5.0, h_freq=30.0).process(signal[None])[0]
    assert _power(out, 10) / _power(signal, 10) == pytest.approx(1.0, abs=0.05)
    assert _power(out, 100) / _power(signal, 100) < 1e-4
    assert abs(out[-2500:].mean()) < 1e-3  # the DC offset is gone


def test_notch_removes_the_line_and_its_harmonics():
    signal = sum(np.sin(2 * np.pi * f * TIMES) for f in (20, 50, 100, 150))
    out = Notch(["a"], ["eeg"], SFREQ, freqs=[50.0], harmonics=True).process(signal[None])[0]
    for line in (50, 100, 150):
        assert _power(out, line) / _power(signal, line) < 1e-3
    assert _power(out, 20) / _power(signal, 20) == pytest.approx(1.0, abs=0.05)


def test_filters_start_without_a_step_from_the_dc_offset():
    offset = np.full((1, 200), 80e-3)  # an amplifier's DC offset
    out = BandPass(["a"], ["eeg"], SFREQ, l_freq=1.0, h_freq=40.0).process(offset)
    assert np.abs(out).max() < 1e-9


def test_stim_channels_are_left_alone():
    data = np.vstack([np.sin(2 * np.pi * 100 * TIMES), (TIMES > 2).astype(float)])
    out = SosFilter(
        ["a", "STI"], ["eeg", "stim"], SFREQ, BandPass(["a"], ["eeg"], SFREQ, h_freq=10.0).sos
    ).process(data)
    np.testing.assert_array_equal(out[1], data[1])
    assert np.abs(out[0, 1000:]).max() < 1e-2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "l_freq, h_freq or both"),
        ({"l_freq": 30.0, "h_freq": 10.0}, "below"),
        ({"h_freq": 250.0}, "outside"),
    ],
)
def test_band_pass_checks_its_edges(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BandPass(["a"], ["eeg"], SFREQ, **kwargs)
