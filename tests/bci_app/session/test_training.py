import numpy as np
import pytest

from bci_app.models.registry import ModelRegistry
from bci_app.session.calibration import CalibrationPlan
from bci_app.session.models import read_card, summarize_card
from bci_app.session.training import (
    MIN_TRIALS_PER_CLASS,
    band_options,
    calibration_protocol,
    train_calibration,
    trainable_decoders,
)


@pytest.fixture(scope="module")
def calibration_file(short_calibration):
    return short_calibration[1]


@pytest.fixture(scope="module")
def plan(short_calibration):
    return short_calibration[0]


def test_a_decoder_is_trained_on_the_cued_trials_and_registered(calibration_file, plan, tmp_path):
    result = train_calibration(
        calibration_file,
        plan,
        decoder="csp-lda",
        name="calibration-P017",
        out=tmp_path / "run",
        registry_dir=tmp_path / "registry",
    )
    assert result.record.ref == "calibration-P017:1" and result.n_trials >= 16
    assert result.chance == 0.5 and 0.0 <= result.accuracy <= 1.0
    assert np.isfinite(result.kappa)
    for name in ("weights.pt", "card.json", "result.json", "confusion_matrix.png"):
        assert (result.folder / name).is_file()
    registry = ModelRegistry(tmp_path / "registry")
    card = read_card(registry, registry.get("calibration-P017"))
    assert card.output_names == plan.classes and card.n_times == 150
    summary = summarize_card(card)
    training = dict(summary.training)
    assert training["classes"] == "left_hand, right_hand"
    assert dict(summary.validation)["accuracy"].count("±") == 1


def test_too_few_trials_are_refused_before_anything_runs(plan):
    small = CalibrationPlan(trials_per_class=MIN_TRIALS_PER_CLASS - 1)
    with pytest.raises(ValueError, match=f"at least {MIN_TRIALS_PER_CLASS} trials per class"):
        calibration_protocol(small)
    assert calibration_protocol(plan) == "kfold5"


def test_a_recording_without_the_cued_classes_is_a_clear_error(calibration_file, tmp_path):
    from decoders.datasets.errors import DataError

    other = CalibrationPlan(classes=("feet", "tongue"), trials_per_class=8)
    with pytest.raises(DataError, match="no events named"):
        train_calibration(
            calibration_file,
            other,
            decoder="csp-lda",
            name="x",
            out=tmp_path,
            registry_dir=tmp_path,
        )


def test_the_classical_decoders_come_first():
    names = trainable_decoders()
    assert names[:2] == ["csp-lda", "cov-ts-lr"] and "rleegnet" in names


def test_a_band_is_declared_only_for_decoders_that_take_one():
    assert band_options("csp-lda", (8, 30)) == {"band": [8.0, 30.0]}
    assert band_options("rleegnet", (8, 30)) == {"band": [8.0, 30.0]}
    assert band_options("cov-ts-lr", (8, 30)) == {}
    assert band_options("csp-lda", None) == {}
