"""Per-seizure scoring of alarms against a hand-computed case, and the random predictor."""

import numpy as np
import pytest

from bci_app.models.alarm import AlarmPolicy
from decoders.datasets.seizures import Seizure
from decoders.evaluation.forecasting import (
    ForecastOutcome,
    Monitoring,
    compare_with_chance,
    poisson_binomial,
    random_alarms,
    score_alarms,
)

POLICY = AlarmPolicy(k=1, n=1, refractory_s=70.0, sph_s=10.0, sop_s=60.0)
SEIZURES = [Seizure(200.0, 220.0), Seizure(600.0, 630.0)]
SPANS = [(0.0, 200.0), (260.0, 600.0)]


def test_alarms_are_scored_per_seizure_as_computed_by_hand():
    # 100: announces 110-170, no onset there -> false
    # 150: announces 160-210, seizure at 200 -> true (lead 50 s)
    # 205: during the first seizure -> ignored
    # 545 and 585: both announce the seizure at 600 -> true (lead from the earliest: 55 s)
    outcome = score_alarms(
        [100.0, 150.0, 205.0, 545.0, 585.0], SEIZURES, SPANS, POLICY, postictal_s=30.0
    )

    assert (outcome.n_seizures, outcome.predicted) == (2, 2)
    assert outcome.lead_times_s == (50.0, 55.0)
    assert (outcome.alarms, outcome.false_alarms) == (4, 1)
    assert outcome.monitored_s == 540.0
    # interictal: 540 s minus [130, 250] and [530, 660] within the spans (70 s each)
    assert outcome.interictal_s == 400.0
    assert outcome.false_alarms_per_hour == pytest.approx(9.0)
    # warnings [110, 220] and [555, 655]: 110 + 100 s of 540
    assert outcome.warning_s == 210.0
    assert outcome.time_in_warning == pytest.approx(210.0 / 540.0)
    assert outcome.sensitivity == 1.0


def test_a_late_alarm_inside_the_horizon_is_false_and_the_seizure_missed():
    outcome = score_alarms([195.0], SEIZURES[:1], SPANS[:1], POLICY)

    assert (outcome.predicted, outcome.false_alarms) == (0, 1)
    assert outcome.sensitivity == 0.0


def test_outcomes_pool_by_adding_counts_and_times():
    a = score_alarms([150.0], SEIZURES[:1], SPANS[:1], POLICY)
    b = score_alarms([], SEIZURES[1:], SPANS[1:], POLICY)

    pooled = ForecastOutcome.pooled([a, b])

    assert (pooled.n_seizures, pooled.predicted, pooled.monitored_s) == (2, 1, 540.0)
    assert ForecastOutcome.from_dict(pooled.to_dict()) == pooled


def test_a_random_predictor_spends_the_asked_time_in_warning_and_predicts_that_share():
    rng = np.random.default_rng(0)
    policy = AlarmPolicy(k=1, n=1, refractory_s=1200.0, sph_s=300.0, sop_s=900.0)
    spans = [(0.0, 400_000.0)]

    alarms = random_alarms(rng, spans, policy, time_in_warning=0.2)

    assert len(alarms) * policy.sop_s / spans[0][1] == pytest.approx(0.2, rel=0.1)
    assert np.all(np.diff(alarms) >= policy.refractory_s)
    onsets = [Seizure(5400.0 * (i + 1), 5400.0 * (i + 1) + 60.0) for i in range(60)]
    monitoring = Monitoring(
        tuple((s.onset_s - 5400.0, s.onset_s) for s in onsets), tuple(onsets), 0.2
    )
    chance = compare_with_chance([monitoring], observed=30, policy=policy, draws=300, seed=1)
    assert chance.chance_sensitivity == pytest.approx(0.2, abs=0.03)
    assert chance.p_value < 0.01 and chance.p_value_analytic < 1e-4


def test_the_chance_tail_is_the_binomial_law_for_equal_probabilities():
    distribution = poisson_binomial([0.25] * 4)

    assert distribution.sum() == pytest.approx(1.0)
    assert distribution[4] == pytest.approx(0.25**4)
    assert distribution[0] == pytest.approx(0.75**4)
    assert distribution[2:].sum() == pytest.approx(1 - 0.75**4 - 4 * 0.25 * 0.75**3)
