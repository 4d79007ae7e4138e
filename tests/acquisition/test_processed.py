import numpy as np
import pytest

from acquisition.preprocessing.pipeline import Pipeline
from acquisition.processed import ProcessedBuffer
from acquisition.ringbuffer import RingBuffer

SFREQ = 100.0
NAMES = ("a", "b", "c")


def _source(seconds=5.0):
    return RingBuffer(NAMES, ["eeg"] * 3, SFREQ, seconds)


def _write(buffer, start, stop, *, shift=0.0, data=None):
    index = np.arange(start, stop)
    values = np.vstack([index, -index, index]).astype(float) if data is None else data
    buffer.write(values, 50 + shift + index / SFREQ, arrival=1000.0 + index)


def _processed(source, spec):
    return ProcessedBuffer(source, Pipeline(spec, NAMES, ["eeg"] * 3, SFREQ))


@pytest.mark.parametrize("chunk", [7, 40], ids=["gap-between-chunks", "gap-inside-a-chunk"])
def test_source_gaps_are_marked_in_the_output_where_they_fall(chunk):
    source = _source()
    processed = _processed(source, [{"step": "pick", "channels": ["c", "a"]}])
    for start in range(0, 80, chunk):  # samples 40 to 59 are lost; the others come in chunks
        stop = min(start + chunk, 80)
        if start <= 40 < stop:
            _write(source, start, 40)
            source.mark_gap(50.39, 50.6, "stream lost")
            _write(source, 40, stop, shift=0.2)
        else:
            _write(source, start, stop, shift=0.2 if start >= 40 else 0.0)
        processed.update()
    (gap,) = processed.buffer.gaps()
    assert (gap.index, gap.before, gap.after, gap.reason) == (40, 50.39, 50.6, "stream lost")
    out = processed.buffer
    assert out.read(35, 45).gap and not out.read(0, 40).gap and not out.read(40, 80).gap
    np.testing.assert_array_equal(out.read(0, 80).data[1], np.arange(80))


def test_a_resampled_output_carries_the_gap_between_its_samples():
    source = _source()
    spec = [{"step": "resample", "sfreq_out": 50.0}]
    processed = _processed(source, spec)
    _write(source, 0, 41)
    source.mark_gap(50.4, 51.41, "stream lost")
    _write(source, 41, 101, shift=1.0)
    processed.update()
    (gap,) = processed.buffer.gaps()
    stamps = processed.buffer.read(0, processed.buffer.total).timestamps
    assert stamps[gap.index - 1] <= 50.4 + 1e-9 and stamps[gap.index + 1] > 51.41
    assert processed.buffer.read(gap.index - 3, gap.index + 3).gap


def test_non_finite_source_samples_on_read_channels_are_marked_around_their_time():
    source = _source()
    processed = _processed(source, [{"step": "pick", "channels": ["c", "a"]}])
    data = np.ones((3, 60))
    data[0, 20:23] = np.nan  # "a" is read
    data[1, 40:45] = np.inf  # "b" is not
    _write(source, 0, 60, data=data)
    processed.update()
    out = processed.buffer
    assert np.isfinite(out.read(0, 60).data).all()  # the pipeline put zeros in their place
    flagged = [start for start in range(58) if out.read(start, start + 2).non_finite]
    assert flagged == list(range(18, 24))  # samples 19 to 23: one sampling period around
    assert source.read(40, 41).non_finite  # the raw stream keeps its own marks


def test_a_consumer_that_falls_behind_restarts_the_pipeline_with_a_gap():
    source = _source(seconds=1.0)
    processed = _processed(source, [{"step": "pick", "channels": ["a"]}])
    _write(source, 0, 50)
    processed.update()
    _write(source, 50, 200)
    processed.update()
    assert processed.lost == 50
    (gap,) = processed.buffer.gaps()
    assert gap.index == 50 and gap.reason == "consumer fell behind"
