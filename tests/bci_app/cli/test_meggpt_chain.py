"""MEG-GPT through the command line: both pretraining stages on the real VectorView recording,
fine-tuning on simulated MEG with --init, export with parity, live decoding of a replayed file."""

import json
import subprocess
import sys
import time

import pytest

from bci_app.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.lsl]

PRETRAIN = ["--size", "tiny", "--steps", "3", "--global-batch", "4", "--micro-batch", "4", "--no-progress"]  # fmt: skip
PARCELS = ["--set", "space=parcels", "--set", 'ch_types=["mag","grad"]', "--set", "max_channels=12", "--set", "n_parcels=4"]  # fmt: skip


def test_pretrain_both_stages_fine_tune_export_and_decode_a_replayed_meg_file(
    real_data, tmp_path, stream_name, capsys
):
    from decoders.datasets.archives import MEG_EEG
    from decoders.datasets.fetch import fetch
    from decoders.simulators.meg import MegSimulator

    real = fetch(MEG_EEG, log=lambda message: None) / "test_raw.fif"
    simulated = MegSimulator(seed=0, sfreq=100.0, n_subjects=1, n_sessions=1, trials_per_class=8)
    recording = simulated.write_corpus(tmp_path / "sim") / "sub-01/ses-01/sub-01_ses-01_task-av_meg.fif"  # fmt: skip
    one, two = tmp_path / "tokeniser", tmp_path / "gpt"
    assert main(["pretrain", "meg-gpt", "--stage", "tokeniser", "--data", str(real), "--out", str(one), *PARCELS, *PRETRAIN]) == 0  # fmt: skip
    assert main(["pretrain", "meg-gpt", "--stage", "gpt", "--data", str(real), "--out", str(two), "--init", str(one), *PARCELS, *PRETRAIN]) == 0  # fmt: skip
    card = json.loads((two / "pretrained.json").read_text())
    assert card["config"]["stage"] == "gpt" and card["channels"] == ["P01", "P02", "P03", "P04"]

    run = tmp_path / "run"
    assert main(["train", "meg-gpt", "--init", str(two), "--data", str(recording), "--tmin", "-0.1", "--tmax", "0.5", "--protocol", "kfold2", "--seeds", "0", "--set", "max_epochs=1", "--out", str(run), "--no-progress"]) == 0  # fmt: skip
    trained = json.loads((run / "card.json").read_text())
    assert trained["initialization"]["space"] == "parcels"
    assert trained["initialization"]["channels"] == "pretrained"
    models = tmp_path / "models"
    assert main(["export", str(run), "-o", str(tmp_path / "meggpt.onnx"), "--register", "meg-gpt-sim", "--registry", str(models)]) == 0  # fmt: skip
    assert "parity with torch" in capsys.readouterr().out

    player = subprocess.Popen(
        [sys.executable, "-m", "bci_app", "play", str(recording), "--name", stream_name, "--loop", "--duration", "60"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(3)
        status = main(["run", "--stream", stream_name, "--model", "meg-gpt-sim", "--registry", str(models), "--duration", "6", "--quiet", "--timeout", "30"])  # fmt: skip
    finally:
        player.terminate()
        player.wait(timeout=10)
    printed = capsys.readouterr().out
    assert status == 0 and "non_finite_outputs 0" in printed
    assert int(printed.split("published ")[1].split(",")[0]) > 0
