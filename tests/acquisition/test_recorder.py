import errno
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from acquisition.discovery import find_stream
from acquisition.events import EventKind, EventLog
from acquisition.export import GAP_ANNOTATION
from acquisition.inlet import MarkerInlet, SignalInlet
from acquisition.player import Player
from acquisition.recorder import Recorder

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(120)]

SFREQ = 250.0


def _raw(seconds=1.2):
    import mne

    n_times = int(seconds * SFREQ)
    data = np.vstack([np.arange(n_times) * 1e-6, np.random.default_rng(0).normal(0, 1e-5, n_times)])
    raw = mne.io.RawArray(
        data, mne.create_info(["count", "Cz"], SFREQ, ["eeg", "eeg"]), verbose="error"
    )
    raw.set_annotations(mne.Annotations([0.2, 0.8], [0, 0], ["cue/left", "cue/right"]))
    return raw


def _inlets(player, events):
    """Signal and marker inlets of a player, created but not started (a recorder may attach)."""
    signal_inlet = SignalInlet(find_stream(source_id=player.source_id), seconds=10.0, events=events)
    marker_inlet = MarkerInlet(find_stream(source_id=f"{player.source_id}-markers"), events=events)
    return signal_inlet, marker_inlet


def _load(path):
    import pyxdf

    streams, _ = pyxdf.load_xdf(str(path))
    return {s["info"]["name"][0]: s for s in streams}


def test_a_clean_recording_holds_every_sample_event_and_note_in_xdf_and_fif(tmp_path, unique):
    import mne

    from decoders.datasets.readers import read_recording

    raw, events = _raw(), EventLog()
    player = Player(raw, name=unique, wait_for_consumer=5.0).start()
    inlets = _inlets(player, events)
    bids = {"root": tmp_path / "bids", "subject": "p01", "task": "cues"}
    recorder = Recorder(tmp_path / "session.xdf", inlets, events=events, bids=bids).start()
    for inlet in inlets:
        inlet.start()
    try:
        assert inlets[0].buffer.wait(10, timeout=10.0)
        recorder.add_marker("operator: patient moved")
        assert player.wait(timeout=20)
        assert inlets[0].buffer.wait(raw.n_times - 1, timeout=5.0)
        inlets[1].markers.wait(1, timeout=5.0)
        result = recorder.stop()
    finally:
        player.stop()
        for inlet in inlets:
            inlet.stop()
    assert result.stop_reason == "stopped"
    assert result.samples == {unique: raw.n_times, f"{unique}-markers": 2}
    streams = _load(tmp_path / "session.xdf")
    np.testing.assert_allclose(streams[unique]["time_series"].T, raw.get_data(), rtol=1e-6)
    assert streams[f"{unique}-markers"]["time_series"] == [["cue/left"], ["cue/right"]]
    assert streams["bci-app markers"]["time_series"] == [["operator: patient moved"]]
    assert any("connected" in m[0] for m in streams["bci-app events"]["time_series"])
    assert streams[unique]["footer"]["info"]["sample_count"] == [str(raw.n_times)]
    # The application's own reader opens the recording, in SI units, with its events.
    reread = read_recording(tmp_path / "session.xdf", stream=unique)
    np.testing.assert_allclose(reread.get_data(), raw.get_data(), rtol=1e-6)
    assert {"cue/left", "cue/right"} <= set(reread.annotations.description)
    (fif,) = result.fif
    assert fif == tmp_path / f"session_{unique}_raw.fif"
    saved = mne.io.read_raw_fif(fif, preload=True, verbose="error")
    np.testing.assert_allclose(saved.get_data(), raw.get_data(), rtol=1e-6)
    onsets = {a["description"]: a["onset"] for a in saved.annotations}
    assert onsets["cue/left"] == pytest.approx(0.2, abs=1e-3)
    assert onsets["cue/right"] == pytest.approx(0.8, abs=1e-3)
    assert "operator: patient moved" in onsets
    assert saved.info["meas_date"] is not None
    (bids_file,) = result.bids
    assert bids_file.name == f"sub-p01_task-cues_acq-{unique.replace('-', '')}_eeg.vhdr"


def test_a_stream_loss_is_recorded_as_a_gap_and_the_recording_goes_on(tmp_path, unique):
    import mne

    events = EventLog()
    first = Player(_raw(1.0), name=unique, markers=False, wait_for_consumer=5.0).start()
    inlet = SignalInlet(find_stream(source_id=first.source_id), seconds=10.0, events=events)
    recorder = Recorder(tmp_path / "loss.xdf", [inlet], events=events).start()
    inlet.start()
    second = Player(_raw(1.0), name=unique, markers=False, wait_for_consumer=5.0)
    try:
        assert first.wait(timeout=20)
        time.sleep(0.3)
        first.stop()
        deadline = time.monotonic() + 10
        while not any(e.kind is EventKind.LOST for e in events.since(0)):
            assert time.monotonic() < deadline, "loss not reported"
            time.sleep(0.01)
        second.start()
        assert second.wait(timeout=20)
        assert inlet.buffer.wait(2 * 250 - 1, timeout=5.0)
        result = recorder.stop()
    finally:
        second.stop()
        inlet.stop()
    assert result.stop_reason == "stopped"
    saved = mne.io.read_raw_fif(result.fif[0], verbose="error")
    gaps = [a for a in saved.annotations if a["description"] == GAP_ANNOTATION]
    assert len(gaps) == 1 and gaps[0]["onset"] == pytest.approx(1.0, abs=0.01)
    assert gaps[0]["duration"] > 0.25
    texts = [a["description"] for a in saved.annotations]
    assert any(t.startswith("lost:") for t in texts) and any(
        t.startswith("resumed:") for t in texts
    )
    counts = saved.get_data(picks="count")[0] * 1e6
    np.testing.assert_allclose(counts[:250], np.arange(250), atol=1e-3)  # nothing lost before
    assert counts[-1] == pytest.approx(249, abs=1e-3)  # the second pass ends the file


class _FillingDisk:
    """A file whose disk is full after ``capacity`` bytes."""

    def __init__(self, path, capacity):
        self.file = open(path, "wb")  # noqa: SIM115
        self.capacity = capacity

    def write(self, data):
        if self.file.tell() + len(data) > self.capacity:
            self.file.write(data[: self.capacity - self.file.tell()])  # a partial write, then
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


@pytest.mark.parametrize("limit", ["disk", "max_bytes"])
def test_a_full_disk_stops_the_recording_cleanly_and_keeps_what_was_written(
    tmp_path, unique, limit
):
    import pyxdf

    raw, events = _raw(3.0), EventLog()
    player = Player(raw, name=unique, markers=False, wait_for_consumer=5.0).start()
    inlet = SignalInlet(find_stream(source_id=player.source_id), seconds=10.0, events=events)
    path = tmp_path / "full.xdf"
    options = (
        {"opener": lambda p: _FillingDisk(p, 6000)} if limit == "disk" else {"max_bytes": 6000}
    )
    recorder = Recorder(path, [inlet], events=events, flush_interval=0.1, **options).start()
    inlet.start()
    try:
        deadline = time.monotonic() + 20
        while recorder.recording:
            assert time.monotonic() < deadline, "the recording never stopped"
            time.sleep(0.02)
        assert inlet.buffer.wait(2 * 250, timeout=10.0)  # acquisition goes on
        result = recorder.stop()
    finally:
        player.stop()
        inlet.stop()
    reason = "disk full" if limit == "disk" else "size limit"
    assert result.stop_reason.startswith(reason) and result.fif == []
    assert any(reason in e.message for e in events.since(0) if e.kind is EventKind.ERROR)
    assert 0 < path.stat().st_size <= 6000 and path.stat().st_size == result.bytes_written
    streams, _ = pyxdf.load_xdf(str(path))
    (signal_stream,) = [s for s in streams if s["info"]["name"] == [unique]]
    counts = signal_stream["time_series"][:, 0] / 1e-6
    assert 10 < counts.size < raw.n_times
    np.testing.assert_allclose(counts, np.arange(counts.size) + counts[0], atol=1e-3)


def test_a_recording_killed_with_sigkill_is_readable_up_to_the_last_flush(tmp_path, sender, unique):
    import pyxdf

    from decoders.datasets.readers import read_recording

    sender(unique, "--sfreq", "500", "--chunk", "10")
    path = tmp_path / "killed.xdf"
    recording = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bci_app",
            "record",
            str(path),
            "--source-id",
            f"{unique}-sid",
            "--timeout",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = recording.stdout.readline()
        assert line.startswith("recording"), line
        time.sleep(2.0)
        os.kill(recording.pid, signal.SIGKILL)
        assert recording.wait(10) == -signal.SIGKILL
    finally:
        if recording.poll() is None:
            recording.kill()
    streams, _ = pyxdf.load_xdf(str(path))
    (received,) = [s for s in streams if s["info"]["name"] == [unique]]
    counts = received["time_series"][:, 0]
    assert counts.size >= 500  # at least one second of the two made it to disk
    np.testing.assert_array_equal(np.diff(counts), 1)
    assert "footer" not in received  # it never stopped cleanly
    raw = read_recording(path)
    assert raw.n_times == counts.size and raw.ch_names[0] == "ch1"


def test_recorder_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match=r"as \.xdf files"):
        Recorder(tmp_path / "x.fif", [])
    with pytest.raises(ValueError, match="flush_interval"):
        Recorder(tmp_path / "x.xdf", [], flush_interval=2.0)
    (tmp_path / "exists.xdf").write_bytes(b"")
    with pytest.raises(FileExistsError):
        Recorder(tmp_path / "exists.xdf", []).start()
