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


def test_the_score_decides_each_trial_on_its_mean_output():
    score = FeedbackScore(("left_hand", "right_hand"))
    score.add(np.array([0.9, 0.1]))  # between trials: ignored
    score.begin_trial()
    for outputs in ([0.6, 0.4], [0.3, 0.7], [0.2, 0.8]):
        score.add(np.array(outputs))
    assert score.end_trial("right_hand") == "right_hand"
    score.begin_trial()
    score.add(np.array([0.8, 0.2]))
    assert score.end_trial("right_hand") == "left_hand"
    score.begin_trial()
    assert score.end_trial("left_hand") is None  # no output during that trial
    assert score.hits == 1 and score.accuracy == 0.5
    assert math.isnan(FeedbackScore(("a", "b")).accuracy)
