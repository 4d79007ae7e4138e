"""A calibration run driven headless: real streams, recording, training and decoding, no Qt."""

import uuid

import numpy as np
import pylsl
import pytest

from bci_app.session.calibration import CalibrationPlan, Phase
from bci_app.session.calibration_run import (
    STREAMS_TIMEOUT_S,
    CalibrationRequest,
    CalibrationRun,
    Stage,
)
from bci_app.session.desk import Desk
from bci_app.session.metadata import SessionInfo

pytestmark = pytest.mark.timeout(300)

PLAN = CalibrationPlan(
    classes=("left_hand", "right_hand"),
    trials_per_class=8,
    fixation_s=0.3,
    cue_s=0.3,
    imagery_s=0.9,
    rest_s=(0.3, 0.3),
    tmin=0.2,
    tmax=1.2,
)
SHORT = CalibrationPlan(  # 16 trials in 20 s
    trials_per_class=8,
    fixation_s=0.2,
    cue_s=0.2,
    imagery_s=0.6,
    rest_s=(0.2, 0.2),
    lead_s=0.5,
    tmin=0.1,
    tmax=0.8,
)


class Recorder:
    """What a view of the run would draw: every stage change and every cue view."""

    def __init__(self):
        self.stages: list[Stage] = []
        self.texts: list[str] = []
        self.views = []

    def stage(self, stage, text):
        self.texts.append(text)
        if not self.stages or self.stages[-1] is not stage:
            self.stages.append(stage)

    def cues(self, view):
        self.views.append(view)


@pytest.fixture
def desk(tmp_path):
    desk = Desk(tmp_path / "registry")
    yield desk
    desk.close()


def _run(desk, clock=pylsl.local_clock):
    seen = Recorder()
    run = CalibrationRun(desk, clock, on_stage=seen.stage, on_cues=seen.cues)
    return run, seen


def _toy_stream(desk, sfreq=50.0, seconds=120.0):
    """Play four channels of noise at ``sfreq`` and return the stream's name once open."""
    import mne

    name = f"toy-{uuid.uuid4().hex[:8]}"
    data = np.random.default_rng(0).normal(0, 10e-6, (4, int(seconds * sfreq)))
    raw = mne.io.RawArray(data, mne.create_info(["C3", "C4", "Cz", "Pz"], sfreq, "eeg"))
    desk.play(lambda: raw, name, loop=True, source="toy", markers=False)
    return name


def _wait(desk, run, condition, timeout=30.0):
    desk.drive(run, condition, timeout=timeout)


def test_a_run_is_refused_without_a_session_or_with_too_few_trials(desk):
    run, seen = _run(desk)
    assert run.stage is Stage.IDLE and not run.stage.running
    assert not run.start(CalibrationRequest(PLAN))
    assert run.stage is Stage.FAILED and "start a session first" in run.status
    assert not run.start(CalibrationRequest(CalibrationPlan(trials_per_class=3)))
    assert "at least 8 trials per class" in run.status
    run.refuse("calibration plan: training window 0.5..30 s")
    assert run.stage is Stage.FAILED and "training window" in run.status
    assert seen.stages == [Stage.FAILED] and seen.views == []


@pytest.mark.slow
@pytest.mark.lsl
def test_a_whole_calibration_runs_headless_through_every_stage(desk, tmp_path):
    session = desk.new_session(SessionInfo("P003", "mi"), tmp_path / "session")
    run, seen = _run(desk)
    request = CalibrationRequest(PLAN, decoder="csp-lda", feedback_trials=2)
    assert run.start(request)
    assert not run.start(request)  # one run at a time
    _wait(desk, run, lambda: not run.stage.running, timeout=240)
    assert run.stage is Stage.DONE, run.status
    assert seen.stages == [
        Stage.PREPARING,
        Stage.STARTING,
        Stage.WAITING,
        Stage.CALIBRATION,
        Stage.SAVING,
        Stage.TRAINING,
        Stage.LOADING,
        Stage.FEEDBACK,
        Stage.DONE,
    ]
    training = [text for text in seen.texts if text.startswith("training csp-lda on ")]
    assert any("cross-validation: fit " in text for text in training)  # from the child
    assert training[-1].endswith("exporting to ONNX (parity check)")
    calibration = [v for v in seen.views if v.progress.startswith("calibration")]
    assert {Phase.FIXATION, Phase.CUE, Phase.IMAGERY, Phase.REST} <= {
        v.state.phase for v in calibration
    }
    assert all(v.feedback is None for v in calibration)
    assert calibration[-1].progress == "calibration: trial 16/16"
    feedback = [v for v in seen.views if v.progress.startswith("feedback")]
    shown = [v for v in feedback if v.feedback is not None]
    assert shown and {v.state.phase for v in shown} <= {Phase.CUE, Phase.IMAGERY}
    assert all(v.classes == PLAN.classes for v in feedback)
    np.testing.assert_allclose([v.feedback.sum() for v in shown], 1.0, atol=1e-6)
    assert seen.views[-1].state is None and seen.views[-1].caption.startswith("done: ")
    result = run.result
    assert result.record.ref == "calibration-P003:1" and result.n_trials == 16
    assert (result.folder / "card.json").is_file() and result.folder.parent == session.folder
    assert (session.folder / "rec-01.xdf").is_file() and not desk.recording
    assert "calibration-P003:1" in session.info.models
    assert len(run.score.decisions) == 2
    assert "feedback done" in run.status and "hits" in run.status
    assert list(desk.decoders) == [run.live.name]  # the feedback decoder keeps decoding


@pytest.mark.lsl
def test_a_stream_that_does_not_open_fails_the_run_at_its_timeout(desk, tmp_path):
    desk.new_session(SessionInfo("P004", "mi"), tmp_path / "session")
    now = [pylsl.local_clock()]
    run, seen = _run(desk, clock=lambda: now[0])
    assert run.start(CalibrationRequest(PLAN, stream="absent-stream"))
    _wait(desk, run, lambda: desk.inlet(run.cue_name) is not None)
    run.tick(now[0] + STREAMS_TIMEOUT_S - 1)
    assert run.stage is Stage.PREPARING
    run.tick(now[0] + STREAMS_TIMEOUT_S + 1)
    assert run.stage is Stage.FAILED and seen.stages == [Stage.PREPARING, Stage.FAILED]
    assert "'absent-stream' did not open within 30 s" in run.status
    assert not desk.recording


@pytest.mark.lsl
def test_a_simulated_participant_ahead_of_the_cues_fails_and_closes_the_recording(desk, tmp_path):
    session = desk.new_session(SessionInfo("P005", "mi"), tmp_path / "session")
    run, seen = _run(desk, clock=lambda: pylsl.local_clock() + 1000.0)  # the cues are late
    assert run.start(CalibrationRequest(PLAN))
    _wait(desk, run, lambda: not run.stage.running, timeout=120)
    assert seen.stages == [Stage.PREPARING, Stage.STARTING, Stage.WAITING, Stage.FAILED]
    assert "started before the cues could follow" in run.status
    _wait(desk, run, lambda: not desk.recording and not desk.tasks.running)
    assert (session.folder / "rec-01.xdf").is_file()  # what was recorded is kept


@pytest.mark.lsl
def test_an_abort_closes_the_recording_even_one_still_starting(desk, tmp_path):
    session = desk.new_session(SessionInfo("P006", "mi"), tmp_path / "session")
    stream = _toy_stream(desk)
    run, seen = _run(desk)
    _wait(desk, run, lambda: desk.inlet(stream) is not None)
    request = CalibrationRequest(SHORT, stream=stream)
    assert run.start(request)
    _wait(desk, run, lambda: run.stage is Stage.STARTING)
    run.abort()  # the recording starts after the abort: the late answer closes it
    assert run.stage is Stage.IDLE and run.status == "aborted"
    _wait(desk, run, lambda: len(session.results) == 1 and not desk.tasks.running)
    assert run.stage is Stage.IDLE and not desk.recording
    assert run.start(request)
    _wait(desk, run, lambda: any(v.state.phase is Phase.CUE for v in seen.views))
    run.abort()
    assert run.stage is Stage.IDLE and run.runner is None
    _wait(desk, run, lambda: len(session.results) == 2 and not desk.tasks.running)
    assert not desk.recording and session.results[-1].stop_reason == "stopped"
    assert seen.stages == [
        Stage.PREPARING,
        Stage.STARTING,
        Stage.IDLE,
        Stage.PREPARING,
        Stage.STARTING,
        Stage.WAITING,
        Stage.CALIBRATION,
        Stage.IDLE,
    ]


@pytest.mark.slow
@pytest.mark.lsl
def test_a_training_that_fails_fails_the_run_and_keeps_the_recording(desk, tmp_path):
    session = desk.new_session(SessionInfo("P007", "mi"), tmp_path / "session")
    stream = _toy_stream(desk, sfreq=50.0)  # too slow for the 8-30 Hz band of the decoder
    run, seen = _run(desk)
    _wait(desk, run, lambda: desk.inlet(stream) is not None)
    assert run.start(CalibrationRequest(SHORT, band=(8.0, 30.0), feedback_trials=2, stream=stream))
    _wait(desk, run, lambda: not run.stage.running, timeout=180)
    assert seen.stages[-3:] == [Stage.SAVING, Stage.TRAINING, Stage.FAILED]
    assert "filter edge 30.0 Hz outside (0, 25) Hz" in run.status
    assert run.result is None and not desk.decoders
    assert (session.folder / "rec-01.xdf").is_file()
    assert desk.registry.records() == []
