import numpy as np
import pytest

from decoders.simulators.paradigm import CueTiming, schedule_duration, schedule_labels


def test_schedule_of_labels_runs_them_in_order_with_fixation_cue_and_rest():
    timing = CueTiming()
    labels = np.array([2, 0, 1, 1])
    schedule = schedule_labels(np.random.default_rng(0), labels, timing)
    assert np.array_equal(schedule.labels, labels)
    assert schedule.cue_onsets[0] == pytest.approx(timing.lead_s + timing.fixation_s)
    gaps = np.diff(schedule.cue_onsets)
    assert np.allclose(gaps, timing.fixation_s + timing.task_s + schedule.rest_durations[:-1])
    assert ((schedule.rest_durations >= 1.5) & (schedule.rest_durations <= 2.5)).all()
    end_of_last_rest = schedule.cue_onsets[-1] + timing.task_s + schedule.rest_durations[-1]
    assert end_of_last_rest < schedule.duration_s


def test_schedule_of_duration_fits_and_is_balanced():
    timing = CueTiming()
    schedule = schedule_duration(np.random.default_rng(3), 3, timing, 100.0)
    assert schedule.duration_s == 100.0
    end_of_last_rest = schedule.cue_onsets[-1] + timing.task_s + schedule.rest_durations[-1]
    assert end_of_last_rest <= 100.0
    assert 100.0 - end_of_last_rest < timing.fixation_s + timing.task_s + timing.rest_s[1]
    counts = np.bincount(schedule.labels, minlength=3)
    assert counts.max() - counts.min() <= 1


def test_too_short_a_recording_holds_no_trial():
    schedule = schedule_duration(np.random.default_rng(0), 3, CueTiming(), 5.0)
    assert schedule.n_trials == 0
    assert len(schedule.annotations(("a", "b", "c"))) == 0


def test_annotations_mark_fixation_cue_and_rest():
    timing = CueTiming()
    schedule = schedule_labels(np.random.default_rng(0), np.array([1, 0]), timing)
    annotations = schedule.annotations(("left_hand", "right_hand"))
    assert list(annotations.description) == [
        "fixation", "right_hand", "rest", "fixation", "left_hand", "rest",
    ]  # fmt: skip
    cue = schedule.cue_onsets[0]
    assert annotations.onset[:3] == pytest.approx([cue - 2.0, cue, cue + 4.0])
    assert annotations.duration[:3] == pytest.approx([2.0, 4.0, schedule.rest_durations[0]])
