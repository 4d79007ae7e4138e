"""``auto`` selects by inner cross-validation on the training part only, records the selection,
skips candidates that cannot train, and exports and reloads as its winner."""

import numpy as np
import pytest

from decoders import registry
from decoders.card import DecoderCard
from decoders.checkpoint import load_decoder, save_decoder
from decoders.datasets.errors import DataError
from decoders.datasets.trials import OfficialSplit
from decoders.evaluation.harness import evaluate
from decoders.evaluation.protocols import make_protocol
from decoders.export.onnx_export import export_decoder
from decoders.models.braindecode_zoo.survey import survey_trials

CANDIDATES = ["csp-lda", "not-registered", "cov-ts-lr", "rleegnet"]
OPTIONS = {"csp-lda": {"n_components": 2}, "rleegnet": {"no_such_option": 1}}


def _auto(candidates=CANDIDATES, **options):
    return registry.create(
        "auto", candidates=candidates, candidate_options=OPTIONS, folds=3, **options
    )


def test_the_selection_sees_only_training_trials_and_skips_what_cannot_train(monkeypatch):
    train, valid = survey_trials(45, 0, "toy/train"), survey_trials(15, 1, "toy/valid")
    seen = []
    original = registry.get("csp-lda").load_class().fit

    def spy(self, fit, inner_valid, **kwargs):
        seen.append(fit.data)
        seen.append(inner_valid.data)
        return original(self, fit, inner_valid, **kwargs)

    monkeypatch.setattr(registry.get("csp-lda").load_class(), "fit", spy)
    decoder = _auto().fit(train, valid)

    pool = np.concatenate([train.data, valid.data])
    for data in seen:  # every inner fit used trials of the training part, nothing else
        assert all(any(np.array_equal(trial, known) for known in pool) for trial in data)
    selection = decoder.card_extra()["selection"]
    assert selection["inner_folds"] == 3 and selection["trials"] == 60
    assert set(selection["scores"]) == {"csp-lda", "cov-ts-lr"}
    assert selection["skipped"]["not-registered"].startswith("KeyError")
    assert "no_such_option" in selection["skipped"]["rleegnet"]
    best = max(selection["scores"], key=lambda name: selection["scores"][name]["mean"])
    assert selection["winner"] == best == decoder.winner_.name
    assert decoder.config()["winner"] == best


def test_the_test_split_is_scored_once_on_the_winner():
    split = OfficialSplit(survey_trials(60, 0, "toy/train"), survey_trials(30, 2, "toy/test"))
    record = evaluate(
        lambda seed: _auto(seed=seed),
        split,
        make_protocol("official"),
        seeds=(0,),
        decoder_name="auto",
        dataset_name="toy",
    )
    assert record.metrics["accuracy"].mean > 0.8


def test_auto_exports_and_reloads_as_its_winner(tmp_path):
    decoder = _auto(["not-registered", "csp-lda"]).fit(survey_trials(45, 0), survey_trials(15, 1))
    save_decoder(decoder, DecoderCard.for_decoder(decoder, extra=decoder.card_extra()), tmp_path)
    loaded, card = load_decoder(tmp_path)
    assert card.extra["selection"]["winner"] == loaded.winner_.name == decoder.winner_.name
    window = survey_trials(4, 3).data
    assert np.allclose(loaded.predict_proba(window), decoder.predict_proba(window))
    report = export_decoder(loaded, tmp_path / "auto.onnx")
    assert report.parity.passed
    assert card.config["winner"] == decoder.winner_.name


def test_no_candidate_that_can_train_is_an_error_naming_every_reason():
    decoder = registry.create("auto", candidates=["not-registered", "auto"], folds=2)
    with pytest.raises(DataError, match=r"no candidate of auto could be fitted .*not-registered"):
        decoder.fit(survey_trials(20, 0), survey_trials(10, 1))
