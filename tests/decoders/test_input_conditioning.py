"""Networks survive DC offsets: every network decoder removes them and scales its input, and
a decoder whose validation predictions collapse to one class says so."""

from dataclasses import replace

import numpy as np
import pytest

from decoders import registry
from decoders.card import DecoderCard
from decoders.datasets.errors import DataWarning
from decoders.datasets.trials import TrialSet
from decoders.evaluation.protocols import validation_split
from decoders.network import NetworkDecoder
from decoders.training.standardize import InputScaling, detrend_windows

NETWORKS = [
    name
    for name, entry in registry.REGISTRY.items()
    if issubclass(entry.load_class(), NetworkDecoder)
]
TRAINED = [name for name in NETWORKS if registry.get(name).family != "braindecode"] + [
    "eegnet",
    "shallow-fbcsp",
    "atcnet",
]
"""Decoders trained on offset trials: one conditioning layer serves every braindecode model,
shown on three (others need longer or many-channel windows, tested in the zoo's tests)."""
TOLERANCE = {"eegformer": (0.02, 0.1)}
"""Mean and largest probability moved by another offset, where the default (2e-3, 0.05) is too
tight: float32 holds a 10 µV signal on 5 mV to about 5e-5 of its size, so a vector quantiser's
near-tie may flip a token's code, and EEGFormer's head reads its code vectors standardised by
their spread over the training windows: one flipped token moves a probability by about 0.05."""


def power_trials(n=60, seed=0, name="toy"):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.normal(size=(n, 4, 128)) * 10e-6
    data[labels == 1, 0] *= 3
    names = ("C3", "C4", "Cz", "Pz")
    return TrialSet(data, labels, ("rest", "move"), 128.0, names, ("eeg",) * 4, name)


def offsets(trials, seed=1, volts=5e-3):
    """Shift every trial and channel by its own DC offset (up to ``volts``) plus ``volts``."""
    rng = np.random.default_rng(seed)
    shift = volts + rng.uniform(-volts, volts, trials.data.shape[:2])[..., None]
    return replace(trials, data=trials.data + shift)


def test_every_network_decoder_declares_dc_removal_and_a_scale():
    assert {"eegnet", "shallow-fbcsp", "spiking-lif", "fleeg-convnet"} <= set(NETWORKS)
    for name in NETWORKS:
        decoder = registry.create(name)
        conditioning = decoder.input_conditioning()
        assert conditioning["dc_and_drift"] != "none", name
        assert conditioning["scale"] != "none", name


@pytest.mark.parametrize("name", TRAINED)
def test_networks_trained_on_offset_trials_ignore_every_offset(name):
    entry = registry.get(name)
    train = offsets(power_trials(), seed=1)
    decoder = entry.create(seed=0, **entry.tiny).fit(*validation_split(train, 0.25, 0))
    test = power_trials(20, seed=5)

    first = decoder.predict_proba(offsets(test, seed=2).data)
    second = decoder.predict_proba(offsets(test, seed=3, volts=2e-3).data)

    moved = np.abs(first - second)
    mean_limit, max_limit = TOLERANCE.get(name, (2e-3, 0.05))
    assert moved.mean() < mean_limit and moved.max() < max_limit
    assert decoder.card_extra()["input_conditioning"] == decoder.input_conditioning()


def test_auto_conditioning_keeps_the_level_of_clean_trials_and_records_its_choice():
    clean, shifted = power_trials(), offsets(power_trials())
    for name, option in (("eegnet", "detrend"), ("spiking-lif", "baseline")):
        entry = registry.get(name)
        assert entry.create(**entry.tiny).config()[option] == "auto"
        on_clean = entry.create(**entry.tiny).fit(*validation_split(clean, 0.25, 0))
        on_shifted = entry.create(**entry.tiny).fit(*validation_split(shifted, 0.25, 0))
        assert on_clean.config()[option] is False and on_shifted.config()[option] is True
        assert "first step" in on_shifted.input_conditioning()["dc_and_drift"] or (
            "line removed" in on_shifted.input_conditioning()["dc_and_drift"]
        )
    forced = registry.create("eegnet", detrend=True, **registry.get("eegnet").tiny)
    forced.fit(*validation_split(clean, 0.25, 0))
    test = power_trials(20, seed=5)
    assert (
        np.abs(forced.predict_proba(test.data) - forced.predict_proba(offsets(test).data)).max()
        < 2e-3
    )


def test_conditioning_layer_removes_offset_and_drift_and_scales_by_training_sd():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(10, 3, 50)) * 1e-5
    layer = InputScaling(3, 50)
    layer.fit(data)
    ramp = 2e-3 + 1e-4 * np.arange(50)  # 2 mV offset, 0.1 mV per sample drift
    import torch

    plain = layer(torch.as_tensor(data, dtype=torch.float32)).numpy()
    drifting = layer(torch.as_tensor(data + ramp, dtype=torch.float32)).numpy()
    assert np.abs(plain - drifting).max() < 1e-2
    assert np.allclose(plain.std(axis=(0, 2)), 1.0, atol=1e-3)
    assert np.allclose(detrend_windows(data + ramp), detrend_windows(data), atol=1e-12)


def test_validation_predictions_collapsing_to_one_class_warn_and_reach_the_card():
    train = power_trials()
    flat = replace(power_trials(12, seed=3), data=np.zeros((12, 4, 128)))
    entry = registry.get("eegnet")
    with pytest.warns(DataWarning, match="collapse to one class"):
        decoder = entry.create(seed=0, **entry.tiny).fit(train, flat)
    assert len(decoder.warnings_) == 1
    assert DecoderCard.for_decoder(decoder).extra["warnings"] == decoder.warnings_


@pytest.mark.slow
def test_real_trials_shifted_by_5_mv_decode_as_well_as_demeaned_ones(real_data):
    from decoders.datasets.loaders import load_trial_set

    split = load_trial_set("SelfRegulationSCP1", real_data)
    train = split.train.subset(np.arange(160))
    test = split.test.subset(np.arange(120))

    def accuracy(transform, **options):
        decoder = registry.create("eegnet", max_epochs=15, patience=15, **options)
        decoder.fit(*validation_split(transform(train), 0.2, 0))
        predicted = decoder.predict_proba(transform(test).data).argmax(axis=1)
        return np.mean(predicted == test.labels)

    shifted = accuracy(lambda trials: offsets(trials, volts=5e-3))  # auto: the DC is seen
    demeaned = accuracy(
        lambda trials: replace(trials, data=trials.data - trials.data.mean(-1, keepdims=True)),
        detrend=True,
    )
    assert abs(shifted - demeaned) <= 0.02
    assert demeaned > 0.7
