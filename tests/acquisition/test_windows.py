import threading

import numpy as np
import pytest

from acquisition.preprocessing.pipeline import Pipeline
from acquisition.ringbuffer import BufferRangeError, RingBuffer
from acquisition.windows import WindowStream

SFREQ = 100.0


def _buffer(seconds=2.0, n_channels=3):
    return RingBuffer([f"c{i}" for i in range(n_channels)], ["eeg"] * n_channels, SFREQ, seconds)


def _signal(n_times, n_channels=3):
    return np.random.default_rng(0).standard_normal((n_channels, n_times))


def _write(buffer, data, start, stop):
    buffer.write(data[:, start:stop], 50 + np.arange(start, stop) / SFREQ, arrival=7.0 + stop)


def test_windows_have_the_given_length_hop_and_last_sample_time():
    buffer, data = _buffer(), _signal(300)
    stream = WindowStream(buffer, n_times=40, hop=15)
    windows = []
    for start in range(0, 300, 23):
        _write(buffer, data, start, min(start + 23, 300))
        windows.extend(stream.read())
    stops = [w.stop for w in windows]
    assert stops == list(range(40, 301, 15))
    for window in windows:
        np.testing.assert_array_equal(
            window.data, data[:, window.stop - 40 : window.stop].astype(np.float32)
        )
        assert window.last_time == pytest.approx(50 + (window.stop - 1) / SFREQ)
        assert window.first_time == pytest.approx(50 + (window.stop - 40) / SFREQ)
        assert window.arrival >= 7.0 + window.stop and not window.gap and not window.non_finite


def test_drop_to_newest_hands_out_only_the_latest_window_and_counts_the_rest():
    buffer, data = _buffer(), _signal(150)
    stream = WindowStream(buffer, n_times=20, hop=10, drop_to_newest=True)
    _write(buffer, data, 0, 75)
    windows = stream.read()
    assert [w.stop for w in windows] == [70] and stream.dropped == 5
    _write(buffer, data, 75, 95)
    assert [w.stop for w in stream.read()] == [90] and stream.dropped == 6


def test_windows_overwritten_before_they_are_read_are_counted_as_dropped():
    buffer, data = _buffer(seconds=0.5), _signal(200)
    stream = WindowStream(buffer, n_times=20, hop=20)
    _write(buffer, data, 0, 200)
    assert [w.stop for w in stream.read()] == [180, 200]
    assert stream.dropped == 8


def test_a_window_spanning_a_gap_is_flagged():
    buffer, data = _buffer(), _signal(100)
    stream = WindowStream(buffer, n_times=20, hop=20)
    _write(buffer, data, 0, 30)
    buffer.mark_gap(50 + 29 / SFREQ, 50 + 30 / SFREQ + 1.0, "stream lost")
    buffer.write(data[:, 30:60], 51 + np.arange(30, 60) / SFREQ, arrival=0.0)
    assert [(w.stop, w.gap) for w in stream.read()] == [(20, False), (40, True), (60, False)]


def test_a_window_spanning_a_gap_of_the_raw_stream_is_flagged_through_a_pipeline():
    buffer, data = _buffer(), _signal(100)
    spec = [{"step": "bandpass", "l_freq": 1.0, "h_freq": 20.0}]
    pipeline = Pipeline(spec, buffer.ch_names, buffer.ch_types, SFREQ)
    stream = WindowStream(buffer, n_times=20, hop=20, pipeline=pipeline)
    _write(buffer, data, 0, 30)
    buffer.mark_gap(50 + 29 / SFREQ, 51 + 30 / SFREQ, "stream lost")
    buffer.write(data[:, 30:60], 51 + np.arange(30, 60) / SFREQ, arrival=0.0)
    assert [(w.stop, w.gap) for w in stream.read()] == [(20, False), (40, True), (60, False)]


def test_windows_carry_the_arrival_of_their_last_sample_and_its_time():
    buffer, data = _buffer(), _signal(60)
    stream = WindowStream(buffer, n_times=20, hop=10)
    for index in range(60):
        buffer.write(data[:, index : index + 1], np.array([50 + index / SFREQ]), 7.0 + index)
    windows = stream.read()
    assert [w.arrival for w in windows] == [7.0 + w.stop - 1 for w in windows]
    assert [w.first_time for w in windows] == [50 + (w.stop - 20) / SFREQ for w in windows]


@pytest.mark.parametrize(
    ("preprocessed", "flagged"), [(False, [50, 60]), (True, [50, 60, 70])], ids=["raw", "pipeline"]
)
def test_windows_with_a_non_finite_sample_are_flagged(preprocessed, flagged):
    buffer, data = _buffer(), _signal(100)
    data[2, 49] = np.nan
    spec = [
        {"step": "pick", "channels": ["c2", "c0"]},
        {"step": "bandpass", "l_freq": 1.0, "h_freq": 20.0},
    ]
    pipeline = Pipeline(spec, buffer.ch_names, buffer.ch_types, SFREQ) if preprocessed else None
    stream = WindowStream(buffer, n_times=20, hop=10, pipeline=pipeline)
    _write(buffer, data, 0, 100)
    windows = stream.read()
    # Through a pipeline, which zeroes the NaN, its neighbours within a period count too.
    assert [w.stop for w in windows if w.non_finite] == flagged
    assert all(np.isfinite(w.data).all() for w in windows if not w.non_finite)


def test_a_non_finite_sample_on_a_channel_the_pipeline_drops_flags_nothing():
    buffer, data = _buffer(), _signal(100)
    data[1, 45] = np.inf
    spec = [{"step": "pick", "channels": ["c2", "c0"]}]
    pipeline = Pipeline(spec, buffer.ch_names, buffer.ch_types, SFREQ)
    stream = WindowStream(buffer, n_times=20, hop=10, pipeline=pipeline)
    _write(buffer, data, 0, 100)
    assert not any(w.non_finite for w in stream.read())


def test_windows_through_a_pipeline_equal_the_offline_result():
    spec = [
        {"step": "bandpass", "l_freq": 1.0, "h_freq": 20.0},
        {"step": "resample", "sfreq_out": 50.0},
    ]
    buffer, data = _buffer(), _signal(400)
    pipeline = Pipeline(spec, buffer.ch_names, buffer.ch_types, SFREQ)
    stream = WindowStream(buffer, n_times=25, hop=10, pipeline=pipeline)
    assert stream.sfreq == 50.0 and stream.ch_names == buffer.ch_names
    windows = []
    for start in range(0, 400, 17):
        _write(buffer, data, start, min(start + 17, 400))
        windows.extend(stream.read())
    offline = Pipeline(spec, buffer.ch_names, buffer.ch_types, SFREQ).process(
        data.astype(np.float32)
    )
    assert [w.stop for w in windows] == list(range(25, 201, 10))
    for window in windows:
        np.testing.assert_allclose(
            window.data, offline[:, window.stop - 25 : window.stop], rtol=1e-5, atol=1e-6
        )
        # Output sample k of the 2:1 resampler is input sample 2k: its timestamp.
        assert window.last_time == pytest.approx(50 + 2 * (window.stop - 1) / SFREQ)


def test_wait_blocks_until_a_window_is_ready():
    buffer, data = _buffer(), _signal(50)
    stream = WindowStream(buffer, n_times=30, hop=30)
    assert stream.wait(0.01) == []
    timer = threading.Timer(0.05, _write, (buffer, data, 0, 50))
    timer.start()
    windows = stream.wait(5.0)
    timer.join()
    assert [w.stop for w in windows] == [30]


def test_windows_longer_than_the_buffer_are_refused():
    with pytest.raises(BufferRangeError, match="do not fit"):
        WindowStream(_buffer(seconds=1.0), n_times=101, hop=10)
    with pytest.raises(ValueError, match="at least 1"):
        WindowStream(_buffer(), n_times=10, hop=0)
