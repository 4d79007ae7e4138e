"""The feedback phase runs any adaptation strategy of ``decoders.adaptation``: each update is
published as a new model version for the live engine."""

import pytest

from bci_app.models.registry import ModelRegistry
from bci_app.session.adaptation import OnlineAdaptation


@pytest.mark.slow
def test_the_adaptive_lda_bias_adapts_in_the_feedback_phase(tmp_path, write_toy_recording):
    from decoders.training.runner import TrainingJob, train
    from decoders.training.sources import DataRequest, load_training_data

    path = write_toy_recording(tmp_path / "toy_raw.fif", n_events=20)
    request = DataRequest(str(path))
    train(
        TrainingJob("csp-lda", request, "kfold5", (0,), {"n_components": 2}),
        tmp_path / "run",
        progress=False,
    )
    trials = load_training_data(request)
    adaptation = OnlineAdaptation(
        tmp_path / "run",
        "toy",
        tmp_path / "registry",
        strategy="adaptive-lda-bias",
        calibration=trials.data,
    )
    labels = [trials.classes[label] for label in trials.labels[:3]]
    outcome = adaptation.update(trials.data[:3] * 1.5, labels)  # louder: the features moved

    assert outcome.n_trials == 3 and outcome.drift > 0 and not outcome.refused
    assert outcome.record.ref == "toy:1" and adaptation.updates == 1
    assert ModelRegistry(tmp_path / "registry").get("toy").version == 1
    with pytest.raises(ValueError, match="must name one class"):
        adaptation.update(trials.data[:1], ["no-such-class"])
