import numpy as np
import pytest

from acquisition.epochs import EpochStream
from acquisition.markers import MarkerBuffer
from acquisition.ringbuffer import RingBuffer

SFREQ = 100.0
T0 = 1000.0


def _setup(seconds=5.0):
    buffer = RingBuffer(["a", "b"], ["eeg", "eeg"], SFREQ, seconds)
    return buffer, MarkerBuffer("cues")


def _write(buffer, start, stop):
    index = np.arange(start, stop)
    buffer.write(np.vstack([index, -index]).astype(float), T0 + index / SFREQ, arrival=0.0)


def test_markers_before_and_after_their_samples_give_the_same_epochs():
    buffer, markers = _setup()
    epochs = EpochStream(buffer, markers, tmin=-0.1, tmax=0.3)
    _write(buffer, 0, 100)
    markers.add([T0 + 0.5], ["late"], arrival=0.0)  # its samples are already here
    markers.add([T0 + 1.5], ["early"], arrival=0.0)  # its samples are still to come
    first = epochs.read()
    assert [e.marker.value for e in first] == ["late"]
    _write(buffer, 100, 160)
    assert epochs.read() == []  # "early" needs samples up to 1.8 s
    _write(buffer, 160, 200)
    second = epochs.read()
    assert [e.marker.value for e in second] == ["early"]
    for epoch, onset in ((first[0], 50), (second[0], 150)):
        np.testing.assert_array_equal(epoch.data[0], np.arange(onset - 10, onset + 30))
        relative = epoch.timestamps - epoch.marker.timestamp
        assert relative[0] == pytest.approx(-0.1) and relative.size == 40


def test_marker_between_samples_starts_at_the_nearest_sample():
    buffer, markers = _setup()
    epochs = EpochStream(buffer, markers, tmin=0.0, tmax=0.1)
    _write(buffer, 0, 100)
    markers.add([T0 + 0.5038], ["x"], arrival=0.0)
    (epoch,) = epochs.read()
    assert epoch.data[0, 0] == 50


def test_markers_whose_samples_are_gone_are_listed_as_missed():
    buffer, markers = _setup(seconds=1.0)
    epochs = EpochStream(buffer, markers, tmin=0.0, tmax=0.2, values={"go"})
    _write(buffer, 50, 300)
    markers.add([T0 + 0.1, T0 + 2.5, T0 + 2.6], ["go", "go", "ignored"], arrival=0.0)
    assert [e.marker.timestamp for e in epochs.read()] == [pytest.approx(T0 + 2.5)]
    assert [m.timestamp for m in epochs.missed] == [pytest.approx(T0 + 0.1)]


def test_epochs_from_several_marker_streams_come_in_time_order():
    buffer = RingBuffer(["a", "b"], ["eeg", "eeg"], SFREQ, 5.0)
    cues, responses = MarkerBuffer("cues"), MarkerBuffer("responses")
    epochs = EpochStream(buffer, [cues, responses], tmin=0.0, tmax=0.1)
    responses.add([T0 + 0.3], ["press"], arrival=0.0)
    cues.add([T0 + 0.2], ["cue"], arrival=0.0)
    _write(buffer, 0, 100)
    assert [e.marker.value for e in epochs.read()] == ["cue", "press"]


def test_epoch_limits_are_checked():
    buffer, markers = _setup(seconds=1.0)
    with pytest.raises(ValueError, match="after tmin"):
        EpochStream(buffer, markers, tmin=0.5, tmax=0.5)
    with pytest.raises(ValueError, match="do not fit"):
        EpochStream(buffer, markers, tmin=-1.0, tmax=1.0)
