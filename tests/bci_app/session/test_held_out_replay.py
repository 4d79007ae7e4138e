"""Train on the start of a recording, decode the rest live over LSL, compare with offline."""

import pytest

from bci_app.session.held_out_replay import replay_held_out


@pytest.mark.lsl
def test_live_decisions_on_the_held_out_part_equal_offline_ones(tmp_path, make_trials):
    raw = make_trials(24).to_raw()

    outcome = replay_held_out(
        raw, "csp-lda", ("rest", "move"), tmp_path, window=(0.0, 1.0), train_share=0.75
    )

    assert outcome.n_train >= 17
    assert outcome.n_live == 6
    assert outcome.agreement == 1.0
    assert outcome.live_accuracy == outcome.offline_accuracy > 0.5
    assert outcome.max_probability_difference < 1e-4
    assert outcome.summary["counts"]["published"] == outcome.n_live
    assert set(outcome.summary["latency_ms"]) >= {"acquisition", "inference", "e2e"}


def test_a_training_share_outside_zero_and_one_is_refused(tmp_path, make_trials):
    with pytest.raises(ValueError, match="train_share"):
        replay_held_out(
            make_trials(4).to_raw(), "csp-lda", ("rest", "move"), tmp_path, train_share=1.0
        )
