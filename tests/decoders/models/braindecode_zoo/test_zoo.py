"""The braindecode zoo: one registry entry per braindecode classifier, checked against the
installed braindecode (the export outcomes are checked by the registry-wide parity test)."""

from pathlib import Path

import numpy as np
import pytest

from decoders import registry
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.models.braindecode_zoo import catalog, survey

README = Path(__file__).resolve().parents[4] / "README.md"


def test_the_catalog_is_the_installed_braindecode():
    installed = survey.installed_models()
    records = {record["class"]: record for record in catalog.catalog()["models"]}
    assert set(records) == set(installed), (
        "regenerate: python -m decoders.models.braindecode_zoo.survey"
    )
    for name, cls in installed.items():
        described = survey.describe(name, cls)
        assert {key: records[name][key] for key in described} == described, name


def test_every_classifier_is_registered_and_the_others_say_why():
    from braindecode.models.util import non_classification_models

    for record in catalog.catalog()["models"]:
        name = catalog.registry_name(record["class"])
        if record["status"] == "not registered":
            assert name not in registry.REGISTRY
            assert record["reason"] == survey.NOT_WINDOW_CLASSIFIERS[record["class"]]
        else:
            entry = registry.get(name)
            assert entry.family == "braindecode" and entry.licence == record["licence"]
            assert entry.exports == (record["status"] == "exports")
    listed = set(non_classification_models) - {"SignalJEPA", "InterpolatedSignalJEPA"}
    assert listed <= set(survey.NOT_WINDOW_CLASSIFIERS)


def test_models_left_out_for_their_shape_or_a_download_still_are():
    # REVE still fetches its position bank from the network when it is built
    import inspect

    from braindecode.models.reve import RevePositionBank

    assert "https://" in str(inspect.signature(RevePositionBank).parameters["url"].default)
    # AttnSleep still takes a single channel: it cannot be built for the survey's eight
    entry = registry.DecoderEntry(
        "attnsleep",
        "decoders.models.braindecode_zoo.nets:BraindecodeClassifier",
        "braindecode",
        "test",
        defaults={"architecture": "AttnSleep"},
    )
    decoder = entry.create(max_epochs=1)
    with pytest.raises(DataError, match="cannot be built for 8 channels"):
        decoder.fit(survey.survey_trials(12, 0), survey.survey_trials(6, 1))


def test_non_commercial_models_are_flagged_in_the_listing_and_the_card():
    flagged = {name for name, entry in registry.REGISTRY.items() if entry.non_commercial}
    assert {"brainmodule", "eegminer"} <= flagged
    assert "(NON-COMMERCIAL)" in registry.licence_note(registry.get("brainmodule"))
    assert registry.create("brainmodule").card_extra()["non_commercial"] is True
    assert registry.create("atcnet").card_extra()["licence"] == "bsd-3-clause"


def test_the_readme_has_the_table_of_models_that_do_not_export():
    assert catalog.export_table() in README.read_text()


def _unplaced_trials(n: int, seed: int) -> TrialSet:
    trials = survey.survey_trials(n, seed)
    names = tuple(f"X{i}" for i in range(trials.n_channels))
    return TrialSet(
        trials.data, trials.labels, trials.classes, trials.sfreq, names, trials.ch_types, "unplaced"
    )


def test_a_model_needing_positions_on_channels_without_them_names_the_montage_option():
    decoder = registry.create("dgcnn", max_epochs=1, network={"n_filters": 4})
    with pytest.raises(DataError, match=r"needs channel positions.*X0.*montage"):
        decoder.fit(_unplaced_trials(12, 0), _unplaced_trials(6, 1))
    without = registry.create("dgcnn", max_epochs=1, montage=None)
    with pytest.raises(DataError, match=r"no montage set.*--set montage="):
        without.fit(survey.survey_trials(12, 0), survey.survey_trials(6, 1))


def test_positions_from_the_data_are_used_and_rebuilt_from_the_checkpoint(tmp_path):
    from decoders.card import DecoderCard
    from decoders.checkpoint import load_decoder, save_decoder

    rng = np.random.default_rng(0)
    positions = {f"X{i}": rng.normal(size=3) * 0.05 for i in range(8)}

    def placed(n, seed):
        trials = _unplaced_trials(n, seed)
        return TrialSet(
            trials.data, trials.labels, trials.classes, trials.sfreq, trials.ch_names,
            trials.ch_types, "placed", ch_pos=positions,
        )  # fmt: skip

    entry = registry.get("dgcnn")
    decoder = entry.create(**entry.tiny).fit(placed(24, 0), placed(12, 1))
    save_decoder(decoder, DecoderCard.for_decoder(decoder), tmp_path)
    loaded, _ = load_decoder(tmp_path)
    window = placed(4, 2).data
    assert np.allclose(loaded.predict_proba(window), decoder.predict_proba(window), atol=1e-6)


def test_an_unknown_network_option_lists_the_model_options():
    decoder = registry.create("eegconformer", max_epochs=1, network={"depth": 2})
    with pytest.raises(DataError, match=r"EEGConformer has no option depth .*num_layers"):
        decoder.fit(survey.survey_trials(12, 0), survey.survey_trials(6, 1))


def test_an_unknown_architecture_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown architecture NoSuchNet .*ATCNet"):
        registry.create("eegnet", architecture="NoSuchNet")


def test_labram_takes_channels_with_clinical_referential_labels():
    trials = survey.survey_trials(12, 0)
    names = ("FP1", "FP2", "C3", "C4", "T3", "T4", "O1", "O2")[: trials.n_channels]
    labelled = TrialSet(
        trials.data, trials.labels, trials.classes, trials.sfreq,
        tuple(f"EEG {name}-REF" for name in names), trials.ch_types, "TUH labels",
    )  # fmt: skip
    entry = registry.get("labram")
    decoder = entry.create(**{**entry.tiny, "max_epochs": 1}).fit(labelled, labelled)
    assert decoder.predict_proba(labelled.data).shape == (12, trials.n_classes)
