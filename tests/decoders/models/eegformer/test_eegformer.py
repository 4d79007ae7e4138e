import json

import numpy as np
import pytest
import torch

from decoders import registry
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.models.eegformer.anomaly import anomaly_scores
from decoders.models.eegformer.classifier import EEGFormer
from decoders.models.eegformer.spectra import SpectralPatches
from decoders.pretraining.run import pretrain
from decoders.pretraining.trainer import PretrainSettings


@pytest.fixture(scope="module")
def pretrained(eeg_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("pretrained")
    settings = PretrainSettings(steps=4, global_batch=16, micro_batch=16, checkpoint_every=4)
    pretrain("eegformer", [eeg_corpus], out, settings, size="tiny", progress=False)
    return out


def trials(n=40, seed=0, sfreq=200.0, n_times=200):
    """Two classes: class 1 carries a 20 Hz rhythm on its first two channels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    data = rng.standard_normal((n, 4, n_times)) * 10e-6
    time = np.arange(n_times) / sfreq
    data[labels == 1, :2] += 30e-6 * np.sin(2 * np.pi * 20 * time)
    names = ("C3", "C4", "Cz", "Pz")
    return TrialSet(data, labels, ("rest", "move"), sfreq, names, ("eeg",) * 4, f"toy{seed}")


def test_tokens_ignore_amplitude_and_offset_and_refuse_short_sequences():
    patches = SpectralPatches(25, 25)
    x = torch.randn(3, 250)
    assert patches(x).shape == (3, 10, 13)
    difference = (patches(x) - patches(1e-5 * x + 3e-3)).abs()  # 300x the signal in DC
    assert difference.mean() < 1e-3 and difference.max() < 0.05  # float32 resolution
    meg = (patches(x) - patches(1e-13 * x)).abs()  # MEG in tesla: no epsilon may swamp it
    assert meg.mean() < 1e-3 and meg.max() < 0.05
    with pytest.raises(ValueError, match="shorter than one patch of 25"):
        patches(torch.randn(2, 20))


def test_fine_tuning_from_a_pretrained_folder_takes_its_architecture(pretrained):
    options = EEGFormer.options_from(pretrained)
    assert options == {"size": "tiny", "architecture": None}
    decoder = registry.create("eegformer", tuning="linear", max_epochs=3, patience=3, **options)
    before = json.loads((pretrained / "pretrained.json").read_text())
    decoder.fit(trials(), trials(20, 1), init=pretrained)

    provenance = decoder.initialization_
    assert provenance["sha256"] == before["weights_sha256"] and provenance["model"] == "eegformer"
    assert provenance["pretraining_steps"] == 4
    state = torch.load(pretrained / "pretrained.pt", weights_only=True)
    for key, value in decoder.module_.backbone.state_dict().items():
        assert torch.equal(value, state[f"backbone.{key}"]), key  # a linear probe keeps them


def test_fine_tuning_keeps_the_pretrained_codes_and_learns_a_separable_task(pretrained):
    # Before the fix, the head's input (channel averages of code vectors, unscaled) taught it
    # little but a bias, and the backbone, at the head's learning rate, lost 90 % of its
    # pretrained codes: the bench's abnormal task was predicted as one class.
    options = EEGFormer.options_from(pretrained)
    held_out = trials(40, 2)
    probe = registry.create("eegformer", tuning="linear", max_epochs=1, **options)
    pretrained_codes = probe.fit(trials(20), trials(20, 1), init=pretrained).tokens(held_out.data)

    decoder = registry.create("eegformer", max_epochs=10, patience=10, **options)
    decoder.fit(trials(60), trials(20, 1), init=pretrained)
    assert np.mean(decoder.tokens(held_out.data) != pretrained_codes) < 0.2
    assert min(epoch["train_loss"] for epoch in decoder.history_.epochs) < 0.57  # ln 2 = 0.69
    predicted = decoder.predict_proba(held_out.data).argmax(axis=1)
    assert np.bincount(predicted, minlength=2).min() >= 10  # both classes, far from one
    assert np.mean(predicted == held_out.labels) >= 0.85


def test_a_pretrained_model_of_another_architecture_is_refused(pretrained):
    decoder = registry.create("eegformer", size="small", max_epochs=1)
    with pytest.raises(
        DataError, match=r"does not fit the decoder asked for: patch 25 \(asked: 50\)"
    ):
        decoder.fit(trials(), trials(20, 1), init=pretrained)


def test_windows_shorter_than_a_patch_are_refused():
    decoder = registry.create("eegformer", size="tiny", max_epochs=1)
    with pytest.raises(DataError, match="shorter than one patch of 25 samples"):
        decoder.fit(trials(n_times=16), trials(20, 1, n_times=16))


def test_decisions_are_explained_by_their_tokens(tmp_path):
    decoder = registry.create("eegformer", size="tiny", max_epochs=8, patience=8, lr=3e-3)
    decoder.fit(trials(60), trials(30, 1))
    extra = decoder.card_extra()
    assert 0.0 <= extra["token_detector"]["valid_accuracy"] <= 1.0
    evidence = np.array(extra["code_evidence"])
    assert evidence.shape == (2, 16) and np.isfinite(evidence).all()
    codes = decoder.tokens(trials(3, 2).data)
    assert codes.shape == (3, 4, 10) and codes.max() < 16  # 1 s at 250 Hz, 0.1 s patches
    figures = decoder.save_figures(tmp_path)
    assert [path.name for path in figures] == [
        "codebook_usage.png",
        "token_map_rest.png",
        "token_map_move.png",
    ]
    assert all(path.stat().st_size > 1000 for path in figures)


def test_recordings_get_an_anomaly_score(pretrained, eeg_corpus, tmp_path):
    broken = tmp_path / "broken.edf"
    broken.write_bytes(b"not an EDF")
    scores, skipped = anomaly_scores(pretrained, [eeg_corpus, broken])
    assert len(scores) == 3 and all(np.isfinite(s.score) and s.n_sequences > 0 for s in scores)
    assert [path for path, _ in skipped] == [str(broken.resolve())]
