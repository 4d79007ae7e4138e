"""Du-IN through the command line: both pretraining stages, fine-tuning, export, live sEEG."""

import json
import subprocess
import sys
import time

import pytest

from bci_app.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.lsl]

PRETRAIN = ["--size", "tiny", "--steps", "3", "--global-batch", "4", "--micro-batch", "4", "--no-progress"]  # fmt: skip


def test_pretrain_both_stages_fine_tune_export_and_decode_a_replayed_seeg_file(
    seeg_bids, tmp_path, stream_name, capsys
):
    vqvae, mae = tmp_path / "vqvae", tmp_path / "mae"
    assert main(["pretrain", "duin", "--stage", "vqvae", "--data", str(seeg_bids), "--out", str(vqvae), *PRETRAIN]) == 0  # fmt: skip
    assert main(["pretrain", "duin", "--stage", "mae", "--data", str(seeg_bids), "--out", str(mae), "--init", str(vqvae), *PRETRAIN]) == 0  # fmt: skip
    card = json.loads((mae / "pretrained.json").read_text())
    assert card["config"]["stage"] == "mae" and set(card["subjects"]) == {"01", "02"}
    assert main(["pretrain", "duin", "--stage", "mae", "--data", str(seeg_bids), "--out", str(tmp_path / "x"), "--init", str(mae), *PRETRAIN]) == 1  # fmt: skip
    assert (
        "is a stage-2 (mae) Du-IN model; stage mae starts from a stage-1" in capsys.readouterr().err
    )

    reading = seeg_bids / "sub-01" / "ieeg" / "sub-01_task-reading_ieeg.vhdr"
    run = tmp_path / "run"
    assert main(["train", "duin", "--init", str(mae), "--data", str(reading), "--tmin", "-0.5", "--tmax", "2.5", "--protocol", "kfold2", "--seeds", "0", "--set", "max_epochs=2", "--out", str(run), "--no-progress"]) == 0  # fmt: skip
    trained = json.loads((run / "card.json").read_text())
    assert trained["initialization"]["subject_layer"] == "pretrained (subject 01)"
    models = tmp_path / "models"
    assert main(["export", str(run), "-o", str(tmp_path / "duin.onnx"), "--register", "duin-seeg", "--registry", str(models)]) == 0  # fmt: skip
    assert "parity with torch" in capsys.readouterr().out

    player = subprocess.Popen(
        [sys.executable, "-m", "bci_app", "play", str(reading), "--name", stream_name, "--loop", "--duration", "60"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(3)
        status = main(["run", "--stream", stream_name, "--model", "duin-seeg", "--registry", str(models), "--duration", "6", "--quiet", "--timeout", "30"])  # fmt: skip
    finally:
        player.terminate()
        player.wait(timeout=10)
    printed = capsys.readouterr().out
    assert status == 0 and "non_finite_outputs 0" in printed
    published = int(printed.split("published ")[1].split(",")[0])
    assert published > 0
