import numpy as np
import pytest

from acquisition.preprocessing.resample import Resample


def test_integer_decimation_takes_every_nth_filtered_sample():
    data = np.random.default_rng(0).standard_normal((2, 1000))
    up = Resample(["a", "b"], ["eeg", "eeg"], 1000.0, sfreq_out=2000.0)
    out = up.process(data)
    assert out.shape == (2, 1999)  # the last output needs an input that has not come yet
    np.testing.assert_allclose(out[:, ::2], data[:, :1000])
    np.testing.assert_allclose(out[:, 1::2], (data[:, :-1] + data[:, 1:]) / 2)


def test_downsampling_keeps_a_slow_sine_and_removes_what_would_alias():
    sfreq = 600.615
    times = np.arange(6006) / sfreq
    slow, fast = np.sin(2 * np.pi * 7 * times), np.sin(2 * np.pi * 180 * times)
    step = Resample(["a", "b"], ["eeg", "eeg"], sfreq, sfreq_out=250.0)
    out = step.process(np.vstack([slow, fast]))
    assert out.shape[1] == int(np.floor(6005 * 250.0 / sfreq)) + 1
    assert out[0, 500:].std() == pytest.approx(slow.std(), rel=0.05)
    assert out[1, 500:].std() < 0.01  # 180 Hz is above the new Nyquist: gone, not aliased


def test_trigger_channels_hold_their_values():
    trigger = np.repeat([0.0, 5.0, 0.0, 3.0], 25)
    step = Resample(["a", "STI"], ["eeg", "stim"], 100.0, sfreq_out=30.0)
    out = step.process(np.vstack([np.zeros(100), trigger]))
    assert set(np.unique(out[1])) == {0.0, 3.0, 5.0}


def test_output_rate_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        Resample(["a"], ["eeg"], 100.0, sfreq_out=0.0)
