"""A stream loss inside a marker-locked window, over real LSL: flagged, counted, nothing shifted.

The signal outlet is destroyed in the middle of a marker's window and created again with the
same source id; the engine's inlet reconnects. The window of that marker must come out
flagged (runner counts, prediction, log, session report) and the windows of the markers
after the return must start at their marker.
"""

from __future__ import annotations

import json
import re
import threading
import time

import numpy as np
import pytest

from acquisition.epochs import EpochStream
from acquisition.events import StreamStatus
from bci_app.inference.engine import InferenceEngine
from bci_app.models.registry import ModelRegistry
from bci_app.session.metadata import SessionInfo
from bci_app.session.report import write_report

pytestmark = [pytest.mark.lsl, pytest.mark.slow, pytest.mark.timeout(180)]

SFREQ = 128.0
N_TIMES = 128  # the toy models' window: one second
CHANNELS = tuple(f"C{i}" for i in range(8))
CHUNK = 4
UNIT = 1e-6  # channel 0 carries each sample's number in microvolts


class _KillableSource:
    """An outlet pushing in real time from a thread, which can die and come back.

    Sample ``k`` is stamped ``origin + k / SFREQ`` and carries ``k`` on its first channel.
    After sample ``kill_at`` it stops sending (:attr:`paused`) until :meth:`kill` destroys
    the outlet, so that the test can let the inlet receive every sample sent before the loss
    (destroying an outlet drops what it has not delivered yet). While paused or dead the
    clock goes on and its samples are never sent.
    """

    def __init__(self, name: str) -> None:
        import pylsl

        from acquisition.streaminfo import build_stream_info

        self.info = build_stream_info(
            name, "EEG", CHANNELS, ["eeg"] * len(CHANNELS), SFREQ, source_id=name
        )
        self.origin = pylsl.local_clock()
        self.next = 0  # number of the next sample due
        self.last_sent = -1
        self.kill_at: int | None = None
        self.paused = False
        self._outlet = pylsl.StreamOutlet(self.info, chunk_size=CHUNK)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._noise = np.random.default_rng(0)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def time_of(self, index: int) -> float:
        return self.origin + index / SFREQ

    def kill(self) -> None:
        """Destroy the outlet (its only reference: liblsl destroys it)."""
        with self._lock:
            self._outlet = None

    def restart(self) -> None:
        """Create the outlet again, with the same source id, and send again."""
        import pylsl

        with self._lock:
            self._outlet = pylsl.StreamOutlet(self.info, chunk_size=CHUNK)
            self.paused = False

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        with self._lock:
            self._outlet = None

    def _run(self) -> None:
        import pylsl

        while not self._stop.is_set():
            first = self.next
            due = self.time_of(first + CHUNK - 1)
            time.sleep(max(0.0, due - pylsl.local_clock()))
            self._push(first, due)
            self.next = first + CHUNK

    def _push(self, first: int, due: float) -> None:
        values = (self._noise.standard_normal((CHUNK, len(CHANNELS))) * 10e-6).astype(np.float32)
        values[:, 0] = (first + np.arange(CHUNK)) * UNIT
        with self._lock:
            if self._outlet is None or self.paused:
                return
            self._outlet.push_chunk(values, timestamp=due)
            self.last_sent = first + CHUNK - 1
            if self.kill_at is not None and self.last_sent >= self.kill_at:
                self.kill_at = None
                self.paused = True


def _marker_outlet(name: str):
    import pylsl

    info = pylsl.StreamInfo(name, "Markers", 1, 0.0, "string", name)
    return pylsl.StreamOutlet(info)


def _with_gaps(report: str, runner: str) -> int:
    """Return the 'with gaps' cell of a runner's row in the report's decoder table."""
    row = re.search(rf"<tr><td>{runner}</td>(.*?)</tr>", report)
    assert row, f"no row of {runner} in the report"
    return int(re.findall(r"<td>(.*?)</td>", row.group(1))[-1])


def test_a_loss_inside_a_marker_locked_window_is_flagged_and_nothing_after_it_is_shifted(
    tmp_path, model_files, stream_name, wait_for
):
    registry = ModelRegistry(tmp_path / "models")
    registry.register(model_files["band"], "toy")  # a pipeline: the processed buffer's path
    folder = tmp_path / "session"
    SessionInfo("P020", "gaps").save(folder)
    source = _KillableSource(stream_name)
    cues = _marker_outlet(f"{stream_name}-cues")
    made = []
    engine = InferenceEngine(
        registry, log_path=folder / "predictions-toy-01.jsonl", stream_timeout=30.0
    )
    try:
        runner = engine.add(stream_name, "toy", markers=f"{stream_name}-cues", name="toy")
        engine.subscribe(made.append)
        signal = engine.session.inlets[stream_name]
        markers = engine.session.inlets[f"{stream_name}-cues"]
        # A second consumer of the same streams, to look at the windows themselves.
        windows = EpochStream(signal.buffer, markers.markers, tmin=0.0, tmax=N_TIMES / SFREQ)
        seen = {}
        engine.start()
        wait_for(
            lambda: signal.buffer.total > 0 and markers.status is StreamStatus.CONNECTED,
            timeout=30.0,
            what="both streams",
        )

        def mark(value: str, index: int) -> None:
            onsets[value] = index
            cues.push_sample([value], source.time_of(index))

        def decoded(value: str) -> bool:
            seen.update((w.marker.value, w) for w in windows.read())
            return value in seen and any(p.marker == value for p in made)

        onsets: dict[str, int] = {}
        mark("before", source.next + 16)  # markers a little ahead of the samples
        wait_for(lambda: decoded("before"), timeout=30.0, what="the window before the loss")

        index = source.next + 16
        source.kill_at = index + 47  # the outlet dies after 48 samples of the window
        mark("across", index)
        wait_for(lambda: source.paused, timeout=30.0, what="the last samples before the loss")
        last = source.time_of(source.last_sent)
        wait_for(
            lambda: signal.buffer.latest(n_times=1).timestamps[-1] >= last - 0.5 / SFREQ,
            timeout=30.0,
            what="the inlet to receive them",
        )
        source.kill()
        wait_for(
            lambda: signal.status in (StreamStatus.LOST, StreamStatus.STALLED),
            timeout=30.0,
            what="the loss to be noticed",
        )
        dead_from = source.next
        wait_for(lambda: source.next >= dead_from + 32, timeout=30.0, what="a quarter second")
        source.restart()
        wait_for(lambda: signal.buffer.gaps(), timeout=30.0, what="the return, gap marked")
        wait_for(lambda: decoded("across"), timeout=30.0, what="the window across the loss")

        mark("after", source.next + 16)
        mark("later", onsets["after"] + 40)
        wait_for(lambda: decoded("after") and decoded("later"), timeout=30.0, what="the rest")
    finally:
        engine.stop()
        source.close()

    # The window across the loss: its 48 samples before the loss, then samples after it.
    across = seen["across"]
    counts = np.round(across.data[0] / UNIT).astype(int)
    assert across.gap and counts[0] == onsets["across"] and np.diff(counts).max() > 1
    assert counts[47] == onsets["across"] + 47 and counts[48] > onsets["across"] + 48
    # The others start at their marker, within a sample, with consecutive samples.
    for value in ("before", "after", "later"):
        window = seen[value]
        counts = np.round(window.data[0] / UNIT).astype(int)
        assert not window.gap, value
        assert abs(window.first_time - window.marker.timestamp) < 1 / SFREQ, value
        np.testing.assert_array_equal(counts, onsets[value] + np.arange(N_TIMES))
    # The runner: the flagged window is decoded, published flagged and counted.
    by_marker = {p.marker: p for p in made}
    assert sorted(by_marker) == ["across", "after", "before", "later"]
    assert [by_marker[v].gap for v in ("before", "across", "after", "later")] == [
        False,
        True,
        False,
        False,
    ]
    assert runner.counts.gaps == 1 and runner.counts.published == 4
    for value in ("before", "after", "later"):
        prediction = by_marker[value]
        offset = prediction.timestamp - prediction.marker_time
        assert abs(offset - (N_TIMES - 1) / SFREQ) < 1 / SFREQ, value
    logged = [json.loads(line) for line in (folder / "predictions-toy-01.jsonl").open()]
    flags = {e["marker"]: e["gap"] for e in logged if e["kind"] == "prediction"}
    assert flags == {"before": False, "across": True, "after": False, "later": False}
    report = write_report(folder).read_text()
    assert _with_gaps(report, "toy") == 1
