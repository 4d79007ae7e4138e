import numpy as np
import pylsl
import pytest

from acquisition.discovery import find_stream
from acquisition.events import EventKind, StreamStatus
from acquisition.inlet import MarkerInlet, SignalInlet, open_inlet
from acquisition.quality import QualitySettings

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(60)]


def _connected(inlet):
    return inlet.status is not StreamStatus.CONNECTING


def _kinds(inlet):
    return [event.kind for event in inlet.events.since(0)]


def _messages(inlet, kind):
    return [event.message for event in inlet.events.since(0) if event.kind is kind]


def test_several_streams_at_once_in_si_units_with_markers(outlet, unique, push, wait):
    eeg = outlet(f"{unique}-eeg", n_channels=8, sfreq=500.0, unit="microvolts")
    meg = outlet(f"{unique}-meg", n_channels=3, sfreq=1000.0, stype="MEG", unit="fT")
    cues = outlet(
        f"{unique}-cues", n_channels=1, sfreq=0, stype="Markers", channel_format="string", unit=None
    )
    inlets = [
        open_inlet(find_stream(source_id=f"{unique}-{kind}-sid"), seconds=5.0)
        for kind in ("eeg", "meg", "cues")
    ]
    try:
        wait(lambda: all(_connected(i) for i in inlets), what="connections")
        sent_eeg = np.concatenate([push(eeg, 50, start=k * 50) for k in range(4)])
        sent_meg = push(meg, 300)
        stamp = pylsl.local_clock()
        cues.push_sample(["go"], stamp)
        eeg_inlet, meg_inlet, cue_inlet = inlets
        wait(
            lambda: eeg_inlet.buffer.total == 200 and meg_inlet.buffer.total == 300, what="samples"
        )
        wait(lambda: cue_inlet.markers.next_seq == 1, what="the marker")
        np.testing.assert_allclose(
            eeg_inlet.buffer.latest(n_times=200).data, sent_eeg.T * 1e-6, rtol=1e-6
        )
        np.testing.assert_allclose(
            meg_inlet.buffer.latest(n_times=300).data, sent_meg.T * 1e-15, rtol=1e-6
        )
        assert (
            eeg_inlet.buffer.ch_types == ("eeg",) * 8 and meg_inlet.buffer.ch_types == ("mag",) * 3
        )
        (marker,) = cue_inlet.markers.since(0)
        assert marker.value == "go" and marker.timestamp == pytest.approx(stamp, abs=1e-3)
        assert isinstance(eeg_inlet, SignalInlet) and isinstance(cue_inlet, MarkerInlet)
    finally:
        for inlet in inlets:
            inlet.stop()
    assert all(i.status is StreamStatus.STOPPED for i in inlets)


def test_timestamps_are_on_the_pushers_clock_and_dejittered(outlet, unique, wait):
    source = outlet(unique, n_channels=2, sfreq=100.0)
    inlet = open_inlet(find_stream(source_id=f"{unique}-sid"), seconds=5.0)
    try:
        wait(lambda: _connected(inlet))
        origin = pylsl.local_clock()
        rng = np.random.default_rng(0)
        for k in range(20):  # 10-sample chunks stamped with up to 3 ms of jitter
            due = origin + (10 * k + 9) / 100.0 + rng.uniform(-3e-3, 3e-3)
            source.push_chunk(np.zeros((10, 2), dtype=np.float32), timestamp=due)
        wait(lambda: inlet.buffer.total == 200)
        stamps = inlet.buffer.latest(n_times=200).timestamps
        expected = origin + np.arange(200) / 100.0
        assert np.abs(stamps - expected).max() < 4e-3
        assert np.diff(stamps).std() < 5e-4  # the pushed chunks jump by up to 6 ms
    finally:
        inlet.stop()


@pytest.mark.parametrize("with_markers", [False, True], ids=["alone", "beside-markers"])
def test_a_killed_source_is_reported_lost_then_resumes_with_the_gap_marked(
    sender, unique, wait, with_markers
):
    extra = ("--markers",) if with_markers else ()
    process = sender(unique, "--sfreq", "250", "--chunk", "5", *extra)
    inlet = open_inlet(find_stream(source_id=f"{unique}-sid"), seconds=10.0)
    try:
        wait(lambda: inlet.buffer.total >= 100, what="first samples")
        process.kill()
        process.wait()
        wait(lambda: inlet.status is StreamStatus.LOST, what="the loss to be reported")
        before = inlet.buffer.latest(n_times=inlet.buffer.total).data[0]
        np.testing.assert_array_equal(np.diff(before), 1)  # nothing lost before the loss
        sender(unique, "--sfreq", "250", "--chunk", "5", "--start", "100000", *extra)
        wait(lambda: inlet.buffer.total >= before.size + 50, what="data after the return")
        assert inlet.status is StreamStatus.CONNECTED
        (gap,) = inlet.buffer.gaps()
        assert gap.index == before.size and gap.reason == "stream lost" and gap.duration > 0
        after = inlet.buffer.read(gap.index, gap.index + 50).data[0]
        assert after[0] >= 100000  # from the new process (its first pushes may precede us)
        np.testing.assert_array_equal(np.diff(after), 1)
        kinds = _kinds(inlet)
        assert kinds[:4] == [
            EventKind.CONNECTED,
            EventKind.LOST,
            EventKind.CONNECTED,
            EventKind.RESUMED,
        ]
        resumed = next(e for e in inlet.events.since(0) if e.kind is EventKind.RESUMED)
        assert resumed.gap == (gap.before, gap.after)
    finally:
        inlet.stop()


def test_a_source_back_with_another_shape_is_refused_and_a_compatible_one_accepted(
    outlet, unique, push, wait
):
    first = outlet(unique, n_channels=4, sfreq=250.0)
    inlet = open_inlet(find_stream(source_id=f"{unique}-sid"), seconds=5.0)
    try:
        wait(lambda: _connected(inlet))
        push(first, 20)
        wait(lambda: inlet.buffer.total == 20)
        outlet.close(first)
        del first
        wait(lambda: inlet.status is StreamStatus.LOST)
        changed = outlet(unique, n_channels=6, sfreq=500.0, source_id=f"{unique}-sid")
        wait(lambda: inlet.status is StreamStatus.INCOMPATIBLE, what="the refusal")
        (error,) = _messages(inlet, EventKind.ERROR)
        assert "sampling rate 250 Hz -> 500 Hz; channel count 4 -> 6" in error
        outlet.close(changed)
        del changed
        same = outlet(unique, n_channels=4, sfreq=250.0)
        wait(lambda: inlet.status is StreamStatus.CONNECTED, what="the compatible source")
        push(same, 10, start=1000)
        wait(lambda: inlet.buffer.total == 30)
        np.testing.assert_array_equal(inlet.buffer.latest(n_times=10).data[0], 1000 + np.arange(10))
    finally:
        inlet.stop()


def test_a_stalled_stream_is_reported_and_the_gap_marked_when_data_return(outlet, unique, wait):
    source = outlet(unique, n_channels=2, sfreq=100.0)
    inlet = SignalInlet(
        find_stream(source_id=f"{unique}-sid"), seconds=5.0, stall_timeout=0.2
    ).start()
    try:
        wait(lambda: _connected(inlet))
        now = pylsl.local_clock()
        source.push_chunk(np.zeros((10, 2), dtype=np.float32), timestamp=now)
        wait(lambda: inlet.status is StreamStatus.STALLED, what="the stall")
        source.push_chunk(np.ones((10, 2), dtype=np.float32), timestamp=now + 1.0)
        wait(lambda: inlet.buffer.total == 20)
        (gap,) = inlet.buffer.gaps()
        assert gap.index == 10 and gap.reason == "stream stalled"
        assert gap.duration == pytest.approx(0.91, abs=0.02)
        assert EventKind.STALLED in _kinds(inlet) and EventKind.RESUMED in _kinds(inlet)
    finally:
        inlet.stop()


def test_nan_samples_and_backward_timestamps_are_warned_and_acquisition_goes_on(
    outlet, unique, wait
):
    source = outlet(unique, n_channels=3, sfreq=100.0)
    inlet = open_inlet(find_stream(source_id=f"{unique}-sid"), seconds=5.0)
    try:
        wait(lambda: _connected(inlet))
        now = pylsl.local_clock()
        values = np.zeros((10, 3), dtype=np.float32)
        values[4, 1] = np.nan
        source.push_chunk(values, timestamp=now)
        source.push_chunk(np.ones((10, 3), dtype=np.float32), timestamp=now - 0.05)
        wait(lambda: inlet.buffer.total == 20)
        warnings = _messages(inlet, EventKind.WARNING)
        assert any("NaN or Inf samples on 1 channels (C1)" in w for w in warnings)
        assert any("timestamps went backward" in w for w in warnings)
        assert np.isnan(inlet.buffer.latest(n_times=20).data[1, 4])  # kept as it came
        assert np.all(np.diff(inlet.buffer.latest(n_times=20).timestamps) > 0)
    finally:
        inlet.stop()


def test_jumps_inside_one_chunk_are_split_marked_and_times_stay_monotonic(outlet, unique, wait):
    source = outlet(unique, n_channels=1, sfreq=100.0)
    inlet = open_inlet(find_stream(source_id=f"{unique}-sid"), seconds=5.0)
    try:
        wait(lambda: _connected(inlet))
        now = pylsl.local_clock()
        stamps = now + np.arange(30) / 100.0
        stamps[10:] += 0.5  # 0.5 s of samples missing after the 10th
        stamps[20:] -= 2.0  # then the sender's clock goes back 2 s
        source.push_chunk(np.arange(30, dtype=np.float32)[:, None], timestamp=list(stamps))
        wait(lambda: inlet.buffer.total == 30)
        (gap,) = inlet.buffer.gaps()
        assert gap.index == 10 and gap.reason == "timestamp jump"
        assert gap.duration == pytest.approx(0.51, abs=1e-3)
        held = inlet.buffer.latest(n_times=30).timestamps
        assert np.all(np.diff(held) > 0)
        assert held[20] - held[19] == pytest.approx(0.01, abs=1e-3)  # continues after the reset
        assert any("jumped back by 2" in m for m in _messages(inlet, EventKind.WARNING))
    finally:
        inlet.stop()


def test_numeric_markers_become_text_with_a_warning(outlet, unique, wait):
    source = outlet(
        unique, n_channels=2, sfreq=0, stype="Markers", channel_format="int32", unit=None
    )
    inlet = open_inlet(find_stream(source_id=f"{unique}-sid"))
    try:
        wait(lambda: _connected(inlet))
        source.push_sample([7, -2])
        wait(lambda: inlet.markers.next_seq == 1)
        assert inlet.markers.since(0)[0].value == "7|-2"
        assert any("int32 numbers, not text" in w for w in _messages(inlet, EventKind.WARNING))
    finally:
        inlet.stop()


def test_a_failing_consumer_is_reported_and_does_not_stop_the_inlet(outlet, unique, push, wait):
    class Broken:
        def samples(self, inlet, values, timestamps):
            raise RuntimeError("disk unplugged")

        def clock_offset(self, inlet, time, offset):
            """Accept offsets."""

    source = outlet(unique, n_channels=2, sfreq=100.0)
    inlet = open_inlet(find_stream(source_id=f"{unique}-sid"))
    inlet.add_sink(Broken())
    try:
        wait(lambda: _connected(inlet))
        push(source, 10)
        push(source, 10, start=10)
        wait(lambda: inlet.buffer.total == 20)  # the second chunk came after the failure
        assert any("disk unplugged" in m for m in _messages(inlet, EventKind.ERROR))
    finally:
        inlet.stop()


def test_quality_flags_are_updated_live(outlet, unique, wait):
    source = outlet(unique, n_channels=3, sfreq=250.0)
    settings = QualitySettings(window=1.0)  # one report per 250 samples
    inlet = SignalInlet(find_stream(source_id=f"{unique}-sid"), quality=settings).start()
    try:
        wait(lambda: _connected(inlet))
        rng = np.random.default_rng(0)
        values = np.zeros((500, 3), dtype=np.float32)
        values[:, 0] = rng.normal(0, 10e-6, 500)  # good
        values[:, 1] = 1e-3  # flat
        values[:, 2] = rng.normal(0, 10e-6, 500) + np.where(np.arange(500) >= 300, 2e-3, 0)
        source.push_chunk(values[:250])
        wait(lambda: inlet.quality is not None, what="the first report")
        assert inlet.quality.bad_channels == ["C1"] and inlet.quality.reasons("C1") == ["flat"]
        first = inlet.quality
        source.push_chunk(values[250:])
        wait(lambda: inlet.quality is not first, what="the second report")
        assert inlet.quality.bad_channels == ["C1", "C2"]
        assert inlet.quality.reasons("C2") == ["out of range", "jump"]  # a 2 mV step
    finally:
        inlet.stop()


def test_signal_and_marker_inlets_refuse_the_other_kind(outlet, unique):
    outlet(unique, n_channels=1, sfreq=0, stype="Markers", channel_format="string", unit=None)
    outlet(f"{unique}-text", n_channels=1, sfreq=100.0, channel_format="string", unit=None)
    with pytest.raises(ValueError, match="irregular"):
        SignalInlet(find_stream(source_id=f"{unique}-sid"))
    with pytest.raises(ValueError, match="regular stream of text"):
        SignalInlet(find_stream(source_id=f"{unique}-text-sid"))
    with pytest.raises(ValueError, match="not markers"):
        MarkerInlet(find_stream(source_id=f"{unique}-text-sid"))


def test_an_electrode_pop_is_reported_as_an_artefact_event(outlet, unique, wait):
    source = outlet(unique, n_channels=2, sfreq=200.0)
    inlet = open_inlet(find_stream(source_id=f"{unique}-sid"), seconds=5.0)
    try:
        wait(lambda: _connected(inlet))
        rng = np.random.default_rng(0)
        values = (rng.normal(size=(400, 2)) * 5e-6).astype(np.float32)
        values[250:, 1] += 1e-3  # a 1 mV step on C1
        source.push_chunk(values, timestamp=pylsl.local_clock())
        wait(lambda: inlet.buffer.total == 400)
        artefacts = [m for m in _messages(inlet, EventKind.WARNING) if "artefacts" in m]
        assert artefacts == ["artefacts jump: C1"]
    finally:
        inlet.stop()
