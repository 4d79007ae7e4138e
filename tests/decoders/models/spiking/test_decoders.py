import numpy as np
import pytest

from decoders import registry
from decoders.card import DecoderCard
from decoders.checkpoint import load_decoder, save_decoder
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.models.spiking.binning import TimeBins

SPIKING = ["spiking-lif", "spiking-lif-delays", "spiking-rwkv"]


def toy(n=80, seed=0, n_times=60):
    """Two classes; class 1 carries a slow positive deflection on channel 0 (volts)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.normal(size=(n, 4, n_times)) * 1e-5
    data[labels == 1, 0] += np.hanning(n_times) * 2e-5
    names = tuple(f"C{i}" for i in range(4))
    return TrialSet(data, labels, ("a", "b"), 100.0, names, ("eeg",) * 4, f"toy{seed}")


@pytest.mark.parametrize("name", SPIKING)
def test_learns_an_easy_task_and_reports_synops_in_the_card(name, tmp_path):
    decoder = registry.create(name, seed=0, max_epochs=25, patience=25, max_steps=12)
    decoder.fit(toy(), toy(40, seed=1))
    test = toy(60, seed=2)
    accuracy = np.mean(decoder.predict_proba(test.data).argmax(1) == test.labels)
    assert accuracy > 0.8
    extra = decoder.card_extra()
    assert extra["counted_on_windows"] == 40  # the validation windows, not test ones
    assert extra["synops_per_window"] > 0 and extra["macs_equivalent_per_window"] > 0
    card = DecoderCard.for_decoder(decoder, extra=extra)
    save_decoder(decoder, card, tmp_path)
    loaded, loaded_card = load_decoder(tmp_path)
    assert loaded.name == name and loaded_card.extra["spike_rate"] == extra["spike_rate"]
    assert np.allclose(loaded.predict_proba(test.data), decoder.predict_proba(test.data))
    recount = loaded.operation_count(toy(40, seed=1).data)
    assert recount.synops == pytest.approx(extra["synops_per_window"])


@pytest.mark.parametrize("baseline", [False, True])
def test_streaming_module_of_the_fitted_decoder_matches_its_windows(baseline):
    import torch

    entry = registry.get("spiking-lif-delays")
    decoder = registry.create("spiking-lif-delays", baseline=baseline, **entry.tiny)
    decoder.fit(toy(), toy(40, seed=1))
    stream = decoder.streaming_module()
    windows = torch.as_tensor(toy(3, seed=3).data + 3e-3, dtype=torch.float32)  # 3 mV DC
    bins = decoder.module_.input.bins
    state = stream.initial_state(3)
    newest = windows[..., windows.shape[-1] - bins.used_samples :]
    with torch.no_grad():
        for start in range(0, bins.used_samples, stream.block_samples):
            logits, *state = stream(newest[..., start : start + stream.block_samples], *state)
        assert torch.allclose(logits, decoder.module_(windows), atol=1e-5)


def test_bad_windows_are_refused_clearly():
    decoder = registry.create("spiking-lif", **registry.get("spiking-lif").tiny)
    decoder.fit(toy(), toy(40, seed=1))
    longer = np.zeros((2, 4, 80))  # windows longer than the trials it was trained on
    with pytest.raises(DataError, match=r"windows must be \(n, 4, 60\), got \(2, 4, 80\)"):
        decoder.predict_proba(longer)
    with pytest.raises(ValueError, match=r"windows must be \(n, 4, 60\)"):
        decoder.operation_count(longer)
    with pytest.raises(DataError, match="windows of 0 samples cannot be decoded"):
        TimeBins.for_window(0, 8, source="spiking-lif")
    unfitted = registry.create("spiking-lif").card_extra()
    assert list(unfitted) == ["input_conditioning"]  # nothing counted before fitting


def test_unknown_options_are_named_at_creation():
    with pytest.raises(TypeError, match="spiking-rwkv has no option episodes"):
        registry.create("spiking-rwkv", episodes=3)
