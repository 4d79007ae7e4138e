"""The meg-gpt decoder: fine-tuning from a pretrained model (--init), zero-shot features, and
fine-tuning from a checkpoint of another channel set (refused, naming the channels)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from decoders import registry
from decoders.datasets.errors import DataError
from decoders.evaluation.protocols import validation_split
from decoders.models.meggpt.classifier import MEGGPT
from decoders.models.meggpt.pretraining import restore
from decoders.models.meggpt.zero_shot import frozen_encoder, frozen_features
from decoders.pretraining.checkpoint import load_pretrained
from decoders.simulators.meg import MegSimulator


@pytest.fixture(scope="module")
def meg_trials(real_data):
    """Simulated MEG on the real recording's 306 sensors: 2 subjects x 2 sessions, 4 classes."""
    simulator = MegSimulator(seed=0, sfreq=100.0, n_subjects=2, trials_per_class=4, snr_db=5.0)
    return simulator.trials()


def channels(trials, count):
    """The trials' first ``count`` channels."""
    return replace(
        trials,
        data=trials.data[:, :count],
        ch_names=trials.ch_names[:count],
        ch_types=trials.ch_types[:count],
        ch_pos={name: trials.ch_pos[name] for name in trials.ch_names[:count]},
    )


def fine_tuned(init, trials, **options):
    implied = MEGGPT.options_from(init)
    decoder = registry.create("meg-gpt", seed=0, **{**implied, "max_epochs": 1, **options})
    return decoder.fit(*validation_split(trials, 0.25, 0), init=init)


def test_fine_tuning_starts_from_the_pretrained_transformer_and_channel_embeddings(
    sensor_stages, meg_trials
):
    trials = channels(meg_trials, 8)  # the channels the model was pretrained on
    decoder = fine_tuned(sensor_stages[1], trials, max_epochs=0)
    pretrained = load_pretrained(sensor_stages[1])
    assert decoder.initialization_["sha256"] == pretrained.sha256
    assert decoder.initialization_["channels"] == "pretrained"
    model = restore(pretrained)
    module = decoder.module_
    assert torch.equal(module.transformer.channel.weight, model.gpt.channel.weight)
    assert torch.equal(module.transformer.head.weight, model.gpt.head.weight)
    for key, value in model.tokeniser.state_dict().items():
        assert torch.equal(module.tokeniser.state_dict()[key], value), key
    probabilities = decoder.predict_proba(trials.data[:3])
    assert probabilities.shape == (3, 4) and np.allclose(probabilities.sum(1), 1, atol=1e-5)


def test_pretrained_parcels_map_the_trials_sensors_by_name(parcel_stages, meg_trials):
    shuffled = np.random.default_rng(0).permutation(meg_trials.n_channels)
    trials = replace(
        meg_trials,
        data=meg_trials.data[:, shuffled],
        ch_names=tuple(meg_trials.ch_names[i] for i in shuffled),
        ch_types=tuple(meg_trials.ch_types[i] for i in shuffled),
    )
    decoder = fine_tuned(parcel_stages[1], trials, max_epochs=0)
    parcellation = restore(load_pretrained(parcel_stages[1])).parcellation
    columns = [trials.ch_names.index(name) for name in parcellation.sensors]
    weights = decoder.module_.parcels.numpy()
    assert np.allclose(weights[:, columns], parcellation.weights, atol=1e-6)
    assert np.count_nonzero(weights) == np.count_nonzero(parcellation.weights)


def test_a_checkpoint_of_another_channel_set_is_refused_with_the_channels_and_the_remedy(
    sensor_stages, parcel_stages, meg_trials
):
    other = replace(channels(meg_trials, 8), ch_names=tuple(f"EEG {i:03d}" for i in range(1, 9)))
    other = replace(other, ch_pos=None)
    kept = other.data.copy()
    with pytest.raises(DataError, match=r"gpt.*8 channels it was not pretrained on \(EEG 001.*"
                       r"MEG 0113.*--set channels=new"):  # fmt: skip
        fine_tuned(sensor_stages[1], other)
    assert np.array_equal(other.data, kept)  # nothing lost
    gradiometers = MegSimulator(
        seed=0, channels="grad", sfreq=100.0, n_subjects=1, n_sessions=1, trials_per_class=3
    ).trials()
    with pytest.raises(DataError, match=r"lacks 4 of the 12 sensors the parcels are made of"):
        fine_tuned(parcel_stages[1], gradiometers)
    # the remedy works: new embeddings for these channels
    decoder = fine_tuned(sensor_stages[1], other, channels="new", max_epochs=0)
    assert decoder.initialization_["channels"] == "new"


def test_a_stage_one_model_or_another_architecture_is_refused(sensor_stages, meg_trials):
    trials = channels(meg_trials, 8)
    with pytest.raises(DataError, match="is a stage-1 \\(tokeniser\\) MEG-GPT model"):
        fine_tuned(sensor_stages[0], trials)
    with pytest.raises(DataError, match="width 16 \\(here: 32\\)"):
        fine_tuned(sensor_stages[1], trials, architecture={"width": 32})


def test_zero_shot_features_come_from_the_frozen_model_without_labels(sensor_stages, meg_trials):
    trials = channels(meg_trials, 8)
    encoder = frozen_encoder(sensor_stages[1], trials)
    assert not any(p.requires_grad for p in encoder.parameters())
    features = frozen_features(encoder, trials)
    assert features.shape == (trials.n_trials, encoder.head.in_features)
    relabelled = replace(trials, labels=np.roll(trials.labels, 5))
    assert np.array_equal(frozen_features(encoder, relabelled), features)
    scratch = frozen_encoder(None, trials, size="tiny")
    assert not np.allclose(frozen_features(scratch, trials), features)
    # each session is standardised on its own: scaling one session changes nothing
    session = (trials.groups == 1) & (trials.blocks == 0)
    scaled = trials.data.copy()
    scaled[session] *= 8.0  # a power of two: exact in floating point, so no token flips
    assert np.allclose(frozen_features(encoder, replace(trials, data=scaled)), features, atol=1e-4)
