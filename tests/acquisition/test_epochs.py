import numpy as np
import pytest

from acquisition.epochs import EpochStream
from acquisition.markers import MarkerBuffer
from acquisition.preprocessing.pipeline import Pipeline
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
        assert epoch.first_time - epoch.marker.timestamp == pytest.approx(-0.1)
        assert epoch.data.shape[1] == 40


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


def _write_with_loss(buffer, lost_from, lost_to, stop):
    """Samples 0 to ``stop`` on a regular clock, those from ``lost_from`` to ``lost_to`` lost."""
    _write(buffer, 0, lost_from)
    buffer.mark_gap(T0 + (lost_from - 1) / SFREQ, T0 + lost_to / SFREQ, "stream lost")
    _write(buffer, lost_to, stop)


@pytest.mark.parametrize("preprocessed", [False, True], ids=["raw", "pipeline"])
def test_a_gap_inside_an_epoch_flags_it_and_later_epochs_start_at_their_marker(preprocessed):
    buffer, markers = _setup()
    pipeline = Pipeline([{"step": "pick", "channels": ["a"]}], ["a", "b"], ["eeg"] * 2, SFREQ)
    epochs = EpochStream(
        buffer, markers, tmin=0.0, tmax=0.4, pipeline=pipeline if preprocessed else None
    )
    before, across, inside, after = T0 + 0.3, T0 + 0.8, T0 + 1.2, T0 + 1.7
    markers.add([before, across, inside, after], ["before", "across", "inside", "after"], 0.0)
    _write_with_loss(buffer, 100, 150, 300)  # samples 100 to 149 lost
    found = {epoch.marker.value: epoch for epoch in epochs.read()}
    assert sorted(found) == ["across", "after", "before"]
    assert [m.value for m in epochs.missed] == ["inside"] and epochs.dropped == 1
    assert found["across"].gap and not found["before"].gap and not found["after"].gap
    # The flagged epoch holds 40 consecutive samples: 20 before the loss, 20 after it.
    np.testing.assert_array_equal(found["across"].data[0], [*range(80, 100), *range(150, 170)])
    for name, onset in (("before", 30), ("after", 170)):
        epoch = found[name]
        np.testing.assert_array_equal(epoch.data[0], np.arange(onset, onset + 40))
        assert epoch.first_time == pytest.approx(epoch.marker.timestamp)
        assert epoch.last_time == pytest.approx(epoch.marker.timestamp + 0.39)


def test_epochs_carry_the_non_finite_flag_and_the_arrival_of_their_last_sample():
    buffer, markers = _setup()
    epochs = EpochStream(buffer, markers, tmin=0.0, tmax=0.1)
    for index in range(60):
        value = np.nan if index == 25 else float(index)
        buffer.write(np.array([[value], [0.0]]), np.array([T0 + index / SFREQ]), 500.0 + index)
    markers.add([T0 + 0.1, T0 + 0.2, T0 + 0.3], ["x", "y", "z"], arrival=0.0)
    found = epochs.read()
    assert [(e.marker.value, e.non_finite) for e in found] == [
        ("x", False),
        ("y", True),
        ("z", False),
    ]
    assert [e.arrival for e in found] == [519.0, 529.0, 539.0]
    assert [e.stop for e in found] == [20, 30, 40]
