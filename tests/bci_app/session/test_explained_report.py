"""A decoder that explains its decisions, live: the explanation reaches the log and the report."""

import json

import pytest

from acquisition.session import AcquisitionSession
from bci_app.inference.engine import InferenceEngine
from bci_app.inference.runner import EXPLAIN_EVERY_S
from bci_app.models.registry import ModelRegistry
from bci_app.session.metadata import SessionInfo
from bci_app.session.recording import SessionRecorder
from bci_app.session.report import write_report

pytestmark = [pytest.mark.lsl, pytest.mark.slow]


def test_token_maps_of_live_decisions_are_logged_and_drawn_in_the_report(
    tmp_path, live_outlet, stream_name, explaining_model, wait_for
):
    live_outlet(stream_name)
    registry = ModelRegistry(tmp_path / "registry")
    registry.register(explaining_model, "tokens")
    folder = tmp_path / "session"
    log = folder / "predictions-tokens-01.jsonl"
    with AcquisitionSession(seconds=10.0) as acquisition:
        acquisition.open(name=stream_name, timeout=5.0)
        recorder = SessionRecorder(acquisition, SessionInfo("P020"), folder)
        engine = InferenceEngine(registry, session=acquisition, log_path=log)
        runner = engine.add(stream_name, "tokens", name="tokens")
        engine.start()
        recorder.start()
        wait_for(lambda: runner.counts.published >= 12, timeout=30)
        engine.stop()
        recorder.stop()

    rows = [json.loads(line) for line in log.read_text().splitlines()]
    predictions = [row for row in rows if row["kind"] == "prediction"]
    explained = [row for row in predictions if "explanation" in row]
    assert explained and explained[0] is predictions[0]  # the first decision is explained
    span = predictions[-1]["timestamp"] - predictions[0]["timestamp"]
    assert len(explained) <= 1 + span / EXPLAIN_EVERY_S < len(predictions)
    explanation = explained[0]["explanation"]
    assert explanation["kind"] == "token-evidence" and explanation["unit"] == "nats"
    assert explanation["rows"] == [f"C{i}" for i in range(8)]
    assert len(explanation["values"]) == 8 and len(explanation["values"][0]) == 10

    html = write_report(folder).read_text()
    assert "Why the decoders decided" in html and "evidence of each token" in html
    assert html.count("data:image/png;base64,") == 4  # signals, outputs, explanations, latency
