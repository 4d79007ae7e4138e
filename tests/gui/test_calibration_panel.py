import pytest

from bci_app.session.calibration import Phase

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(300)]


def _configure(panel, *, trials=8, feedback=2, decoder="csp-lda"):
    panel.classes.setText("left_hand, right_hand")
    panel.trials.setValue(trials)
    panel.fixation.setValue(0.3)
    panel.cue.setValue(0.3)
    panel.imagery.setValue(0.9)
    panel.rest_min.setValue(0.3)
    panel.rest_max.setValue(0.3)
    panel.tmin.setValue(0.2)
    panel.tmax.setValue(1.2)
    panel.decoder.setCurrentText(decoder)
    panel.feedback_trials.setValue(feedback)
    panel.source.setCurrentIndex(0)  # the simulated participant


def test_a_calibration_needs_a_session_and_a_valid_plan(window):
    panel = window.calibration
    panel.start()
    assert panel.stage == "failed" and "start a session first" in panel.status.text()
    panel.trials.setValue(3)
    panel.start()
    assert "at least 8 trials per class" in panel.status.text()
    panel.tmax.setValue(30.0)
    with pytest.raises(ValueError, match="training window"):
        panel.read_plan()


@pytest.mark.slow
def test_a_short_calibration_trains_a_decoder_then_runs_feedback(window, qtbot, tmp_path):
    window.settings.set("paths/registry", str(tmp_path / "registry"))
    window.session.subject.setText("P002")
    assert window.session.start_session()
    panel = window.calibration
    _configure(panel)
    phases = set()
    panel.start()
    qtbot.waitUntil(lambda: panel.stage in ("calibration", "failed"), timeout=60_000)
    assert panel.stage == "calibration", (panel.stage, panel.status.text(), window.log.messages())
    assert window.controller.recording
    qtbot.waitUntil(
        lambda: phases.add(panel.display.phase) or panel.stage != "calibration", timeout=60_000
    )
    assert {Phase.FIXATION, Phase.CUE, Phase.IMAGERY, Phase.REST} <= phases
    qtbot.waitUntil(lambda: panel.stage in ("feedback", "failed", "done"), timeout=120_000)
    assert panel.stage == "feedback", panel.status.text()
    result = panel.result
    assert result.record.ref == "calibration-P002:1" and result.n_trials == 16
    assert 0.0 <= result.accuracy <= 1.0 and result.chance == 0.5
    assert (result.folder / "card.json").is_file()
    folder = window.controller.session.folder
    assert (folder / "rec-01.xdf").is_file()
    qtbot.waitUntil(lambda: panel.stage in ("done", "failed"), timeout=60_000)
    assert panel.stage == "done", panel.status.text()
    assert len(panel.score.decisions) == 2
    assert "feedback done" in panel.status.text() and "hits" in panel.status.text()
    assert "calibration-P002:1" in window.controller.session.info.models
