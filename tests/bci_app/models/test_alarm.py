"""The k-of-n alarm with a refractory period, as the live path and the evaluation run it."""

import numpy as np
import pytest

from bci_app.models.alarm import AlarmPolicy, AlarmState, alarm_times

PROBABILITIES = [0.6, 0.2, 0.7, 0.9, 0.8, 0.1, 0.9, 0.9]  # positive: T F T T T F T T
TIMES = np.arange(8.0)


def test_an_alarm_needs_k_of_the_last_n_windows_and_waits_out_its_refractory_period():
    long_refractory = AlarmPolicy(k=2, n=3, threshold=0.5, refractory_s=10.0)
    short_refractory = AlarmPolicy(k=2, n=3, threshold=0.5, refractory_s=3.0)

    assert alarm_times(PROBABILITIES, TIMES, long_refractory).tolist() == [2.0]
    # t=5: windows 3, 4 positive, 5 not: 2 of 3, and 5 s is past 2 + 3 s
    assert alarm_times(PROBABILITIES, TIMES, short_refractory).tolist() == [2.0, 5.0]


def test_a_gap_in_the_stream_starts_the_count_again():
    policy = AlarmPolicy(k=2, n=3, threshold=0.5, refractory_s=10.0)
    gaps = [False, False, True, False, False, False, False, False]

    assert alarm_times(PROBABILITIES, TIMES, policy, gaps=gaps).tolist() == [3.0]


def test_the_status_says_whether_the_alarm_is_on_and_since_when():
    state = AlarmState(AlarmPolicy(k=1, n=1, threshold=0.5, refractory_s=5.0))

    first = state.update(0.9, 100.0)
    during = state.update(0.1, 104.0)
    after = state.update(0.1, 105.0)

    assert first.raised and first.active and first.raised_at == 100.0 and first.positives == 1
    assert during.active and not during.raised and during.positives == 0
    assert not after.active and after.raised_at == 100.0


def test_the_policy_travels_in_a_card_and_is_checked():
    policy = AlarmPolicy(k=3, n=4, threshold=0.7, refractory_s=60.0, sph_s=10.0, sop_s=50.0)
    card = {"extra": {"forecasting": {"alarm": policy.to_dict()}}}

    assert AlarmPolicy.from_card(card) == policy
    assert AlarmPolicy.from_card({"extra": {}}) is None
    with pytest.raises(ValueError, match="k of n needs 1 <= k <= n"):
        AlarmPolicy(k=5, n=4)
    with pytest.raises(ValueError, match="threshold must be within"):
        AlarmPolicy(threshold=1.5)
