"""RLEEGNet under the contract: honest evaluation (no CSP leakage), selection, bad input."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from decoders import registry
from decoders.card import DecoderCard
from decoders.checkpoint import load_decoder, save_decoder
from decoders.datasets.errors import DataError
from decoders.datasets.trials import OfficialSplit
from decoders.evaluation.harness import evaluate
from decoders.evaluation.protocols import OfficialProtocol
from decoders.models.rl.csp_space import CspSpace


@pytest.fixture
def fitted(fitted_rleegnet):
    return fitted_rleegnet


@pytest.fixture
def power_trials(make_trials):
    return make_trials


def test_csp_is_fitted_on_the_training_trials_alone(fitted, power_trials, fast):
    train = power_trials(96)
    reference = CspSpace(4, 2)
    reference.fit(train.data, train.labels, 2, fast["n_components"])
    assert torch.equal(fitted.module_.front.filters, reference.filters)
    other_valid = registry.create("rleegnet", seed=0, **{**fast, "episodes": 1})
    other_valid.fit(train, power_trials(24, seed=7, gain=1.0))  # validation of another kind
    assert torch.equal(other_valid.module_.front.filters, fitted.module_.front.filters)


def test_the_kept_q_network_is_the_best_one_on_validation(fitted, power_trials):
    history = fitted.history_
    scores = [(e["valid_accuracy"], -e["valid_loss"]) for e in history.epochs]
    assert history.best_epoch == int(np.argmax([s[0] * 1e6 + s[1] for s in scores]))
    valid = power_trials(24, 1)
    kept = np.mean(fitted.predict_proba(valid.data).argmax(1) == valid.labels)
    assert kept == pytest.approx(history.epochs[history.best_epoch]["valid_accuracy"])
    assert {"epsilon", "mean_reward", "train_loss"} <= set(history.epochs[0])


@pytest.mark.slow
def test_shuffled_training_labels_give_chance_on_the_official_test_split(power_trials, fast):
    split = OfficialSplit(power_trials(120, 0, "toy/train"), power_trials(100, 100, "toy/test"))

    def make(seed):
        return registry.create("rleegnet", seed=seed, **fast)

    honest = evaluate(make, split, OfficialProtocol(), (0,), decoder_name="rleegnet")
    assert honest.metrics["accuracy"].mean > 0.9  # the task is easy: the test can fail
    rng = np.random.default_rng(0)
    shuffled = replace(split.train, labels=rng.permutation(split.train.labels))
    record = evaluate(
        make, OfficialSplit(shuffled, split.test), OfficialProtocol(), (0, 1, 2),
        decoder_name="rleegnet",
    )  # fmt: skip
    # 100 test trials, 3 seeds: chance is 0.5 with a standard error of about 0.03
    assert 0.38 < record.metrics["accuracy"].mean < 0.62


def test_checkpoint_round_trip(fitted, power_trials, tmp_path):
    save_decoder(fitted, DecoderCard.for_decoder(fitted), tmp_path)
    loaded, card = load_decoder(tmp_path)
    assert card.decoder == "rleegnet" and card.config["n_components"] == 2
    test = power_trials(20, 9).data
    assert np.allclose(loaded.predict_proba(test), fitted.predict_proba(test), atol=1e-6)


def test_bad_input_is_refused_clearly(fitted, power_trials):
    longer = np.zeros((2, 4, 80))  # windows longer than the trials it was trained on
    with pytest.raises(DataError, match=r"windows must be \(n, 4, 64\), got \(2, 4, 80\)"):
        fitted.predict_proba(longer)
    with pytest.raises(DataError, match=r"feedback trials: must be \(n >= 1, 4, 64\)"):
        fitted.partial_fit(longer, [0, 1])
    trials = power_trials(2, 3).data
    with pytest.raises(DataError, match="2 trials but 1 labels"):
        fitted.partial_fit(trials, [0])
    with pytest.raises(DataError, match="unknown class 'jump'"):
        fitted.partial_fit(trials, ["rest", "jump"])
    with pytest.raises(DataError, match=r"label 2 outside 0\.\.1"):
        fitted.partial_fit(trials, [0, 2])
    with pytest.raises(DataError, match="NaN or Inf"):
        fitted.partial_fit(np.where(trials > 0, np.nan, trials), [0, 1])
    with pytest.raises(ValueError, match="no online update was made"):
        registry.create("rleegnet").rollback()
    with pytest.raises(RuntimeError, match="not fitted"):
        registry.create("rleegnet").partial_fit(trials, [0, 1])
    assert fitted.adaptation_depth == 0  # nothing above changed the decoder
    with pytest.raises(ValueError, match="unknown drift policy"):
        registry.create("rleegnet", drift_policy="ignore")
