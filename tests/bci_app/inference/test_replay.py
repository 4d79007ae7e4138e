"""A recording played through the player and decoded live agrees with offline decoding."""

import numpy as np
import pytest

from bci_app.inference.model import OnnxModel
from bci_app.inference.replay import play_and_decode
from bci_app.models.registry import ModelRegistry

pytestmark = pytest.mark.lsl


def test_marker_locked_live_outputs_equal_offline_outputs(tmp_path, model_files, make_trials):
    registry = ModelRegistry(tmp_path)
    registry.register(model_files["plain"], "toy")
    trials = make_trials(6, 7)

    result = play_and_decode(trials.to_raw(), "toy", registry=registry, marker_locked=True)

    assert [p.marker for p in result.predictions] == [trials.classes[i] for i in trials.labels]
    model = OnnxModel(model_files["plain"].read_bytes(), "offline")
    offline = [model.predict(trial) for trial in trials.data.astype(np.float32)]
    assert np.allclose([p.outputs for p in result.predictions], offline, atol=1e-6)
    assert np.allclose(result.recording_times(), np.arange(1, 7) - 1 / 128.0, atol=1e-3)
    assert result.summary["counts"]["published"] == 6


def test_hop_windows_are_placed_in_recording_time(tmp_path, model_files, make_trials):
    registry = ModelRegistry(tmp_path)
    registry.register(model_files["band"], "toy")
    raw = make_trials(3, 8).to_raw().set_annotations(None)

    result = play_and_decode(raw, "toy", registry=registry, publish=False)

    stops = np.arange(128, 3 * 128 + 1, 13)
    counts = result.summary["counts"]
    assert counts["published"] + counts["dropped"] == len(stops)
    times = result.recording_times()
    assert np.all(np.min(np.abs(times[:, None] - (stops - 1) / 128.0), axis=1) < 1e-3)
    with pytest.raises(ValueError, match="no marker-locked prediction"):
        result.accuracy()


@pytest.mark.slow
def test_meg_hand_movement_trials_decoded_live_match_offline(tmp_path, real_data):
    from decoders import registry as decoders
    from decoders.datasets.loaders import load_trial_set
    from decoders.evaluation.protocols import validation_split
    from decoders.export.onnx_export import export_decoder

    split = load_trial_set("HandMovementDirection", real_data)
    decoder = decoders.create("xdawncov-ts-lr").fit(*validation_split(split.train, 0.2, 0))
    export_decoder(decoder, tmp_path / "meg.onnx")
    registry = ModelRegistry(tmp_path / "models")
    registry.register(tmp_path / "meg.onnx", "meg")
    test = split.test.subset(np.arange(8))

    result = play_and_decode(test.to_raw(), "meg", registry=registry, marker_locked=True)

    live = np.array([p.outputs for p in result.predictions])
    offline = decoder.predict_proba(test.data)
    assert [p.marker for p in result.predictions] == [test.classes[i] for i in test.labels]
    assert np.array_equal(live.argmax(1), offline.argmax(1))
    assert np.abs(live - offline).max() < 1e-3
    assert result.accuracy() == np.mean(offline.argmax(1) == test.labels)
