"""Pretrained braindecode weights from a local folder written by braindecode's own
``save_pretrained``: loaded without any network call, checked, recorded in the card."""

import hashlib
import json
import socket
import subprocess
import sys

import pytest

from decoders import registry
from decoders.datasets.errors import DataError
from decoders.models.braindecode_zoo import survey

TINY_BIOT = {"embed_dim": 16, "num_heads": 2, "num_layers": 1}


def _save_pretrained(folder, architecture="BIOT", n_chans=8, sfreq=200.0, n_outputs=5, **options):
    """Write a randomly initialised braindecode model with braindecode's save function."""
    import braindecode.models
    import torch

    torch.manual_seed(1)
    model = getattr(braindecode.models, architecture)(
        n_chans=n_chans, n_outputs=n_outputs, n_times=200, sfreq=sfreq, **options
    )
    model.save_pretrained(str(folder))
    return model


@pytest.fixture
def no_network(monkeypatch):
    """Fail any attempt to open a network connection."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a network connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _fit(folder, **options):
    decoder = registry.create("biot", max_epochs=1, network=TINY_BIOT, **options)
    return decoder.fit(survey.survey_trials(30, 0), survey.survey_trials(15, 1), init=folder)


def test_weights_load_offline_and_the_card_records_their_origin(tmp_path, no_network):
    import torch

    pretrained = _save_pretrained(tmp_path / "biot", **TINY_BIOT)
    decoder = _fit(tmp_path / "biot", lr=0.0)  # no learning: the weights stay the pretrained ones

    provenance = decoder.initialization_
    weights = tmp_path / "biot" / "model.safetensors"
    assert provenance["weights_file"] == "model.safetensors"
    assert provenance["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert provenance["licence"] == "bsd-3-clause" and provenance["model"].endswith(".BIOT")
    assert provenance["initialised_tensors"] and all(
        "classifier" in key or "final" in key for key in provenance["initialised_tensors"]
    )  # 5 pretrained classes, 3 here: only the head starts anew
    network = decoder.module_[1]
    for key, value in pretrained.state_dict().items():
        if key not in provenance["initialised_tensors"]:
            assert torch.equal(network.state_dict()[key], value), key
    assert decoder.config()["network"]["embed_dim"] == 16  # the card rebuilds this architecture


def test_a_pickled_weights_file_is_read_weights_only(tmp_path, no_network):
    _save_pretrained(tmp_path / "biot", **TINY_BIOT)
    (tmp_path / "biot" / "model.safetensors").unlink()
    decoder = _fit(tmp_path / "biot")
    assert decoder.initialization_["weights_file"] == "pytorch_model.bin"


def test_weights_of_another_model_are_refused_naming_it(tmp_path):
    _save_pretrained(tmp_path / "eegnet", architecture="EEGNet")
    with pytest.raises(DataError, match=r"weights of EEGNet, not of BIOT \(train eegnet"):
        _fit(tmp_path / "eegnet")


def test_weights_pretrained_at_another_rate_are_refused(tmp_path):
    _save_pretrained(tmp_path / "biot", sfreq=256.0, **TINY_BIOT)
    with pytest.raises(
        DataError, match="pretrained on data at 256 Hz, the training data are at 200"
    ):
        _fit(tmp_path / "biot")


def test_options_that_contradict_the_weights_are_named(tmp_path):
    _save_pretrained(tmp_path / "biot", **TINY_BIOT)
    decoder = registry.create("biot", max_epochs=1, network={**TINY_BIOT, "embed_dim": 32})
    with pytest.raises(DataError, match=r"embed_dim=32 \(pretrained: 16\)"):
        decoder.fit(
            survey.survey_trials(30, 0), survey.survey_trials(15, 1), init=tmp_path / "biot"
        )


def test_tensors_that_do_not_fit_are_named(tmp_path):
    _save_pretrained(tmp_path / "biot", n_chans=4, **TINY_BIOT)
    with pytest.raises(DataError, match=r"does not fit the decoder's network .*channel count"):
        _fit(tmp_path / "biot")


def test_a_folder_that_is_not_a_save_pretrained_folder_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no weights"):
        _fit(tmp_path / "empty")


@pytest.mark.slow
def test_bci_app_train_init_fine_tunes_from_the_folder(tmp_path, write_toy_recording):
    recording = write_toy_recording(tmp_path / "toy_raw.fif", sfreq=200.0)
    _save_pretrained(tmp_path / "biot", n_chans=4, n_outputs=2, **TINY_BIOT)
    run = subprocess.run(
        [sys.executable, "-m", "bci_app", "train", "biot", "--data", recording, "--seeds", "0",
         "--set", "max_epochs=2", "--set", f"network={json.dumps(TINY_BIOT)}",
         "--init", tmp_path / "biot", "--out", tmp_path / "run", "--no-progress"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    card = json.loads((tmp_path / "run" / "card.json").read_text())
    assert card["initialization"]["origin"] == str((tmp_path / "biot").resolve())
    assert card["initialization"]["initialised_tensors"] == []  # same two classes: all loaded
    assert card["extra"]["licence"] == "bsd-3-clause"
