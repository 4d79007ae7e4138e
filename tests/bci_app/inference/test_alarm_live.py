"""Seizure alarms in the live path: raised from the probabilities, published, logged."""

import json
from dataclasses import replace

import numpy as np
import pylsl
import pytest

from acquisition.ringbuffer import RingBuffer
from bci_app.inference.engine import InferenceEngine
from bci_app.inference.log import PredictionLog
from bci_app.inference.model import OnnxModel
from bci_app.inference.runner import DecoderRunner
from bci_app.models.alarm import AlarmPolicy, alarm_times
from bci_app.models.registry import ModelRegistry

CHANNELS = tuple(f"C{i}" for i in range(8))
SFREQ, HOP_S = 128.0, 0.25


def _forecaster(path, make_trials, policy):
    """A band-power forecaster ('preictal': three times the amplitude on C0) with ``policy``."""
    from decoders import registry
    from decoders.card import DecoderCard
    from decoders.export.onnx_export import export_decoder

    def relabelled(trials):
        return replace(trials, classes=("interictal", "preictal"))

    decoder = registry.create("bandpower-lr", hop_s=HOP_S, bands=[[4, 30]])
    decoder.fit(relabelled(make_trials(60, 0)), relabelled(make_trials(30, 1)))
    card = DecoderCard.for_decoder(decoder, extra={"forecasting": {"alarm": policy.to_dict()}})
    export_decoder(decoder, path, card=card)
    return path


def test_the_runner_raises_the_alarms_the_offline_evaluation_would(tmp_path, make_trials):
    policy = AlarmPolicy(k=3, n=4, threshold=0.5, refractory_s=4.0, sph_s=1.0, sop_s=2.0)
    path = _forecaster(tmp_path / "forecaster.onnx", make_trials, policy)
    buffer = RingBuffer(list(CHANNELS), ["eeg"] * 8, SFREQ, 60.0)
    log = PredictionLog(tmp_path / "log.jsonl")
    runner = DecoderRunner(
        OnnxModel(path.read_bytes(), "f:1"), "f:1", buffer, name="f", stream="s", log=log
    )
    rng = np.random.default_rng(3)
    signal = (rng.standard_normal((8, round(20 * SFREQ))) * 10e-6).astype(np.float32)
    signal[0, round(8 * SFREQ) :] *= 3.0  # 'preictal' from 8 s on
    origin = pylsl.local_clock()
    predictions = []
    for start in range(0, signal.shape[1], 16):
        times = origin + (start + np.arange(16)) / SFREQ
        buffer.write(signal[:, start : start + 16], times, pylsl.local_clock())
        predictions.extend(runner.poll(0.0))
    log.close()

    statuses = [p.alarm for p in predictions]
    probabilities = [p.outputs[1] for p in predictions]
    stamps = [p.timestamp for p in predictions]
    raised = [s.timestamp for s in statuses if s.raised]
    assert raised == alarm_times(probabilities, stamps, policy).tolist()
    assert len(raised) >= 2 and raised[0] - origin > 8.0  # alarms only after the change
    assert runner.counts.alarms == len(raised)
    first = stamps.index(raised[0])
    assert all(s.active for s in statuses[first : first + 12])  # 4 s refractory at 0.25 s hops
    entries = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    events = [e["message"] for e in entries if e["kind"] == "event"]
    assert sum("seizure alarm raised" in m for m in events) == len(raised)
    assert "seizure expected 0.0166667-0.05 min from now" in events[0]
    assert all("alarm" in e for e in entries if e["kind"] == "prediction")


@pytest.mark.lsl
def test_the_engine_publishes_the_alarm_state_as_its_own_stream(
    tmp_path, make_trials, live_outlet, stream_name, wait_for
):
    policy = AlarmPolicy(k=1, n=1, threshold=1e-6, refractory_s=600.0, sph_s=60.0, sop_s=300.0)
    registry = ModelRegistry(tmp_path / "models")
    registry.register(_forecaster(tmp_path / "f.onnx", make_trials, policy), "forecaster")
    live_outlet(stream_name)
    with InferenceEngine(registry) as engine:
        runner = engine.add(stream_name, "forecaster")
        found = pylsl.resolve_byprop("name", "bci-app-forecaster-alarm", 1, 5.0)
        assert found, "no alarm stream"
        assert found[0].type() == "SeizureAlarm" and found[0].channel_count() == 3
        inlet = pylsl.StreamInlet(found[0])
        inlet.open_stream(timeout=5.0)
        engine.start()
        wait_for(lambda: runner.counts.published >= 4, what="four predictions")
        samples = []
        while len(samples) < 3:
            sample, _ = inlet.pull_sample(timeout=5.0)
            assert sample is not None, "no alarm state arrived"
            samples.append(sample)
    assert all(sample[0] == 1.0 for sample in samples)  # raised at once, on for 10 minutes
    assert runner.counts.alarms == 1
