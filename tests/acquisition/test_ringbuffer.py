import threading

import numpy as np
import pytest

from acquisition.ringbuffer import BufferRangeError, RingBuffer


def _buffer(seconds=1.0, sfreq=10.0, n_channels=2):
    names = [f"c{i}" for i in range(n_channels)]
    return RingBuffer(names, ["eeg"] * n_channels, sfreq, seconds)


def _write(buffer, start, n):
    data = np.vstack([np.arange(start, start + n)] * buffer.n_channels).astype(float)
    buffer.write(data, 100 + np.arange(start, start + n) / buffer.sfreq, arrival=5.0 + start)


def test_reads_across_the_wrap_around_return_samples_in_order():
    buffer = _buffer()  # 10 samples
    for start in range(0, 27, 3):
        _write(buffer, start, 3)
    assert buffer.total == 27 and buffer.oldest == 17
    chunk = buffer.read(18, 25)
    np.testing.assert_array_equal(chunk.data[0], np.arange(18, 25))
    np.testing.assert_allclose(chunk.timestamps, 100 + np.arange(18, 25) / 10)
    assert chunk.start == 18 and chunk.stop == 25
    latest = buffer.latest(n_times=4)
    np.testing.assert_array_equal(latest.data[1], np.arange(23, 27))
    np.testing.assert_array_equal(latest.arrivals, [5.0 + 21, 5.0 + 24, 5.0 + 24, 5.0 + 24])


def test_a_chunk_longer_than_the_buffer_keeps_its_end():
    buffer = _buffer()
    _write(buffer, 0, 25)
    assert buffer.total == 25
    np.testing.assert_array_equal(buffer.latest(1.0).data[0], np.arange(15, 25))


def test_asking_for_more_than_the_buffer_holds_is_a_clear_error():
    buffer = _buffer(seconds=1.0)
    with pytest.raises(BufferRangeError, match="holds 1 s"):
        buffer.latest(2.0)
    _write(buffer, 0, 15)
    with pytest.raises(BufferRangeError, match="overwritten"):
        buffer.read(2, 8)
    with pytest.raises(BufferRangeError, match="not available"):
        buffer.read(10, 20)
    assert buffer.latest(0.5).n_times == 5


def test_latest_returns_what_exists_before_the_buffer_fills():
    buffer = _buffer()
    assert buffer.latest(1.0).n_times == 0
    _write(buffer, 0, 3)
    assert buffer.latest(1.0).n_times == 3


def test_gaps_are_kept_while_their_samples_are_held():
    buffer = _buffer()
    _write(buffer, 0, 5)
    gap = buffer.mark_gap(100.4, 101.0, "stream lost")
    assert gap.index == 5 and gap.duration == pytest.approx(0.6)
    _write(buffer, 5, 5)
    assert buffer.gaps() == [gap]
    _write(buffer, 10, 10)
    assert buffer.gaps() == []


def test_index_of_finds_samples_by_time():
    buffer = _buffer()
    _write(buffer, 0, 14)
    assert buffer.index_of(100.55) == 6
    assert buffer.index_of(0.0) == buffer.oldest
    assert buffer.index_of(1e9) == 14


def test_index_of_finds_samples_by_time_across_a_gap():
    buffer = _buffer(seconds=2.0)
    _write(buffer, 0, 5)
    buffer.mark_gap(100.4, 101.0, "stream lost")
    buffer.write(np.zeros((2, 5)), 101.0 + np.arange(5) / 10, arrival=0.0)
    assert buffer.index_of(100.35) == 4
    assert buffer.index_of(100.7) == 5  # inside the gap: the first sample after it
    assert buffer.index_of(101.15) == 7  # after it: by time, not by count from the start


def test_reads_say_whether_a_gap_lies_between_their_samples():
    buffer = _buffer(seconds=2.0)
    _write(buffer, 0, 5)
    buffer.mark_gap(100.4, 101.0, "stream lost")
    _write(buffer, 5, 5)
    assert buffer.read(3, 7).gap and buffer.read(4, 6).gap
    assert not buffer.read(0, 5).gap and not buffer.read(5, 10).gap  # ends at, starts at it
    assert buffer.latest(n_times=6).gap and not buffer.latest(n_times=5).gap


def test_non_finite_stretches_are_marked_on_write_and_by_the_writer():
    buffer = _buffer(seconds=2.0)
    data = np.zeros((2, 12))
    data[1, 3:5] = np.nan
    data[0, 8] = np.inf
    buffer.write(data, 100 + np.arange(12) / 10, arrival=0.0)
    flagged = [start for start in range(10) if buffer.read(start, start + 2).non_finite]
    assert flagged == [2, 3, 4, 7, 8]
    buffer.mark_non_finite(101.05, 101.15)  # between samples 10 and 11, up to 11
    assert buffer.read(11, 12).non_finite and not buffer.read(9, 10).non_finite


def test_non_finite_marks_go_with_their_samples():
    buffer = _buffer(seconds=1.0)
    data = np.zeros((2, 5))
    data[0, 1] = np.nan
    buffer.write(data, 100 + np.arange(5) / 10, arrival=0.0)
    assert buffer.latest(n_times=5).non_finite
    _write(buffer, 5, 7)  # sample 1 is overwritten
    assert not buffer.latest(n_times=10).non_finite


def test_wait_wakes_up_when_the_sample_arrives():
    buffer = _buffer()
    assert not buffer.wait(0, timeout=0.01)
    timer = threading.Timer(0.05, _write, (buffer, 0, 2))
    timer.start()
    assert buffer.wait(1, timeout=5.0)
    timer.join()


def test_rejects_mismatched_shapes():
    buffer = _buffer()
    with pytest.raises(ValueError, match="expected"):
        buffer.write(np.zeros((3, 4)), np.zeros(4), 0.0)
    with pytest.raises(ValueError, match="regular"):
        RingBuffer(["a"], ["eeg"], 0.0, 1.0)
