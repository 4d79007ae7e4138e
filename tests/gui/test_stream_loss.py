import pytest

from acquisition.events import StreamStatus
from acquisition.export import GAP_ANNOTATION

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(120)]


def test_a_lost_stream_stops_the_traces_shows_a_banner_and_the_recording_keeps_a_gap(
    window, qtbot, play, make_raw, unique
):
    from acquisition.export import xdf_to_raws

    raw = make_raw(seconds=60)
    inlet = play(unique, raw, markers=False)
    viewer = window.viewer
    qtbot.waitUntil(
        lambda: viewer.traces.frame is not None and viewer.traces.frame.drawn > 0, timeout=10_000
    )
    window.session.subject.setText("P001")
    window.session.record()
    qtbot.waitUntil(lambda: window.controller.recording, timeout=10_000)
    qtbot.wait(500)
    window.controller.stop_player(unique)
    qtbot.waitUntil(lambda: viewer.banner.kind == "alarm", timeout=10_000)
    assert f"Stream '{unique}' lost" in viewer.banner.text()
    assert "recording continues and the gap is marked" in viewer.banner.text()
    qtbot.wait(300)  # samples pulled just before the loss was noticed may still be drawn
    drawn = viewer.traces.frame.drawn
    qtbot.wait(500)
    assert viewer.traces.frame.drawn == drawn  # the traces stopped
    assert inlet.status in (StreamStatus.LOST, StreamStatus.STALLED)
    qtbot.waitUntil(lambda: any("lost" in m for m in window.log.messages("warning")), timeout=5_000)
    window.controller.play(lambda: raw, unique, source="toy", markers=False)  # same source id
    qtbot.waitUntil(lambda: viewer.banner.kind == "ok", timeout=15_000)
    assert "reconnected after a gap of" in viewer.banner.text()
    qtbot.waitUntil(lambda: viewer.traces.frame.drawn > drawn + 64, timeout=10_000)
    assert window.controller.recording
    window.session.stop_recording()
    qtbot.waitUntil(
        lambda: (
            "stop recording" not in window.controller.tasks.running
            and not window.controller.recording
        ),
        timeout=30_000,
    )
    recording = xdf_to_raws(window.controller.session.folder / "rec-01.xdf")[unique]
    gaps = [a for a in recording.annotations if a["description"] == GAP_ANNOTATION]
    assert len(gaps) == 1 and gaps[0]["duration"] > 0.3
