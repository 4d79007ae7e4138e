"""Seizure forecasting through the command line: simulate a CHB-MIT copy, train, export."""

import json
import subprocess
import sys

import pytest

from bci_app.models.alarm import AlarmPolicy
from bci_app.models.format import read_card

pytestmark = pytest.mark.slow

SIMULATOR = [
    "n_subjects=1", "seizure_interval_s=[240,300]", "seizure_duration_s=[10,15]",
    "preictal_s=[60,90]", "postictal_s=20", "file_s=200", "sfreq=64",
]  # fmt: skip
FORECAST = [
    "sph_s=10", "sop_s=60", "interictal_gap_s=60", "postictal_s=20", "monitoring_s=200", "k=3",
    "n=5",
]  # fmt: skip


def bci_app(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "bci_app", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def _options(flag, pairs):
    return [item for pair in pairs for item in (flag, pair)]


def test_a_simulated_chbmit_copy_trains_stan_with_alarms_and_exports_them(tmp_path):
    simulated = bci_app("data", "simulate", "seizure", "--out", tmp_path / "db",
                        *_options("--set", [*SIMULATOR, "seizures_per_subject=3"]), cwd=tmp_path)  # fmt: skip
    assert simulated.returncode == 0, simulated.stderr
    assert (tmp_path / "db" / "chb01" / "chb01-summary.txt").is_file()

    trained = bci_app(
        "train", "stan", "--data", tmp_path / "db", "--window-s", "2",
        *_options("--forecast", FORECAST), "--seeds", "0",
        *_options("--set", ["max_epochs=2", "dim=8", "heads=2", "depth=1"]),
        "--out", tmp_path / "run", "--no-progress", cwd=tmp_path,
    )  # fmt: skip

    assert trained.returncode == 0, trained.stderr
    assert "leave one seizure out" in trained.stdout and "sensitivity" in trained.stdout
    for name in ("weights.pt", "card.json", "result.json", "alarms.png", "learning_curve.png"):
        assert (tmp_path / "run" / name).is_file(), name
    card = json.loads((tmp_path / "run" / "card.json").read_text())
    assert card["config"]["hop_s"] == 2.0
    assert card["evaluation"]["protocol"] == "seizures"
    assert [f["name"] for f in card["evaluation"]["folds"]] == [
        "chb01/seizure0", "chb01/seizure1", "chb01/seizure2"
    ]  # fmt: skip
    policy = AlarmPolicy.from_card(card)
    assert (policy.k, policy.n, policy.sph_s, policy.sop_s, policy.refractory_s) == (
        3, 5, 10.0, 60.0, 70.0
    )  # fmt: skip

    evaluated = bci_app("evaluate", tmp_path / "run", "--data", tmp_path / "db", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "auroc" in evaluated.stdout  # its windows, labelled with the card's settings

    exported = bci_app("export", tmp_path / "run", "-o", tmp_path / "stan.onnx", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    onnx_card = read_card(tmp_path / "stan.onnx", "stan.onnx")
    assert AlarmPolicy.from_card(onnx_card.card) == policy
    assert onnx_card.output_names == ("interictal", "preictal") and onnx_card.hop_s == 2.0


def test_a_subject_with_a_single_seizure_gets_a_clear_message(tmp_path):
    bci_app("data", "simulate", "seizure", "--out", tmp_path / "db",
            *_options("--set", [*SIMULATOR, "seizures_per_subject=1"]), cwd=tmp_path)  # fmt: skip

    trained = bci_app("train", "bandpower-lr", "--data", tmp_path / "db", "--window-s", "2",
                      *_options("--forecast", FORECAST), "--seeds", "0", "--no-progress",
                      cwd=tmp_path)  # fmt: skip

    assert trained.returncode == 1 and "Traceback" not in trained.stderr
    assert "chb01: 1 seizure(s)" in trained.stderr
    assert "leave-one-seizure-out needs at least two" in trained.stderr


def test_a_task_without_files_to_write_is_refused(tmp_path):
    result = bci_app("data", "simulate", "motor_imagery", "--out", tmp_path, cwd=tmp_path)

    assert result.returncode == 1 and "writes no corpus of files" in result.stderr
