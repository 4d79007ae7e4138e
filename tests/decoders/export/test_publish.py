from bci_app.inference.model import OnnxModel
from bci_app.models.registry import ModelRegistry
from decoders import registry as decoders
from decoders.export.publish import publish
from decoders.models.braindecode_zoo.survey import survey_trials as toy_trials


def test_publish_exports_and_registers_the_next_version(tmp_path):
    decoder = decoders.create("csp-lda", n_components=2).fit(toy_trials(40, 0), toy_trials(20, 1))
    first = publish(decoder, tmp_path, "adaptive")
    second = publish(decoder, tmp_path, "adaptive")

    assert (first.ref, second.ref) == ("adaptive:1", "adaptive:2")
    registry = ModelRegistry(tmp_path)
    model = OnnxModel(registry.read_verified(second), second.ref)
    windows = toy_trials(4, 2).data
    expected = decoder.predict_proba(windows)
    for window, probabilities in zip(windows, expected, strict=True):
        assert abs(model.predict(window) - probabilities).max() < 1e-4  # float32 graph
