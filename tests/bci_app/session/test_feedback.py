import math

import numpy as np
import pytest

from bci_app.session.feedback import FeedbackScore, FeedbackSmoother


def test_smoothing_moves_towards_new_outputs_with_its_time_constant():
    smoother = FeedbackSmoother(("left_hand", "right_hand"), time_constant=1.0)
    np.testing.assert_allclose(smoother.value, [0.5, 0.5])
    smoother.update(np.array([0.0, 1.0]), 10.0)  # the first output is taken as it is
    assert smoother.position() == pytest.approx(1.0)
    smoother.update(np.array([1.0, 0.0]), 11.0)
    moved = 1 - math.exp(-1.0)
    assert smoother.value[0] == pytest.approx(moved)
    assert smoother.position() == pytest.approx(1 - 2 * moved)
    smoother.reset()
    assert smoother.position() == 0.0


def test_smoother_checks_its_inputs():
    with pytest.raises(ValueError, match="two classes"):
        FeedbackSmoother(("a",))
    smoother = FeedbackSmoother(("a", "b", "c"))
    with pytest.raises(ValueError, match="expected 3 class probabilities"):
        smoother.update(np.array([0.5, 0.5]), 0.0)
    with pytest.raises(ValueError, match="two classes only"):
        smoother.position()


def test_the_score_decides_each_trial_on_the_windows_of_its_span():
    score = FeedbackScore(("left_hand", "right_hand"))
    score.add(np.array([0.9, 0.1]), 1.0)  # no trial open: ignored
    score.begin_trial("right_hand", 10.0, 12.0)
    for stamp, outputs in (
        (9.9, [1.0, 0.0]),
        (10.0, [0.6, 0.4]),
        (11.0, [0.3, 0.7]),
        (12.0, [0.2, 0.8]),
    ):
        score.add(np.array(outputs), stamp)  # the window ending at 9.9 s is outside
    assert score.end_trial() == "right_hand"
    score.begin_trial("right_hand", 20.0, 22.0)
    score.add(np.array([0.8, 0.2]), 21.0)
    assert score.end_trial() == "left_hand"
    score.begin_trial("left_hand", 30.0, 32.0)
    score.add(np.array([0.8, 0.2]), 33.0)
    assert score.end_trial() is None  # no window within the span
    assert score.end_trial() is None  # nothing open
    assert score.hits == 1 and score.accuracy == 0.5
    assert math.isnan(FeedbackScore(("a", "b")).accuracy)
    with pytest.raises(ValueError, match="not an output"):
        score.begin_trial("feet", 0.0, 1.0)
