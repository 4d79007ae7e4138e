"""Online adaptation: strategies that undo a session change, bounds and rollback, and the
protocol when labels lag or stop."""

import copy

import numpy as np
import pytest

from decoders import registry
from decoders.adaptation.online import FeedbackGate, make_strategy, run_online
from decoders.adaptation.strategies import OnlineFineTuning, Recentering, Static
from decoders.datasets.errors import DataError
from decoders.models.braindecode_zoo.survey import survey_trials

GAINS = np.array([0.4, 0.4, 2.5, 2.5, 1.0, 1.0, 0.6, 1.8])[:, None]
"""A new session: every channel's gain changed (electrode impedances)."""


@pytest.fixture(scope="module")
def calibration():
    return survey_trials(90, 0, "calibration")


@pytest.fixture(scope="module")
def session():
    trials = survey_trials(90, 5, "session")
    return trials.data * GAINS, trials.labels


def _fitted(name, calibration, **options):
    from decoders.evaluation.protocols import validation_split

    return registry.create(name, **options).fit(*validation_split(calibration, 0.2, 0))


@pytest.fixture(scope="module")
def fitted(calibration):
    """Decoders fitted once on the calibration trials; each test adapts its own copy."""
    eegnet = registry.get("eegnet").tiny
    made = {
        "cov-ts-lr": _fitted("cov-ts-lr", calibration),
        "csp-lda": _fitted("csp-lda", calibration, n_components=4),
        "eegnet": _fitted("eegnet", calibration, **eegnet),
    }
    return lambda name: copy.deepcopy(made[name])


def test_recentering_undoes_a_change_of_channel_gains(fitted, session):
    static = run_online(Static(fitted("cov-ts-lr")), *session)
    adapted = run_online(Recentering(fitted("cov-ts-lr")), *session)
    assert adapted.final_accuracy() > static.final_accuracy() + 0.15
    assert adapted.updates == len(session[1]) and adapted.log == []


def test_the_adaptive_lda_bias_follows_the_session(fitted, calibration, session):
    static = run_online(Static(fitted("csp-lda")), *session)
    strategy = make_strategy(
        "adaptive-lda-bias", fitted("csp-lda"), calibration=calibration.data, rate=0.1
    )
    adapted = run_online(strategy, *session)
    assert adapted.mean_accuracy > static.mean_accuracy


def test_adaptation_without_drift_costs_nothing(fitted):
    same = survey_trials(90, 5, "same session")
    static = run_online(Static(fitted("cov-ts-lr")), same.data, same.labels)
    adapted = run_online(Recentering(fitted("cov-ts-lr")), same.data, same.labels)
    assert adapted.mean_accuracy >= static.mean_accuracy - 0.05


def test_drift_is_bounded_and_updates_roll_back(fitted, session):
    strategy = Recentering(fitted("cov-ts-lr"), max_drift=0.2, history=100)
    whitening = strategy.decoder.module_.whitening.clone()
    run = run_online(strategy, *session)
    assert max(run.drift) <= 0.2 + 1e-9 and run.clipped > 0
    strategy.rollback(len(session[1]))
    assert np.allclose(strategy.decoder.module_.whitening, whitening, atol=1e-5)

    tuner = OnlineFineTuning(fitted("eegnet"), max_drift=0.01, lr=1e-2)
    before = {k: v.clone() for k, v in tuner.decoder.module_.state_dict().items()}
    reports = [tuner.learn(trial, label) for trial, label in list(zip(*session, strict=True))[:10]]
    assert all(report.drift <= 0.01 + 1e-6 for report in reports)
    tuner.rollback(tuner.region.depth)
    after = tuner.decoder.module_.state_dict()
    assert all(np.allclose(before[k], after[k]) for k in before)


def test_labels_that_stop_pause_adaptation_while_decoding_goes_on(calibration, session):
    strategy = make_strategy(
        "fine-tuning", _fitted("eegnet", calibration, **registry.get("eegnet").tiny)
    )
    data, labels = session
    run = run_online(strategy, data[:40], labels[:40], labels_until=9, max_lag=3)
    assert len(run.correct) == 40  # every trial decided
    assert run.updates == 10  # one update per label that arrived
    assert run.log == [
        "no label for trial 10 within 3 trials: adaptation paused, decoding continues"
    ]


def test_lagging_labels_are_learnt_within_the_lag_and_dropped_beyond_it():
    messages = []
    gate = FeedbackGate(max_lag=2, log=messages.append)
    for index in range(4):
        gate.decided(index, np.full(1, index))
    assert gate.labelled(3)[0] == 3 and gate.labelled(2)[0] == 2
    assert gate.labelled(0) is None  # decided 3 trials before the newest: too late
    assert messages == [
        "no label for trial 0 within 2 trials: adaptation paused, decoding continues",
        "labels are back (trial 3): adaptation resumed",
        "label for trial 0 arrived after 2 trials: not learnt",
    ]


def test_strategies_refuse_decoders_they_do_not_fit(fitted):
    csp = fitted("csp-lda")
    with pytest.raises(DataError, match="does not learn from feedback"):
        make_strategy("rleegnet-feedback", csp)
    with pytest.raises(DataError, match="plain tangent-space pipeline"):
        make_strategy("recentering", csp)
    with pytest.raises(DataError, match="starts from the calibration trials"):
        make_strategy("adaptive-lda-bias", csp)
    with pytest.raises(DataError, match="unknown strategy"):
        make_strategy("magic", csp)
