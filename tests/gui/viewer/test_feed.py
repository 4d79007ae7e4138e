import time

import numpy as np
import pytest

from acquisition.ringbuffer import RingBuffer
from gui.viewer.feed import DisplayFeed, DisplaySettings, _min_max


def _buffer(n_channels=4, sfreq=100.0, seconds=60.0):
    return RingBuffer([f"E{i}" for i in range(n_channels)], ["eeg"] * n_channels, sfreq, seconds)


def _write(buffer, data, start=0):
    stamps = (start + np.arange(data.shape[1])) / buffer.sfreq
    buffer.write(data.astype(np.float32), stamps, 0.0)


def _wait(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_min_max_keeps_each_columns_extremes_and_the_newest_partial_column():
    rng = np.random.default_rng(0)
    segment = rng.standard_normal((3, 23)).astype(np.float32)
    times, traces = _min_max(segment, first=100, drawn=123, width=5, sfreq=10.0)
    assert traces.shape == (3, 10) and times.shape == (10,)  # 4 full columns + 1 partial
    for column in range(5):
        block = segment[:, column * 5 : column * 5 + 5]
        np.testing.assert_array_equal(traces[:, 2 * column], block.min(axis=1))
        np.testing.assert_array_equal(traces[:, 2 * column + 1], block.max(axis=1))
    assert times[-1] == pytest.approx(-0.1)  # the partial column 120..122 centres on 121
    assert np.all(np.diff(times) >= 0) and times[-1] <= 0


def test_frames_follow_the_stream_and_never_change_the_buffer():
    buffer = _buffer(sfreq=250.0)
    data = np.random.default_rng(1).standard_normal((4, 500)) * 1e-5
    _write(buffer, data)
    before = buffer.read(0, 500).data.copy()
    feed = DisplayFeed(
        buffer, DisplaySettings(window_s=5.0, channels=(0, 2), bandpass=(1.0, 20.0), notch=50.0)
    ).start()
    try:
        _wait(lambda: feed.latest is not None and feed.latest.drawn == 500)
        frame = feed.latest
        assert frame.channels == (0, 2) and frame.traces.shape[0] == 2
        assert frame.received == 500 and frame.problem is None
        _write(buffer, data[:, :100], start=500)
        _wait(lambda: feed.latest.drawn == 600)
        assert feed.latest.times[-1] == pytest.approx(0.0, abs=0.02)
        assert feed.latest.times[0] >= -2.4 - 0.05  # 600 samples at 250 Hz held
    finally:
        feed.stop()
    np.testing.assert_array_equal(buffer.read(0, 500).data, before)


def test_traces_without_filters_are_the_raw_values_centred():
    buffer = _buffer(n_channels=1)
    ramp = np.arange(400, dtype=float)[None, :] * 1e-6
    _write(buffer, ramp)
    feed = DisplayFeed(buffer, DisplaySettings(window_s=4.0, channels=(0,), points=800)).start()
    try:
        _wait(lambda: feed.latest is not None and feed.latest.drawn == 400)
        traces = feed.latest.traces[0]
        assert np.ptp(traces) == pytest.approx(399e-6, rel=1e-4)
        assert np.median(traces) == pytest.approx(0.0, abs=1e-6)
    finally:
        feed.stop()


def test_common_average_on_too_few_channels_turns_filters_off_and_says_why():
    buffer = RingBuffer(["E0", "X"], ["eeg", "misc"], 100.0, 10.0)
    _write(buffer, np.zeros((2, 100)))
    feed = DisplayFeed(buffer, DisplaySettings(reference="car", channels=(0,))).start()
    try:
        _wait(lambda: feed.latest is not None)
        assert "display filters off" in feed.latest.problem
        feed.configure(reference="none")
        _wait(lambda: feed.latest.problem is None)
    finally:
        feed.stop()


def test_spectrum_overview_and_gaps_come_with_the_frame():
    buffer = _buffer(sfreq=200.0)
    t = np.arange(800) / 200.0
    data = np.vstack([np.sin(2 * np.pi * 10 * t) * 1e-5] * 4)
    _write(buffer, data)
    buffer.mark_gap(799 / 200.0, 1000 / 200.0, "stream lost")
    _write(buffer, data[:, :200], start=1000)
    feed = DisplayFeed(
        buffer, DisplaySettings(window_s=5.0, channels=(1,), spectrum=True, overview=True)
    ).start()
    try:
        _wait(lambda: feed.latest is not None and feed.latest.spectrum is not None)
        _wait(lambda: feed.latest.overview is not None)
        frame = feed.latest
        freqs, psd = frame.spectrum
        assert freqs[np.argmax(psd[0])] == pytest.approx(10.0, abs=1.0)
        assert frame.overview.shape[0] == 4
        ((position, missing, reason),) = frame.gaps
        assert position == pytest.approx(-1.0, abs=0.01) and reason == "stream lost"
        assert missing == pytest.approx(1.005, abs=0.01)
    finally:
        feed.stop()
