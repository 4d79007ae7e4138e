import json

import numpy as np
import pytest

from bci_app.inference.model import OnnxModel
from decoders import registry
from decoders.card import DecoderCard
from decoders.checkpoint import load_decoder, save_decoder
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.evaluation.harness import evaluate
from decoders.evaluation.protocols import make_protocol
from decoders.export.onnx_export import export_decoder

from .conftest import SMALL

pytestmark = pytest.mark.slow


def test_contrastive_training_retrieves_unseen_sentences_by_block(trials):
    record = evaluate(
        lambda seed: registry.create("brain-speech", seed=seed, **SMALL),
        trials,
        make_protocol("blocks"),
        seeds=(0,),
        decoder_name="brain-speech",
        n_candidates=10,
    )
    metrics = {name: summary.mean for name, summary in record.metrics.items()}
    assert metrics["n_candidates"] == 10 and metrics["chance_top1"] == pytest.approx(0.1)
    assert metrics["top1"] > 3 * metrics["chance_top1"]
    assert metrics["median_rank"] < metrics["chance_median_rank"]
    assert [fold.name for fold in record.folds] == ["block0", "block1"]


def test_the_embedding_model_saves_exports_and_runs_live_for_its_subject(trials, tmp_path):
    decoder = registry.create("brain-speech", live_subject=1, **{**SMALL, "max_epochs": 2})
    fit, valid = trials.split_by_sound(0.25, seed=0)
    decoder.fit(fit, valid)
    assert decoder.output_spec_.kind == "embedding" and len(decoder.output_spec_.names) == 40
    card = DecoderCard.for_decoder(decoder, extra=decoder.card_extra())
    assert (
        card.extra["subjects"] == [0, 1]
        and "subject 1's own layer" in card.extra["live_subject_layer"]
    )
    assert card.extra["speech"]["features"]["n_mels"] == 4
    save_decoder(decoder, card, tmp_path / "run")
    loaded, _ = load_decoder(tmp_path / "run")
    windows = trials.data[:5]
    assert np.allclose(loaded.predict_proba(windows), decoder.predict_proba(windows), atol=1e-6)
    # the live model is subject 1's
    assert np.allclose(
        decoder.predict_proba(windows),
        decoder.predict_proba(windows, subjects=np.ones(5)),
        atol=1e-6,
    )
    report = export_decoder(loaded, tmp_path / "speech.onnx", card=card)
    assert report.parity.passed
    live = OnnxModel(report.path.read_bytes(), "speech.onnx")
    online = np.stack([live.predict(window) for window in windows.astype(np.float32)])
    assert np.allclose(online, decoder.predict_proba(windows), atol=1e-4)
    assert json.loads(json.dumps(live.card.card["extra"]))["speech"]["window_s"] == 1.0


def test_an_unseen_subject_goes_through_the_shared_layer_and_the_card_says_so(trials):
    seen = trials.subset(trials.groups == 0)
    fit, valid = seen.split_by_sound(0.25, seed=0)
    decoder = registry.create("brain-speech", **{**SMALL, "max_epochs": 1}).fit(fit, valid)
    unseen = trials.subset(trials.groups == 1).data[:4]
    shared = decoder.predict_proba(unseen)  # the default (exported) layer is the shared one
    assert np.allclose(decoder.predict_proba(unseen, subjects=np.full(4, 7)), shared, atol=1e-6)
    assert not np.allclose(decoder.predict_proba(unseen, subjects=np.zeros(4)), shared)
    assert "shared layer" in decoder.card_extra()["live_subject_layer"]
    with pytest.raises(DataError, match="live_subject 5 is not a training subject"):
        registry.create("brain-speech", live_subject=5, **SMALL).fit(fit, valid)


def test_trials_without_sensor_positions_name_the_montage_option(trials):
    bare = trials.subset(np.arange(trials.n_trials))
    from dataclasses import replace

    bare = replace(bare, ch_pos=None)
    fit, valid = bare.split_by_sound(0.25, seed=0)
    with pytest.raises(DataError, match=r"spatial attention needs them.*--set montage="):
        registry.create("brain-speech", **SMALL).fit(fit, valid)
    decoder = registry.create("brain-speech", spatial_attention=False, **{**SMALL, "max_epochs": 1})
    assert decoder.fit(fit, valid).output_spec_.kind == "embedding"


def test_the_brain_module_classifies_intracranial_words_per_subject():
    """A small sEEG fixture: word-specific responses on a few contacts among many, 2 subjects."""
    rng = np.random.default_rng(0)
    n_words, per_word, n_contacts, n_times = 4, 20, 12, 64
    responses = rng.normal(size=(2, n_words, 3, n_times))
    data, labels, groups = [], [], []
    for subject in range(2):
        for word in range(n_words):
            for _ in range(per_word):
                trial = rng.normal(size=(n_contacts, n_times))
                trial[subject * 3 : subject * 3 + 3] += 1.5 * responses[subject, word]
                data.append(trial * 50e-6)
                labels.append(word)
                groups.append(subject)
    words = TrialSet(
        np.array(data),
        np.array(labels),
        ("pen", "cup", "map", "key"),
        256.0,
        tuple(f"LA{i}" for i in range(n_contacts)),
        ("seeg",) * n_contacts,
        "sEEG words",
        groups=np.array(groups),
    )
    record = evaluate(
        lambda seed: registry.create(
            "brain-speech", seed=seed, spatial_attention=False, **{**SMALL, "max_epochs": 40}
        ),
        words,
        make_protocol("kfold4"),
        seeds=(0,),
        decoder_name="brain-speech",
    )
    assert record.metrics["accuracy"].mean > 0.6  # chance 0.25
