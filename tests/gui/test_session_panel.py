import errno
import json

import pytest
from PySide6.QtCore import Qt

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(180)]


class _FillingDisk:
    """A file on a disk that fills up after ``capacity`` bytes."""

    def __init__(self, path, capacity):
        self.file = open(path, "xb")  # noqa: SIM115 (closed by the recorder)
        self.capacity = capacity

    def write(self, data):
        if self.file.tell() + len(data) > self.capacity:
            self.file.write(data[: self.capacity - self.file.tell()])
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


def _start_session(window, identifier="Jane Q. Doe 1980-01-01"):
    panel = window.session
    panel.identifier.setText(identifier)
    subject = panel.subject.text()
    panel.label.setText("day 1")
    panel.operator.setText("AB")
    assert panel.start_session()
    return subject


def _wait_recording(window, qtbot, recording=True):
    qtbot.waitUntil(lambda: window.controller.recording == recording, timeout=15_000)


def test_the_identifier_becomes_a_pseudonym_and_is_never_stored(window, qtbot, play, unique):
    play(unique)
    subject = _start_session(window)
    assert subject.startswith("sub-") and len(subject) == 12
    assert window.session.identifier.text() == ""
    folder = window.controller.session.folder
    window.session.record()
    _wait_recording(window, qtbot)
    window.session.send_marker("eyes closed")
    window.session.note_text.setText("patient relaxed")
    window.session.add_note()
    qtbot.wait(600)
    window.session.stop_recording()
    _wait_recording(window, qtbot, False)
    qtbot.waitUntil(lambda: "stop recording" not in window.controller.tasks.running, timeout=30_000)
    files = sorted(p.name for p in folder.iterdir())
    assert "rec-01.xdf" in files and "session.json" in files
    assert any(name.startswith("rec-01_") and name.endswith("_raw.fif") for name in files)
    for path in folder.iterdir():
        if path.is_file():
            content = path.read_bytes()
            assert b"Jane" not in content and b"1980" not in content
    info = json.loads((folder / "session.json").read_text())
    assert info["subject"] == subject and info["label"] == "day-1" and info["operator"] == "AB"
    assert [(n["kind"], n["text"]) for n in info["notes"]] == [
        ("marker", "eyes closed"),
        ("note", "patient relaxed"),
    ]
    assert info["recordings"][0]["stop_reason"] == "stopped"
    assert window.session.notes.count() == 2


def test_a_name_is_refused_as_subject_id(window):
    window.session.subject.setText("Jane Doe")
    assert not window.session.start_session()
    assert "refused" in window.session.session_label.text()
    assert window.controller.session is None


def test_the_recording_holds_operator_markers_and_the_report_shows_them(
    window, qtbot, play, unique
):
    from acquisition.export import xdf_to_raws

    play(unique)
    _start_session(window)
    window.decoder.select_model("toy:1")
    window.decoder.select_stream(unique)
    window.decoder.start()
    qtbot.waitUntil(lambda: window.decoder.live is not None, timeout=15_000)
    window.session.record()
    _wait_recording(window, qtbot)
    window.session.quick_buttons[0].click()
    window.session.marker_text.setText("seizure onset")
    window.session.send_typed_marker()
    qtbot.waitUntil(lambda: len(window.decoder.history) > 10, timeout=15_000)
    window.session.stop_recording()
    _wait_recording(window, qtbot, False)
    qtbot.waitUntil(lambda: "stop recording" not in window.controller.tasks.running, timeout=30_000)
    folder = window.controller.session.folder
    raw = xdf_to_raws(folder / "rec-01.xdf")[unique]
    descriptions = list(raw.annotations.description)
    assert "artifact" in descriptions and "seizure onset" in descriptions
    window.session.make_report()
    qtbot.waitUntil(lambda: window.session.report_path is not None, timeout=60_000)
    html = window.session.report_path.read_text()
    for section in ("Signals: rec-01.xdf", "Decoder output", "Latency", "Events", "seizure onset"):
        assert section in html
    assert html.count("data:image/png;base64") >= 3


def test_a_full_disk_stops_the_recording_keeps_the_data_and_tells_the_user(
    window, qtbot, play, unique
):
    import pyxdf

    play(unique)
    window.controller.recorder_options = {
        "opener": lambda path: _FillingDisk(path, 20_000),
        "flush_interval": 0.1,
    }
    _start_session(window)
    window.session.record()
    qtbot.waitUntil(lambda: window.session.failure_box is not None, timeout=30_000)
    box = window.session.failure_box
    assert box.isVisible() and "disk full" in box.text()
    assert "kept" in box.informativeText()
    path = window.controller.session.folder / "rec-01.xdf"
    assert 0 < path.stat().st_size <= 20_000
    streams, _ = pyxdf.load_xdf(str(path))
    (signal,) = [s for s in streams if s["info"]["name"] == [unique]]
    assert len(signal["time_stamps"]) > 0
    assert not window.controller.recording
    assert any("disk full" in m for m in window.log.messages("error"))
    info = json.loads((path.parent / "session.json").read_text())
    assert info["recordings"][0]["stop_reason"].startswith("disk full")


@pytest.mark.parametrize("answer", [False, True])
def test_closing_while_recording_asks_and_never_loses_data(window, qtbot, play, unique, answer):
    play(unique)
    _start_session(window)
    window.session.record()
    _wait_recording(window, qtbot)
    recorder = window.controller.session.recorder
    qtbot.waitUntil(lambda: all(recorder.samples_written.values()), timeout=10_000)
    asked = []
    window.confirm_close = lambda: asked.append(True) or answer
    window.close()
    assert asked == [True]
    folder = window.controller.session.folder
    if not answer:
        assert window.isVisible() and window.controller.recording
        return
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert not window.controller.recording
    assert any(p.name.endswith("_raw.fif") for p in folder.iterdir())
    info = json.loads((folder / "session.json").read_text())
    assert info["recordings"][0]["stop_reason"] == "stopped"


def test_shortcuts_record_mark_and_stop(window, qtbot, play, unique):
    play(unique)
    _start_session(window)
    window.activateWindow()  # shortcuts go to the active window (on X11, once focus arrives)
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    _wait_recording(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert window.controller.session.info.notes[-1].text == "marker"
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.controller.session.info.notes[-1].text == "artifact"
    qtbot.keyClick(
        window,
        Qt.Key.Key_R,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    _wait_recording(window, qtbot, False)
