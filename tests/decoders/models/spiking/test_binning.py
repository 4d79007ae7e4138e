import numpy as np
import pytest
import torch

from decoders.models.spiking.binning import BinnedInput, TimeBins


def test_bins_drop_the_oldest_samples_keep_the_newest_and_refer_to_the_first_bin():
    bins = TimeBins.for_window(103, 16)
    assert (bins.bin_samples, bins.n_steps, bins.used_samples) == (7, 14, 98)
    ramp = torch.arange(103.0).reshape(1, 1, 103)
    assert BinnedInput(1, bins, ("mean",))(ramp)[0, 0, 0].item() == pytest.approx(8.0)
    binned = BinnedInput(1, bins, ("mean",), baseline=True)
    steps = binned(ramp)
    baseline = np.mean(np.arange(5, 12))  # the first kept bin
    assert steps[0, 0, 0].item() == pytest.approx(0.0)
    assert steps[0, -1, 0].item() == pytest.approx(np.mean(np.arange(96, 103)) - baseline)
    assert torch.allclose(binned(ramp + 5e3), steps, atol=1e-3)  # a DC offset cancels


def test_rms_keeps_the_power_of_oscillations_that_the_mean_averages_out():
    t = np.arange(200) / 100.0
    quiet, loud = (np.sin(2 * np.pi * 20 * t) * a for a in (1.0, 3.0))
    windows = torch.as_tensor(np.stack([quiet, loud])[:, None], dtype=torch.float32)
    binned = BinnedInput(1, TimeBins(10, 20))  # 100 ms bins: two full 20 Hz cycles each
    steps = binned(windows)  # features of channel 0: (mean, rms)
    assert torch.allclose(steps[..., 0], torch.zeros(2, 20), atol=1e-5)
    assert torch.allclose(steps[1, :, 1], 3 * steps[0, :, 1], rtol=1e-4)


def test_feature_standardisation_is_fitted_on_training_trials():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(30, 3, 40)) * 1e-5 + 2e-5
    binned = BinnedInput(3, TimeBins(5, 8))
    binned.fit(data)
    steps = binned(torch.as_tensor(data, dtype=torch.float32))
    assert steps.shape == (30, 8, 6)
    assert torch.allclose(steps.mean(dim=(0, 1)), torch.zeros(6), atol=1e-4)
    assert torch.allclose(steps.std(dim=(0, 1)), torch.ones(6), atol=1e-3)
    with pytest.raises(ValueError, match="bin features must be among"):
        BinnedInput(3, TimeBins(5, 8), ("median",))


def test_sub_bins_give_each_step_the_features_of_its_parts_in_order():
    bins = TimeBins.for_window(100, 2, sub_bins=4)
    assert (bins.bin_samples, bins.n_steps, bins.sub_samples, bins.used_samples) == (48, 2, 12, 96)
    assert TimeBins.for_window(103, 16) == TimeBins.for_window(103, 16, sub_bins=1)
    ramp = torch.arange(100.0).reshape(1, 1, 100)
    binned = BinnedInput(1, bins, ("mean", "slope"))
    assert binned.n_inputs == 8
    steps = binned(ramp)  # (batch, step, part x feature)
    first_parts = [np.mean(np.arange(4 + 12 * k, 16 + 12 * k)) for k in range(4)]
    assert steps[0, 0, ::2].tolist() == pytest.approx(first_parts)
    assert steps[0, 1, ::2].tolist() == pytest.approx([value + 48 for value in first_parts])
    assert steps[0, :, 1::2].flatten().tolist() == pytest.approx([1.0] * 8)  # a ramp's trend
    with pytest.raises(ValueError, match="cannot be cut into 3 parts"):
        TimeBins(10, 2, 3)
