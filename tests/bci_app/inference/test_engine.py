"""The engine on real LSL streams over loopback."""

import numpy as np
import pytest

from bci_app.errors import LiveError
from bci_app.inference.engine import InferenceEngine
from bci_app.models.registry import ModelRegistry

pytestmark = pytest.mark.lsl


@pytest.fixture
def registry(tmp_path, model_files):
    registry = ModelRegistry(tmp_path / "models")
    registry.register(model_files["band"], "toy")
    return registry


def test_predictions_are_published_on_lsl_with_the_window_times(
    registry, live_outlet, stream_name, wait_for
):
    import pylsl

    live_outlet(stream_name)
    with InferenceEngine(registry) as engine:
        runner = engine.add(stream_name, "toy")
        made = []
        engine.subscribe(made.append)
        found = pylsl.resolve_byprop("name", "bci-app-toy", 1, 5.0)
        inlet = pylsl.StreamInlet(found[0])
        inlet.open_stream(timeout=5.0)
        engine.start()
        wait_for(lambda: len(made) >= 8, what="eight predictions")
        received = []
        while len(received) < 6:
            sample, stamp = inlet.pull_sample(timeout=5.0)
            assert sample is not None, "no prediction arrived on the prediction stream"
            received.append((stamp, sample))
        summary = engine.summary()["toy"]
        info = inlet.info(timeout=5.0)
    by_time = {round(p.timestamp, 6): p for p in made}
    for stamp, sample in received:
        assert np.allclose(by_time[round(stamp, 6)].outputs, sample, atol=1e-7)
    assert runner.counts.published >= 8 and summary["model"] == "toy:1"
    assert summary["latency_ms"]["e2e"]["p99"] >= summary["latency_ms"]["e2e"]["p50"] > 0
    labels = info.desc().child("channels").child("channel").child_value("label")
    assert info.type() == "Predictions" and labels == "rest"


def test_a_version_registered_while_running_is_swapped_in(
    registry, live_outlet, stream_name, model_files, wait_for
):
    live_outlet(stream_name)
    with InferenceEngine(registry, publish=False) as engine:
        engine.add(stream_name, "toy")
        made = []
        engine.subscribe(made.append)
        engine.start()
        wait_for(lambda: len(made) >= 3, what="predictions of version 1")
        registry.register(model_files["band2"], "toy")
        wait_for(lambda: made[-1].model == "toy:2", what="version 2 swapped in")
        counts = engine.summary()["toy"]["counts"]
    assert counts["swaps"] == 1 and made[0].model == "toy:1"


def test_several_decoders_on_several_streams_at_once(registry, model_files, live_outlet, wait_for):
    import uuid

    registry.register(model_files["plain"], "plain")
    first, second = (f"t-{uuid.uuid4().hex[:10]}" for _ in range(2))
    live_outlet(first)
    live_outlet(second, sfreq=256.0)  # resampled to the model's 128 Hz
    with InferenceEngine(registry, publish=False) as engine:
        engine.add(first, "toy")
        engine.add(first, "plain", name="plain-first")
        engine.add(second, "toy", name="toy-second")
        made = []
        engine.subscribe(made.append)
        engine.start()
        wait_for(lambda: {p.runner for p in made} == {"toy", "plain-first", "toy-second"})
        summary = engine.summary()
    assert summary["toy-second"]["stream"] == second
    assert all(entry["counts"]["published"] > 0 for entry in summary.values())


def test_only_unpinned_names_are_followed(registry, live_outlet, stream_name):
    live_outlet(stream_name)
    with InferenceEngine(registry, publish=False) as engine:
        pinned = engine.add(stream_name, "toy:1", name="pinned")
        followed = engine.add(stream_name, "toy", name="followed")
        assert [f.runner for f in engine.followers] == [followed]
        assert pinned.ref == followed.ref == "toy:1"


def test_an_absent_stream_is_named(registry):
    engine = InferenceEngine(registry, publish=False, stream_timeout=0.5)
    with engine, pytest.raises(LiveError, match=r"absent-stream-e8a1: no LSL stream with name="):
        engine.add("absent-stream-e8a1", "toy")


def test_a_tampered_model_is_refused_before_any_stream_is_opened(registry, stream_name):
    record = registry.resolve("toy")
    registry.path(record).write_bytes(registry.path(record).read_bytes() + b"\x00")
    with InferenceEngine(registry, publish=False) as engine:
        with pytest.raises(LiveError, match=r"differs from .* registered for toy:1"):
            engine.add(stream_name, "toy")
        assert engine.session.inlets == {}
