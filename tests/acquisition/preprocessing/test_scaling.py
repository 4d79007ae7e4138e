import numpy as np
import pytest

from acquisition.preprocessing.scaling import RobustScale


def test_outputs_are_zero_until_the_first_update_then_robustly_scaled():
    rng = np.random.default_rng(0)
    data = np.vstack([rng.normal(5e-6, 2e-6, 2000), rng.normal(-1e-3, 1e-4, 2000)])
    data[0, 1500] = 1.0  # one artefact barely moves a median/IQR
    step = RobustScale(["a", "b"], ["eeg", "eeg"], 100.0, window=10.0, update=1.0)
    out = step.process(data[:, :99])
    assert not step.ready and np.all(out == 0)
    out = step.process(data[:, 99:])
    assert step.ready
    settled = np.delete(out[:, 1000:], 500, axis=1)
    np.testing.assert_allclose(np.median(settled, axis=1), 0, atol=0.1)
    iqr = np.subtract(*np.percentile(settled, [75, 25], axis=1))
    np.testing.assert_allclose(iqr, 1, atol=0.15)


def test_constant_channels_are_centred_not_divided_by_zero():
    step = RobustScale(["a"], ["eeg"], 10.0, window=1.0, update=0.5)
    out = step.process(np.full((1, 30), 3.0))
    assert np.isfinite(out).all() and np.all(out == 0)


def test_window_and_update_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        RobustScale(["a"], ["eeg"], 10.0, window=0.0)
