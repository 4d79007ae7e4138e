"""The path a newcomer walks, as separate commands: train -> export -> run, with printed names."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.lsl
@pytest.mark.slow
def test_train_export_run_with_the_names_the_tools_print(tmp_path, stream_name, bci_app):
    env = {**os.environ, "BCI_APP_MODELS": str(tmp_path / "models")}
    data = (
        "simulate:motor_imagery?n_subjects=1&n_runs=1&trials_per_class=12&channels=8"
        "&sfreq=125&classes=left_hand,right_hand"
    )
    trained = bci_app("train", "csp-lda", "--data", data, "--set", "band=[8,30]", "--protocol",
                      "kfold3", "--seeds", "0", "--no-progress", cwd=tmp_path, env=env)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    export = re.search(r"^next: (bci-app export \S+)", trained.stdout, re.M).group(1)

    exported = bci_app(*shlex.split(export)[1:], cwd=tmp_path, env=env)

    assert exported.returncode == 0, exported.stderr
    run = re.search(r"^run it with: (bci-app run .*)$", exported.stdout, re.M).group(1)
    name = run.split("--model ")[1].split()[0]
    assert f"registered as {name}:1 in {tmp_path / 'models'}" in exported.stdout
    player = subprocess.Popen(
        [sys.executable, "-m", "bci_app", "play", "--simulate",
         "motor_imagery?channels=8&classes=left_hand,right_hand", "--name", stream_name,
         "--duration", "40"],
        stdout=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    try:
        assert "streaming" in player.stdout.readline()
        ran = bci_app(*shlex.split(run.replace("STREAM", stream_name))[1:], "--duration", "3",
                      cwd=tmp_path, env=env)  # fmt: skip
        # The exported file itself names its registered version.
        model_file = Path(shlex.split(export)[2]) / "model.onnx"
        by_path = bci_app("run", "--stream", stream_name, "--model", model_file, "--duration",
                          "1.5", "--quiet", cwd=tmp_path, env=env)  # fmt: skip
    finally:
        player.terminate()
        player.wait(20)
    assert ran.returncode == 0, ran.stderr
    assert f"decoding '{stream_name}' with {name}:1 (csp-lda)" in ran.stdout
    assert "  resampling: stream at 250 Hz -> model at 125 Hz" in ran.stdout
    assert re.search(r"published [1-9]", ran.stdout)
    assert by_path.returncode == 0, by_path.stderr
    assert f"with {name}:1 (csp-lda)" in by_path.stdout


def test_a_misnamed_simulator_option_is_named_with_its_nearest(tmp_path, bci_app):
    result = bci_app("train", "csp-lda", "--data", "simulate:motor_imagery?subjects=1",
                     "--no-progress", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "unknown option(s) subjects (options: classes, channels" in result.stderr
    assert "did you mean subjects -> n_subjects?" in result.stderr
    result = bci_app("train", "csp-lda", "--data", "FingerMovements", "--sim-option",
                     "n_subjects=1", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert "simulator options are for simulate:TASK data only" in result.stderr


def test_data_list_documents_the_simulator_options(tmp_path, bci_app):
    listed = bci_app("data", "list", cwd=tmp_path)
    assert listed.returncode == 0
    assert "'simulate:TASK?KEY=VALUE&KEY=VALUE' or --sim-option KEY=VALUE" in listed.stdout
    assert "n_subjects=4" in listed.stdout and "snr_db=-4.0" in listed.stdout


@pytest.mark.slow
def test_the_readme_simulator_command_gives_the_readme_figure(tmp_path, bci_app):
    line = next(
        line
        for line in README.read_text().splitlines()
        if line.startswith('bci-app train csp-lda --data "simulate:') and "# accuracy" in line
    )
    command, _, comment = line.partition("#")
    figure = re.search(r"accuracy (\d\.\d{3})", comment).group(1)
    # The same command with --sim-option instead of the query string.
    arguments = shlex.split(command)[1:]  # train csp-lda --data DATA ...
    base, _, query = arguments[3].partition("?")
    options = [item for pair in query.split("&") for item in ("--sim-option", pair)]
    arguments[3] = base

    trained = bci_app(*arguments, *options, "--no-progress", "--out", tmp_path / "run",
                      cwd=tmp_path)  # fmt: skip

    assert trained.returncode == 0, trained.stderr
    assert re.search(rf"^  accuracy\s+{figure} ± 0\.000$", trained.stdout, re.M), trained.stdout
    assert f"csp-lda on simulated/motor_imagery?{query}" in trained.stdout
