import json

import numpy as np
import pytest

from bci_app.inference.model import OnnxModel
from bci_app.models.format import KEY_CONTENT, KEY_EXPORT, read_metadata
from decoders import registry
from decoders.export.onnx_export import export_decoder
from decoders.export.quantize import quantize_int8


@pytest.fixture(scope="module")
def exported(toy_split, tmp_path_factory):
    decoder = registry.create("shallow-fbcsp", max_epochs=3, patience=3).fit(*toy_split)
    path = tmp_path_factory.mktemp("quantize") / "shallow.onnx"
    export_decoder(decoder, path)
    return decoder, path


def test_int8_graph_is_scored_against_the_float_one_on_validation_trials(exported, toy_split):
    decoder, path = exported
    valid = toy_split[1]
    target = path.with_name("shallow.int8.onnx")

    report = quantize_int8(path, target, valid)

    float_accuracy = np.mean(decoder.predict_proba(valid.data).argmax(1) == valid.labels)
    assert report.float_accuracy == pytest.approx(float_accuracy)
    int8 = OnnxModel(target.read_bytes(), "int8")  # still a bci-app model: card kept
    # A new graph with its own content hash, which the loader checked.
    assert int8.card.content_sha256 != OnnxModel(path.read_bytes(), "float").card.content_sha256
    assert read_metadata(str(target))[KEY_CONTENT] == int8.card.content_sha256
    decided = [int8.predict(trial).argmax() for trial in valid.data]
    int8_accuracy = np.mean(np.array(decided) == valid.labels)
    assert report.int8_accuracy == pytest.approx(int8_accuracy)
    assert report.n_trials == valid.n_trials and report.max_abs_change > 0
    assert report.int8_bytes < report.float_bytes
    recorded = json.loads(read_metadata(str(target))[KEY_EXPORT])["quantization"]
    assert recorded["int8_accuracy"] == report.int8_accuracy
    assert f"{report.float_accuracy:.3f} -> {report.int8_accuracy:.3f}" in report.summary()


def test_validation_trials_of_another_shape_are_refused(exported, toy_split, tmp_path):
    _, path = exported
    valid = toy_split[1]
    cropped = type(valid)(
        valid.data[:, :, :64],
        valid.labels,
        valid.classes,
        valid.sfreq,
        valid.ch_names,
        valid.ch_types,
        "cropped",
    )
    with pytest.raises(ValueError, match=r"cropped: validation trials \(8 ch x 64\) do not match"):
        quantize_int8(path, tmp_path / "x.onnx", cropped)
