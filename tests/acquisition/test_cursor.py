import numpy as np

from acquisition.cursor import SampleCursor
from acquisition.ringbuffer import RingBuffer


def _write(buffer, start, n):
    buffer.write(
        np.arange(start, start + n, dtype=float)[None], np.arange(start, start + n) * 0.1, 0.0
    )


def test_every_sample_is_read_once_in_order():
    buffer = RingBuffer(["a"], ["eeg"], 10.0, 1.0)
    cursor = SampleCursor(buffer)
    seen = []
    for start in range(0, 40, 7):
        _write(buffer, start, 7)
        seen.append(cursor.read().data[0])
    assert cursor.read().n_times == 0
    np.testing.assert_array_equal(np.concatenate(seen), np.arange(42))
    assert cursor.lost == 0


def test_a_reader_that_falls_behind_counts_what_it_lost():
    buffer = RingBuffer(["a"], ["eeg"], 10.0, 1.0)
    cursor = SampleCursor(buffer)
    _write(buffer, 0, 25)
    chunk = cursor.read()
    assert cursor.lost == 15
    np.testing.assert_array_equal(chunk.data[0], np.arange(15, 25))


def test_from_start_and_max_samples():
    buffer = RingBuffer(["a"], ["eeg"], 10.0, 1.0)
    _write(buffer, 0, 6)
    cursor = SampleCursor(buffer, from_start=True)
    assert cursor.read(max_samples=4).data[0].tolist() == [0, 1, 2, 3]
    assert cursor.read().data[0].tolist() == [4, 5]
    assert SampleCursor(buffer).read().n_times == 0
