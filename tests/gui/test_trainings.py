"""Trainings in a child process seen from the desktop: progress shown, death reported, closing."""

import os
import signal

import pytest

from bci_app.models.registry import ModelRegistry
from bci_app.session.training import CalibrationJob

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def empty_registry(window, tmp_path):
    """Point the window at an empty registry and return its folder."""
    window.settings.set("paths/registry", str(tmp_path / "registry"))
    window.decoder.refresh_models()
    return tmp_path / "registry"


def _train(window, recording, tmp_path, registry):
    plan, path = recording
    job = CalibrationJob(path, plan, "csp-lda", "calibration-P030", tmp_path / "run", registry)
    done, failed = [], []
    task = window.controller.train("calibration model", job, done=done.append, failed=failed.append)
    return task, done, failed


def _leftovers(tmp_path):
    return [path.name for path in tmp_path.iterdir() if "staging" in path.name]


@pytest.mark.slow
def test_the_decoder_panel_shows_the_training_then_its_model(
    window, qtbot, short_calibration, tmp_path, empty_registry
):
    panel = window.decoder
    assert "No model in the registry" in panel.card_view.toPlainText()
    _task, done, failed = _train(window, short_calibration, tmp_path, empty_registry)
    qtbot.waitUntil(lambda: "cross-validation: fit" in panel.trainings.text(), timeout=60_000)
    assert panel.trainings.isVisible()
    assert panel.trainings.text().startswith("training calibration model: ")
    text = panel.card_view.toPlainText()
    assert text.startswith("training calibration model: ") and "No model" not in text
    qtbot.waitUntil(lambda: bool(done or failed), timeout=120_000)
    assert not failed and done[0].record.ref == "calibration-P030:1"
    qtbot.waitUntil(lambda: panel.model_box.count() == 1, timeout=5_000)
    assert panel.model_box.currentData() == "calibration-P030:1"
    assert not panel.trainings.isVisible() and window.controller.trainings == []


def test_a_training_process_that_dies_is_reported_and_the_desktop_stays(
    window, qtbot, short_calibration, tmp_path, empty_registry
):
    task, done, failed = _train(window, short_calibration, tmp_path, empty_registry)
    qtbot.waitUntil(lambda: task.progress != "starting", timeout=60_000)
    os.kill(task.process.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(failed), timeout=10_000)
    assert "killed by SIGKILL (out of memory?)" in str(failed[0]) and not done
    assert any("killed by SIGKILL" in m for m in window.log.messages("error"))
    qtbot.waitUntil(lambda: not window.decoder.trainings.isVisible(), timeout=5_000)
    assert window.isVisible() and _leftovers(tmp_path) == []
    assert ModelRegistry(empty_registry).records() == []


def test_closing_the_window_stops_a_training_and_registers_nothing(
    window, qtbot, short_calibration, tmp_path, empty_registry
):
    task, done, failed = _train(window, short_calibration, tmp_path, empty_registry)
    qtbot.waitUntil(lambda: task.progress != "starting", timeout=60_000)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert not task.process.is_alive() and not done and not failed
    assert _leftovers(tmp_path) == [] and not (tmp_path / "run").exists()
    assert not empty_registry.exists() or ModelRegistry(empty_registry).records() == []
