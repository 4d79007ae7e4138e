import numpy as np
import pytest

from bci_app.session.calibration import CalibrationPlan
from bci_app.session.simulated import simulated_participant, start_time, trials_of

PLAN = CalibrationPlan(
    trials_per_class=3,
    fixation_s=0.5,
    cue_s=0.5,
    imagery_s=1.0,
    rest_s=(0.5, 1.0),
    tmin=0.2,
    tmax=1.5,
)


@pytest.fixture(scope="module")
def participant():
    return simulated_participant(PLAN, extra_s=5.0, feedback_trials=2, channels=8, sfreq=100.0)


def test_the_participant_imagines_what_the_cues_show(participant):
    raw = participant.raw
    assert raw.info["sfreq"] == 100.0 and len(raw.ch_names) == 8
    trials = participant.trials
    assert len(trials) >= PLAN.n_trials + 2
    cues = [
        (a["onset"], a["description"]) for a in raw.annotations if a["description"] in PLAN.classes
    ]
    for trial, (onset, label) in zip(trials, cues, strict=False):
        assert trial.cue == pytest.approx(onset) and trial.label == label
        assert trial.fixation == pytest.approx(onset - PLAN.fixation_s)
        assert trial.rest == pytest.approx(onset + PLAN.task_s)
        assert PLAN.rest_s[0] - 1e-6 <= trial.end - trial.rest <= PLAN.rest_s[1] + 1e-6
    assert [t.index for t in trials] == list(range(len(trials)))
    assert "SNR" in participant.description
    assert trials_of(raw, PLAN) == trials


def test_the_start_time_is_found_from_any_received_sample(participant):
    data = participant.raw.get_data().astype(np.float32)
    assert start_time(participant.raw, data[:, 250], 1000.0) == pytest.approx(997.5)
    with pytest.raises(ValueError, match="occurs 0 times"):
        start_time(participant.raw, data[:, 250] + 1.0, 1000.0)
    with pytest.raises(ValueError, match="one sample of 8 channels"):
        start_time(participant.raw, data[:3, 250], 1000.0)


def test_only_imaginable_classes_are_simulated():
    with pytest.raises(ValueError, match="not \\['blink'\\]"):
        simulated_participant(CalibrationPlan(classes=("left_hand", "blink")))
