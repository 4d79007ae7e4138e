"""Synthetic MEG from a pretrained MEG-GPT and its spectra against the real recording's."""

import numpy as np
import pytest
import torch

from decoders.datasets.errors import DataError
from decoders.models.meggpt.generation import (
    compare_spectra,
    generate,
    plot_spectra,
    recording_channels,
)
from decoders.models.meggpt.pretraining import restore
from decoders.pretraining.checkpoint import load_pretrained


@pytest.fixture(scope="module")
def model(sensor_stages):
    return restore(load_pretrained(sensor_stages[1]))


def test_the_real_recording_is_read_as_the_model_sees_it(model, meg_file, parcel_stages):
    channels = recording_channels(model, meg_file)
    assert channels.shape[0] == 8 and channels.shape[1] > 50 * 20  # about 40 s at 50 Hz
    assert np.allclose(channels.mean(1), 0, atol=1e-5) and np.allclose(
        channels.std(1), 1, atol=1e-3
    )
    parcels = recording_channels(restore(load_pretrained(parcel_stages[1])), meg_file)
    assert parcels.shape == (4, channels.shape[1])


def test_a_recording_without_the_models_channels_is_refused(model, tmp_path):
    import mne

    info = mne.create_info(["C3", "C4"], 100.0, "eeg")
    path = tmp_path / "eeg_raw.fif"
    mne.io.RawArray(np.zeros((2, 500)), info, verbose="error").save(path, verbose="error")
    with pytest.raises(DataError, match=r"eeg_raw.fif.*lacks the model's channels MEG 0113"):
        recording_channels(model, path)


def test_generation_continues_the_prompt_with_sampled_tokens_reproducibly(model, meg_file):
    tokens = model.tokeniser.tokens(torch.as_tensor(recording_channels(model, meg_file)[:, :50]))
    first = generate(model, tokens, 30, seed=1)
    assert first.shape == (8, 80) and torch.equal(first[:, :50], tokens)
    assert int(first.min()) >= 0 and int(first.max()) < model.tokeniser.n_tokens
    assert torch.equal(first, generate(model, tokens, 30, seed=1))
    assert not torch.equal(first, generate(model, tokens, 30, seed=2))


def test_spectra_of_the_same_waveforms_agree_exactly_and_the_control_does_not(
    model, meg_file, tmp_path
):
    real = recording_channels(model, meg_file)[:, :1000]
    tokens = model.tokeniser.tokens(torch.as_tensor(real))
    decoded = model.tokeniser.decode(tokens).numpy()  # "real" data the model spells exactly
    same = compare_spectra(model, decoded, tokens)
    assert same.correlation == pytest.approx(1.0, abs=1e-6)
    assert same.distance_db == pytest.approx(0.0, abs=1e-4)
    assert same.control_distance_db > 0.1 and same.control_correlation < 1.0
    assert same.generated.shape == same.real.shape == same.control.shape == (8, len(same.freqs))
    assert same.freqs.min() >= 1.0 and same.freqs.max() <= 25.0
    against_real = compare_spectra(model, real, tokens).summary()
    assert set(against_real) == {
        "spectral_correlation", "control_spectral_correlation",
        "log_spectral_distance_db", "control_log_spectral_distance_db",
    }  # fmt: skip
    assert all(np.isfinite(value) for value in against_real.values())
    figure = plot_spectra(same, tmp_path / "spectra.png", "test")
    assert figure.stat().st_size > 1000
