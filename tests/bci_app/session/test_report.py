import pytest

from acquisition.session import AcquisitionSession
from bci_app.inference.engine import InferenceEngine
from bci_app.models.registry import ModelRegistry
from bci_app.session.metadata import SessionInfo
from bci_app.session.recording import SessionRecorder
from bci_app.session.report import REPORT_FILE, write_report

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(120)]


@pytest.fixture
def session_folder(tmp_path, live_outlet, stream_name, model_files, wait_for):
    """A session folder: one recording with a marker and the predictions of a decoder."""
    live_outlet(stream_name)
    registry = ModelRegistry(tmp_path / "registry")
    registry.register(model_files["plain"], "toy")
    folder = tmp_path / "session"
    info = SessionInfo("P017", "report", "AB")
    info.add_note("<script>alert(1)</script> calm")
    with AcquisitionSession(seconds=10.0) as acquisition:
        acquisition.open(name=stream_name, timeout=5.0)
        recorder = SessionRecorder(acquisition, info, folder)
        engine = InferenceEngine(
            registry, session=acquisition, log_path=folder / "predictions-toy-01.jsonl"
        )
        runner = engine.add(stream_name, "toy", name="toy")
        engine.start()
        recorder.start()
        wait_for(lambda: runner.counts.published >= 5)
        recorder.marker("stimulus")
        wait_for(lambda: runner.counts.published >= 15)
        engine.stop()
        recorder.stop()
    return folder


def test_the_report_has_every_section_with_figures(session_folder, stream_name):
    path = write_report(session_folder, title="Session P017")
    assert path == session_folder / REPORT_FILE
    html = path.read_text()
    for text in (
        "<h1>Session P017</h1>",
        "P017",
        "rec-01.xdf",
        f"<h3>{stream_name}</h3>",
        "8 eeg at 128 Hz",
        "Decoder output",
        "toy:1",
        "Latency",
        "e2e",
        "stimulus",
        "bci-app markers",
        "Quality flags: share of",
    ):
        assert text in html, text
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert html.count("data:image/png;base64,") == 3  # signals, decoder output, latency


def test_an_unreadable_recording_is_named_and_the_rest_is_reported(session_folder):
    (session_folder / "rec-02.xdf").write_bytes(b"XDF:garbage")
    html = write_report(session_folder).read_text()
    assert "rec-02.xdf: holds no readable stream" in html
    assert "Decoder output" in html


def test_a_session_without_recordings_or_decoders_still_has_a_report(tmp_path):
    SessionInfo("P018").save(tmp_path)
    html = write_report(tmp_path).read_text()
    assert "No decoder ran during this session" in html
    assert "No marker or acquisition event recorded" in html


def test_a_folder_without_metadata_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a session folder"):
        write_report(tmp_path)
