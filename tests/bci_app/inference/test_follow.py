import numpy as np
import pylsl

from acquisition.ringbuffer import RingBuffer
from bci_app.inference.follow import ModelFollower
from bci_app.inference.model import OnnxModel
from bci_app.inference.runner import DecoderRunner
from bci_app.models.registry import ModelRegistry


def _runner(registry, record):
    buffer = RingBuffer([f"C{i}" for i in range(8)], ["eeg"] * 8, 128.0, 10.0)
    model = OnnxModel(registry.read_verified(record), record.ref)
    return DecoderRunner(model, record.ref, buffer, name="t", stream="s"), buffer


def test_a_newer_version_is_loaded_and_offered_once(tmp_path, model_files, make_trials):
    registry = ModelRegistry(tmp_path)
    first = registry.register(model_files["band"], "toy")
    runner, buffer = _runner(registry, first)
    follower = ModelFollower(registry, "toy", first.version, runner)
    assert not follower.check()  # nothing new

    registry.register(model_files["band2"], "toy")
    assert follower.check() and not follower.check()

    signal = make_trials(1, 0).data[0].astype(np.float32)
    buffer.write(signal, pylsl.local_clock() + np.arange(128) / 128.0, pylsl.local_clock())
    assert [p.model for p in runner.poll(0.0)] == ["toy:2"]


def test_a_newer_version_failing_its_hash_is_not_offered(tmp_path, model_files):
    registry = ModelRegistry(tmp_path)
    first = registry.register(model_files["band"], "toy")
    runner, _ = _runner(registry, first)
    follower = ModelFollower(registry, "toy", first.version, runner)
    second = registry.register(model_files["band2"], "toy")
    registry.path(second).write_bytes(b"tampered")

    assert not follower.check()
    assert runner.ref == "toy:1"
    assert "newer version of toy not loaded" in runner.events[-1][1]
    assert "differs from" in runner.events[-1][1]
