"""Trainings in a child process: progress, outcome, death and cancellation, nothing half-written."""

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bci_app.models.registry import ModelRegistry
from bci_app.session.calibration import CalibrationPlan
from bci_app.session.child import NICENESS, ChildFailed, ChildTask, State
from bci_app.session.training import CalibrationJob, CalibrationResult

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def recording(short_calibration):
    """The short calibration's plan and recording."""
    return short_calibration


class Outcome:
    def __init__(self):
        self.progress, self.done, self.failed = [], [], []


def _start(job):
    outcome = Outcome()
    task = ChildTask(
        "calibration model",
        job,
        progress=outcome.progress.append,
        done=outcome.done.append,
        failed=outcome.failed.append,
    )
    return task, outcome


def _poll_until(task, condition, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, (task.state, task.progress)
        task.poll()
        time.sleep(0.02)


def _job(recording, tmp_path, plan=None):
    default_plan, path = recording
    return CalibrationJob(
        path,
        plan or default_plan,
        "csp-lda",
        "calibration-P020",
        tmp_path / "run",
        tmp_path / "registry",
    )


def _leftovers(tmp_path):
    return sorted(path.name for path in tmp_path.iterdir() if "staging" in path.name)


@pytest.mark.slow
def test_a_training_runs_in_a_lower_priority_child_and_lands_once_complete(recording, tmp_path):
    task, outcome = _start(_job(recording, tmp_path))
    assert task.running and task.process.pid != os.getpid()
    assert task.staging.parent == tmp_path and task.staging.name.startswith(".run.staging-")
    _poll_until(task, lambda: outcome.progress)
    assert (
        os.getpriority(os.PRIO_PROCESS, task.process.pid)
        == os.getpriority(os.PRIO_PROCESS, 0) + NICENESS
    )
    assert not (tmp_path / "run").exists() and not (tmp_path / "registry").exists()
    _poll_until(task, lambda: not task.running)
    assert task.state is State.DONE and not outcome.failed
    [result] = outcome.done
    assert isinstance(result, CalibrationResult) and result is task.result
    assert result.record.ref == "calibration-P020:1" and result.n_trials == 16
    assert 0.0 <= result.accuracy <= 1.0 and result.chance == 0.5 and not result.adapts_online
    assert result.folder == tmp_path / "run" and (result.folder / "card.json").is_file()
    assert ModelRegistry(tmp_path / "registry").records() == [result.record]
    assert outcome.progress[0] == "reading the data"
    assert any(text.startswith("cross-validation: fit ") for text in outcome.progress)
    assert outcome.progress[-1] == "exporting to ONNX (parity check)"
    assert _leftovers(tmp_path) == [] and not task.process.is_alive()


def test_a_child_that_dies_is_reported_and_leaves_nothing(recording, tmp_path):
    task, outcome = _start(_job(recording, tmp_path))
    _poll_until(task, lambda: outcome.progress)
    os.kill(task.process.pid, signal.SIGKILL)  # as the kernel does when memory runs out
    _poll_until(task, lambda: not task.running)
    assert task.state is State.FAILED and not outcome.done
    [error] = outcome.failed
    assert isinstance(error, ChildFailed)
    assert str(error) == "the calibration model process was killed by SIGKILL (out of memory?)"
    assert _leftovers(tmp_path) == [] and not (tmp_path / "run").exists()
    assert not (tmp_path / "registry").exists()


def test_a_cancelled_training_stops_at_once_and_leaves_nothing(recording, tmp_path):
    task, outcome = _start(_job(recording, tmp_path))
    _poll_until(task, lambda: outcome.progress)
    task.cancel()
    assert task.state is State.CANCELLED and not task.process.is_alive()
    assert _leftovers(tmp_path) == []
    time.sleep(0.5)
    task.poll()
    assert not outcome.done and not outcome.failed and len(outcome.progress) >= 1
    assert not (tmp_path / "run").exists() and not (tmp_path / "registry").exists()


def test_the_error_of_a_job_comes_back_as_its_message(recording, tmp_path):
    other = CalibrationPlan(classes=("feet", "tongue"), trials_per_class=8)
    task, outcome = _start(_job(recording, tmp_path, plan=other))
    _poll_until(task, lambda: not task.running)
    [error] = outcome.failed
    assert "no events named" in str(error) and not outcome.done
    assert _leftovers(tmp_path) == [] and not (tmp_path / "run").exists()


def test_a_child_whose_parent_dies_ends_and_removes_its_staging(recording, tmp_path):
    job = _job(recording, tmp_path)
    script = (
        "import os, pickle, sys, time\n"
        "from bci_app.session.child import ChildTask\n"
        "job = pickle.loads(bytes.fromhex(sys.argv[1]))\n"
        "task = ChildTask('orphan', job, progress=print, done=print, failed=print)\n"
        "print(task.process.pid, task.staging, flush=True)\n"
        "time.sleep(1.0)\n"
        "os._exit(0)  # dies without stopping its child\n"
    )
    parent = subprocess.run(
        [sys.executable, "-c", script, pickle.dumps(job).hex()],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    pid, staging = parent.stdout.split()[:2]
    deadline = time.monotonic() + 60.0  # it checks its parent every second, once started
    while _alive(int(pid)):
        assert time.monotonic() < deadline, "the orphaned child still runs"
        time.sleep(0.1)
    assert not Path(staging).exists() and _leftovers(tmp_path) == []
    assert not (tmp_path / "registry").exists()


def _alive(pid):
    """Return True while ``pid`` runs (a zombie no parent reaps counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
