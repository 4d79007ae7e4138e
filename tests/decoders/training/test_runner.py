import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from decoders.card import DecoderCard
from decoders.checkpoint import load_decoder
from decoders.datasets.errors import DataError
from decoders.training.runner import TrainingJob, train
from decoders.training.sources import DataRequest


def test_train_writes_decoder_card_record_and_plots(toy_recording, tmp_path):
    job = TrainingJob(
        "csp-lda", DataRequest(str(toy_recording)), "kfold", (0, 1), {"n_components": 2}
    )
    record = train(job, tmp_path / "run", progress=False)
    out = tmp_path / "run"
    for name in (
        "weights.pt",
        "card.json",
        "result.json",
        "learning_curve.png",
        "confusion_matrix.png",
    ):
        assert (out / name).is_file(), name
    assert record.metrics["accuracy"].mean > 0.8 and len(record.folds) == 5
    card = DecoderCard.load(out / "card.json")
    assert card.evaluation["protocol"] == "kfold"
    assert card.data["classes"] == ["a", "b"] and card.extra["deployed_from"]["seed"] == 0
    decoder, _ = load_decoder(out)
    assert decoder.input_spec_.ch_names == ("C3", "C4", "Cz", "Pz")
    progress = json.loads((out / "progress.json").read_text())
    assert len(progress["runs"]) == 10  # 2 seeds x 5 folds, each scored once
    confusion_total = sum(len(run["true"]) for run in progress["runs"].values())
    assert confusion_total == 2 * 60


def test_refit_deploys_a_decoder_fitted_on_every_trial(toy_recording, tmp_path):
    job = TrainingJob(
        "csp-lda", DataRequest(str(toy_recording)), "kfold", (0,), {"n_components": 2}, refit=True
    )
    record = train(job, tmp_path, progress=False)
    card = DecoderCard.load(tmp_path / "card.json")
    assert card.extra["deployed_from"] == {"seed": 0, "refit_on_trials": 60}
    assert card.evaluation["metrics"]["accuracy"]["mean"] == record.metrics["accuracy"].mean
    decoder, _ = load_decoder(tmp_path)
    assert decoder.input_spec_.n_times == 100


def test_a_run_folder_of_other_settings_is_not_resumed(toy_recording, tmp_path):
    job = TrainingJob(
        "csp-lda", DataRequest(str(toy_recording)), "kfold", (0,), {"n_components": 2}
    )
    train(job, tmp_path, progress=False)
    job.options = {"n_components": 4}
    with pytest.raises(DataError, match="holds a run with other settings"):
        train(job, tmp_path, progress=False)


def test_fewer_trials_than_folds_is_a_clear_error(tmp_path, write_toy_recording):
    small = write_toy_recording(tmp_path / "small_raw.fif", n_events=12)
    job = TrainingJob("csp-lda", DataRequest(str(small)), "kfold10", (0,))
    with pytest.raises(DataError, match="cannot make 10 stratified folds"):
        train(job, tmp_path / "run", progress=False)


@pytest.mark.slow
def test_killed_training_resumes_where_it_stopped(toy_recording, tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "bci_app", "train", "eegnet", "--data", str(toy_recording),
        "--protocol", "kfold", "--seeds", "0", "--set", "max_epochs=60", "--set", "patience=60",
        "--out", str(out), "--no-progress",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:  # wait for fold 0 done and fold 1 part-way
            progress = out / "progress.json"
            runs = json.loads(progress.read_text())["runs"] if progress.is_file() else {}
            partial = list((out / "partial").glob("seed0-fold1.pt")) if out.exists() else []
            if len(runs) == 1 and partial:
                break
            time.sleep(0.2)
        else:
            pytest.fail("training never reached the second fold")
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    deployed_at = (out / "weights.pt").stat().st_mtime_ns
    first_run = json.loads((out / "progress.json").read_text())["runs"]["0/fold0"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    final = json.loads((out / "progress.json").read_text())["runs"]
    assert len(final) == 5 and final["0/fold0"] == first_run  # not refitted or rescored
    assert (out / "weights.pt").stat().st_mtime_ns == deployed_at
    assert not (out / "partial").exists()
    assert np.isfinite(json.loads((out / "result.json").read_text())["metrics"]["accuracy"]["mean"])
