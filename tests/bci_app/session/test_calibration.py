import itertools
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from bci_app.session.calibration import (
    END_MARKER,
    CalibrationPlan,
    CueRunner,
    Phase,
    build_schedule,
)


def test_the_schedule_is_randomized_in_balanced_blocks_with_the_plans_timing():
    plan = CalibrationPlan(classes=("left_hand", "right_hand", "feet"), trials_per_class=6)
    trials = build_schedule(plan)
    assert len(trials) == 18
    labels = [t.label for t in trials]
    for block in range(6):
        assert sorted(labels[3 * block : 3 * block + 3]) == sorted(plan.classes)
    assert labels != [t.label for t in build_schedule(replace(plan, seed=1))]
    assert trials[0].fixation == plan.lead_s
    for before, after in itertools.pairwise(trials):
        assert after.fixation == pytest.approx(before.end)
    for trial in trials:
        assert trial.cue - trial.fixation == pytest.approx(plan.fixation_s)
        assert trial.imagery - trial.cue == pytest.approx(plan.cue_s)
        assert trial.rest - trial.cue == pytest.approx(plan.task_s)
        assert plan.rest_s[0] <= trial.end - trial.rest <= plan.rest_s[1]
    assert [t.label for t in build_schedule(plan)] == labels  # seeded


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"classes": ("a",)}, "two distinct classes"),
        ({"classes": ("a", "a")}, "two distinct classes"),
        ({"classes": ("a", "rest")}, "cannot be empty or one of"),
        ({"trials_per_class": 0}, "trials_per_class"),
        ({"cue_s": 0.0}, "more than 0 s"),
        ({"rest_s": (2.0, 1.0)}, "rest range"),
        ({"tmax": 10.0}, "training window"),
    ],
)
def test_impossible_plans_say_why(changes, problem):
    with pytest.raises(ValueError, match=problem):
        CalibrationPlan(**changes)


def test_the_runner_hands_out_each_phase_once_at_its_time_with_its_marker():
    plan = CalibrationPlan(trials_per_class=2, rest_s=(1.0, 1.0))
    trials = build_schedule(plan)
    runner = CueRunner(trials, start=100.0)
    assert runner.state(100.5).phase is Phase.WAITING and runner.due(100.5) == []
    first = trials[0]
    events = runner.due(100.0 + first.cue + 0.01)
    assert [(e.phase, e.marker) for e in events] == [
        (Phase.FIXATION, "fixation"),
        (Phase.CUE, first.label),
    ]
    assert events[1].time == pytest.approx(100.0 + first.cue)
    assert runner.due(100.0 + first.cue + 0.02) == []
    state = runner.state(100.0 + first.imagery + 0.5)
    assert state.phase is Phase.IMAGERY and state.trial == first
    assert state.elapsed == pytest.approx(0.5) and state.completed == 0
    assert runner.state(100.0 + first.rest + 0.1).phase is Phase.REST
    rest = runner.due(runner.end + 1)
    markers = Counter(e.marker for e in events + rest)
    assert markers["fixation"] == markers["imagery"] == markers["rest"] == 4
    assert rest[-1].marker == END_MARKER and rest[-1].phase is Phase.DONE
    assert runner.finished(runner.end) and runner.state(runner.end + 1).completed == 4
    times = [e.time for e in events + rest]
    assert np.all(np.diff(times) >= 0)


def test_a_runner_needs_trials():
    with pytest.raises(ValueError, match="at least one trial"):
        CueRunner([], 0.0)
