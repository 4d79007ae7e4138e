"""``bci-app pretrain`` as a user runs it: resumable after kill -9, data-parallel under torchrun."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def pretrain_command(corpus, out, *extra):
    return [
        sys.executable, "-m", "bci_app", "pretrain", "eegformer", "--size", "tiny",
        "--data", str(corpus), "--out", str(out), "--steps", "12", "--global-batch", "32",
        "--micro-batch", "16", "--checkpoint-every", "3", "--no-progress", *extra,
    ]  # fmt: skip


def losses(out):
    return [json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines()]


def wait_for_steps(out, count, process, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = out / "log.jsonl"
        if log.is_file() and len(log.read_text().splitlines()) >= count:
            return
        assert process.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.05)
    raise AssertionError(f"no {count} steps within {timeout} s")


@pytest.fixture(scope="module")
def reference(eeg_corpus, tmp_path_factory):
    """An uninterrupted single-process run (two micro-batches of 16 per step)."""
    out = tmp_path_factory.mktemp("reference")
    finished = subprocess.run(pretrain_command(eeg_corpus, out), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert (
        "corpus: 3 file(s)" in finished.stdout and f"pretrained 12 steps: {out}" in finished.stdout
    )
    return out


def test_a_run_killed_with_sigkill_resumes_as_if_uninterrupted(eeg_corpus, reference, tmp_path):
    process = subprocess.Popen(pretrain_command(eeg_corpus, tmp_path), stdout=subprocess.DEVNULL)
    wait_for_steps(tmp_path, 5, process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    resumed = subprocess.run(pretrain_command(eeg_corpus, tmp_path), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert np.allclose(losses(tmp_path), losses(reference), rtol=1e-6)
    card = json.loads((tmp_path / "pretrained.json").read_text())
    assert card["steps"] == 12 and card["corpus"]["n_files"] == 3
    assert card["corpus"]["hours_per_type"]["eeg"] > 0 and len(card["weights_sha256"]) == 64
    assert card["throughput"]["sequences_per_s"] > 0 and card["versions"]["torch"]


def test_two_processes_match_one_and_a_dead_worker_stops_the_run_clearly(
    eeg_corpus, reference, tmp_path
):
    """The same global batch on two processes gives the single process's losses, across a
    worker killed mid-run and the resumption that follows."""
    import psutil

    command = pretrain_command(eeg_corpus, tmp_path, "--nproc", "2")
    launcher = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wait_for_steps(tmp_path, 4, launcher)
    workers = [
        child
        for child in psutil.Process(launcher.pid).children(recursive=True)
        if child.environ().get("RANK") == "1"
    ]
    assert workers, "no worker of rank 1 found"
    workers[0].kill()
    _, stderr = launcher.communicate(timeout=120)
    assert launcher.returncode == 1
    assert "a pretraining process stopped" in stderr and "resume from the last checkpoint" in stderr

    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert np.allclose(losses(tmp_path), losses(reference), rtol=1e-5)
    card = json.loads((tmp_path / "pretrained.json").read_text())
    assert card["processes"] == 2 and card["accumulation"] == 1
