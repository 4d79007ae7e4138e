import pytest

from bci_app.errors import ModelIntegrityError
from bci_app.models.registry import ModelRegistry
from bci_app.session.models import read_card, summarize_card


def test_the_card_of_a_registered_model_is_read_and_summarized(tmp_path, model_files):
    registry = ModelRegistry(tmp_path)
    record = registry.register(model_files["band"], "toy")
    card = read_card(registry, record)
    assert card.decoder == "csp-lda" and len(card.ch_names) == 8
    summary = summarize_card(card)
    model = dict(summary.model)
    assert model["input"] == "8 ch @ 128 Hz, 1 s windows"
    assert model["preprocessing"] == "bandpass" and model["resampling"] == "allowed"
    assert "max relative error" in model["ONNX parity"]
    assert summary.channels == [f"C{i}" for i in range(8)]


def test_a_changed_file_is_refused(tmp_path, model_files):
    registry = ModelRegistry(tmp_path)
    record = registry.register(model_files["plain"], "toy")
    path = registry.path(record)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ModelIntegrityError, match="differs"):
        read_card(registry, record)
