import errno
import json

import pytest

from acquisition.session import AcquisitionSession
from bci_app.session.metadata import SessionInfo
from bci_app.session.recording import SessionRecorder

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(60)]


@pytest.fixture
def acquisition(live_outlet, stream_name):
    live_outlet(stream_name)
    with AcquisitionSession(seconds=10.0) as session:
        session.open(name=stream_name, timeout=5.0)
        yield session


class _BrokenDisk:
    def __init__(self, path):
        self.file = open(path, "xb")  # noqa: SIM115 (closed by the recorder)

    def write(self, data):
        if self.file.tell() > 4000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


def test_recordings_are_numbered_and_noted_in_the_metadata(acquisition, tmp_path, wait_for):
    info = SessionInfo("P017", "mi")
    recorder = SessionRecorder(acquisition, info, tmp_path / "session")
    assert (tmp_path / "session" / "session.json").is_file()
    assert not recorder.recording and recorder.status().path is None
    first = recorder.start()
    assert first.name == "rec-01.xdf" and recorder.recording
    with pytest.raises(RuntimeError, match="already recording"):
        recorder.start()
    recorder.marker("eyes open")
    wait_for(lambda: recorder.status().bytes_written > 4000)
    status = recorder.status()
    assert status.recording and status.failure is None and status.seconds > 0
    result = recorder.stop()
    assert result.stop_reason == "stopped" and len(result.fif) == 1
    assert recorder.start().name == "rec-02.xdf"
    recorder.stop()
    saved = json.loads((tmp_path / "session" / "session.json").read_text())
    assert [r["xdf"] for r in saved["recordings"]] == ["rec-01.xdf", "rec-02.xdf"]
    assert saved["recordings"][0]["fif"] == [result.fif[0].name]
    assert saved["notes"][0]["kind"] == "marker" and saved["notes"][0]["text"] == "eyes open"
    with pytest.raises(RuntimeError, match="not recording"):
        recorder.stop()


def test_a_marker_outside_a_recording_goes_to_the_metadata_only(acquisition, tmp_path):
    recorder = SessionRecorder(acquisition, SessionInfo("P017"), tmp_path)
    recorder.marker("before recording", timestamp=5.0)
    recorder.note("ready")
    recorder.add_model("mi:1")
    recorder.add_model("mi:1")
    info = SessionInfo.load(tmp_path)
    assert (info.notes[0].kind, info.notes[0].text, info.notes[0].lsl_time) == (
        "marker",
        "before recording",
        5.0,
    )
    assert info.models == ["mi:1"]
    with pytest.raises(ValueError, match="empty marker"):
        recorder.marker(" ")


def test_a_failing_disk_is_reported_and_what_was_written_is_kept(acquisition, tmp_path, wait_for):
    recorder = SessionRecorder(
        acquisition, SessionInfo("P017"), tmp_path, opener=_BrokenDisk, flush_interval=0.1
    )
    path = recorder.start()
    wait_for(lambda: recorder.status().failure is not None)
    status = recorder.status()
    assert status.failure.startswith("disk full") and not status.recording
    result = recorder.stop()
    assert result.stop_reason.startswith("disk full") and result.fif == []
    assert path.stat().st_size == result.bytes_written > 0
    assert SessionInfo.load(tmp_path).recordings[0]["stop_reason"].startswith("disk full")
    assert recorder.status().failure.startswith("disk full")


def test_recording_without_streams_is_refused(tmp_path):
    with AcquisitionSession() as empty:
        recorder = SessionRecorder(empty, SessionInfo("P017"), tmp_path)
        with pytest.raises(RuntimeError, match="no stream is open"):
            recorder.start()
