"""Online adaptation: feedback trials update the Q-network within a trust region; rollback."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from decoders import registry
from decoders.models.rl.rleegnet import RLEEGNet


def clone(decoder: RLEEGNet, **options) -> RLEEGNet:
    """Return the fitted decoder's weights under (possibly other) adaptation settings."""
    state = {key: value.clone() for key, value in decoder.module_.state_dict().items()}
    copy = registry.create("rleegnet", **{**decoder.config(), **options})
    return copy.restore(decoder.input_spec_, decoder.output_spec_, state)


def weights(decoder: RLEEGNet) -> dict:
    return {key: value.clone() for key, value in decoder.module_.state_dict().items()}


def same(first: dict, second: dict) -> bool:
    return all(torch.equal(first[key], second[key]) for key in first)


@pytest.fixture
def shifted(make_trials):
    """Trials of a later session: every channel at half the amplitude (e.g. new electrodes)."""

    def make(n, seed):
        trials = make_trials(n, seed)
        return replace(trials, data=trials.data * 0.5)

    return make


def accuracy(decoder, trials):
    return float(np.mean(decoder.predict_proba(trials.data).argmax(1) == trials.labels))


def test_feedback_recovers_a_shifted_session_within_the_bound(fitted_rleegnet, shifted):
    decoder = clone(fitted_rleegnet, max_drift=0.3)
    held_out, feedback = shifted(100, 50), shifted(16, 51)
    before = accuracy(decoder, held_out)
    filters = decoder.module_.front.filters.clone()
    reports = [
        decoder.partial_fit(feedback.data[i : i + 8], feedback.labels[i : i + 8]) for i in (0, 8)
    ]
    after = accuracy(decoder, held_out)
    assert before < 0.7 and after > 0.85  # seen: 0.50 -> 1.00
    assert reports[0].n_trials == 8 and reports[0].accuracy_before == pytest.approx(
        before, abs=0.25
    )
    assert all(not r.clipped and not r.refused and r.drift <= 0.3 for r in reports)
    assert decoder.drift() == pytest.approx(reports[-1].drift)
    assert torch.equal(decoder.module_.front.filters, filters)  # CSP stays frozen
    assert decoder.adaptation_depth == 2


def test_an_update_beyond_the_bound_is_clipped_onto_it(fitted_rleegnet, shifted):
    decoder = clone(fitted_rleegnet, max_drift=0.002)
    feedback = shifted(8, 52)
    report = decoder.partial_fit(feedback.data, feedback.labels)
    assert report.clipped and report.proposed_drift > 0.002
    assert report.drift == pytest.approx(0.002, rel=1e-3) == decoder.drift()


def test_an_update_beyond_the_bound_is_refused_under_the_refuse_policy(fitted_rleegnet, shifted):
    decoder = clone(fitted_rleegnet, max_drift=0.002, drift_policy="refuse")
    before = weights(decoder)
    feedback = shifted(8, 53)
    report = decoder.partial_fit(feedback.data, feedback.labels)
    assert report.refused and not report.clipped and report.drift == 0.0
    assert same(weights(decoder), before) and decoder.adaptation_depth == 0


def test_rollback_restores_earlier_weights_exactly(fitted_rleegnet, shifted):
    decoder = clone(fitted_rleegnet, max_drift=0.3)
    original = weights(decoder)
    feedback = shifted(16, 54)
    decoder.partial_fit(feedback.data[:8], feedback.labels[:8])
    first = weights(decoder)
    decoder.partial_fit(feedback.data[8:], feedback.labels[8:])
    assert not same(weights(decoder), first)
    decoder.rollback()
    assert same(weights(decoder), first)
    with pytest.raises(ValueError, match=r"cannot roll back 2 update\(s\): 1 can be undone"):
        decoder.rollback(2)
    decoder.rollback()
    assert same(weights(decoder), original) and decoder.drift() == 0.0
    snapshot = decoder.snapshot()
    assert snapshot is not decoder and same(weights(snapshot), original)
