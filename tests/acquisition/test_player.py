import numpy as np
import pytest

from acquisition.discovery import find_stream
from acquisition.inlet import open_inlet
from acquisition.player import Player, events_of
from acquisition.streaminfo import build_stream_info
from acquisition.xdf_writer import XdfWriter, marker_header

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(90)]

SFREQ = 200.0


def _raw():
    import mne

    rng = np.random.default_rng(0)
    data = rng.normal(0, 20e-6, (3, 300))
    info = mne.create_info(["Fz", "Cz", "EOG1"], SFREQ, ["eeg", "eeg", "eog"])
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_annotations(mne.Annotations([0.25, 0.9], [0.0, 0.0], ["left", "right"]))
    return raw


def _write(raw, fmt, folder):
    import mne

    if fmt == "fif":
        path = folder / "rec_raw.fif"
        raw.save(path)
    elif fmt in ("edf", "bdf", "brainvision", "eeglab"):
        suffix = {"edf": "edf", "bdf": "bdf", "brainvision": "vhdr", "eeglab": "set"}[fmt]
        path = folder / f"rec.{suffix}"
        mne.export.export_raw(path, raw, fmt=fmt, verbose="error")
    elif fmt == "bids":
        import mne_bids

        bids_path = mne_bids.BIDSPath(subject="01", task="play", datatype="eeg", root=folder)
        mne_bids.write_raw_bids(
            raw, bids_path, format="BrainVision", allow_preload=True, verbose="error"
        )
        path = bids_path.copy().update(suffix="eeg", extension=".vhdr").fpath
    else:
        path = folder / "rec.xdf"
        info = build_stream_info(
            "amp", "EEG", raw.ch_names, raw.get_channel_types(), SFREQ, source_id="a"
        )
        stamps = 10 + raw.times
        with open(path, "wb") as file:
            writer = XdfWriter(file)
            writer.stream_header(1, info.as_xml())
            writer.stream_header(2, marker_header("cues", "Markers", "c"))
            writer.samples(1, "float32", stamps, raw.get_data().T.astype(np.float32))
            writer.samples(
                2, "string", 10 + raw.annotations.onset, [[d] for d in raw.annotations.description]
            )
            writer.flush()
    return path


def _play_and_receive(raw, name, **kwargs):
    """Play ``raw`` and return the signal inlet and marker inlet after the whole pass."""
    player = Player(raw, name=name, wait_for_consumer=5.0, **kwargs).start()
    try:
        markers = open_inlet(find_stream(source_id=f"{player.source_id}-markers"))
        signal = open_inlet(find_stream(source_id=player.source_id), seconds=10.0)
        assert player.wait(timeout=30)
        expected = player.n_times
        deadline_reached = signal.buffer.wait(expected - 1, timeout=5.0)
        assert deadline_reached, f"received {signal.buffer.total} of {expected} samples"
        markers.markers.wait(len(player.events) - 1, timeout=5.0)
        return player, signal, markers
    finally:
        player.stop()


@pytest.mark.parametrize("fmt", ["fif", "edf", "bdf", "brainvision", "eeglab", "bids", "xdf"])
def test_every_readable_format_streams_like_an_amplifier(fmt, tmp_path, unique):
    from decoders.datasets.readers import read_recording

    recording = read_recording(_write(_raw(), fmt, tmp_path))
    player, signal, markers = _play_and_receive(recording, unique, source=fmt)
    try:
        received = signal.buffer.latest(n_times=signal.buffer.total)
        assert received.n_times == recording.n_times
        np.testing.assert_allclose(received.data, recording.get_data(), rtol=1e-6, atol=1e-12)
        assert list(signal.buffer.ch_names) == recording.ch_names
        assert list(signal.buffer.ch_types) == recording.get_channel_types()
        assert (
            signal.description.stype == "EEG"
            and f"<source>{fmt}</source>" in signal.description.header
        )
        assert np.diff(received.timestamps) == pytest.approx(1 / SFREQ, abs=1e-6)
        got = markers.markers.since(0)
        assert [m.value for m in got] == [text for _, text in events_of(recording)]
        assert {"left", "right"} <= {text.split("/")[-1] for _, text in player.events}
        positions = [(m.timestamp - received.timestamps[0]) * SFREQ for m in got]
        assert positions == pytest.approx([index for index, _ in player.events], abs=0.01)
    finally:
        signal.stop()
        markers.stop()


def test_looping_continues_the_timestamps_and_repeats_the_markers(unique):
    raw = _raw().crop(0, 0.995)
    player = Player(raw, name=unique, loop=True, chunk_size=7, wait_for_consumer=5.0).start()
    markers = open_inlet(find_stream(source_id=f"{player.source_id}-markers"))
    signal = open_inlet(find_stream(source_id=player.source_id), seconds=10.0)
    try:
        assert signal.buffer.wait(2 * raw.n_times + 10, timeout=10.0)
        assert markers.markers.wait(3, timeout=5.0)
        received = signal.buffer.read(0, 2 * raw.n_times + 10)
        np.testing.assert_allclose(
            received.data[:, raw.n_times :][:, :10], raw.get_data()[:, :10], rtol=1e-6
        )
        steps = np.diff(received.timestamps)
        assert np.abs(steps - 1 / SFREQ).max() < 1e-6, steps[np.abs(steps - 1 / SFREQ) >= 1e-6]
        assert [m.value for m in markers.markers.since(0)[:4]] == ["left", "right", "left", "right"]
        assert not player.wait(0.0)  # a looping player never ends by itself
    finally:
        player.stop()
        signal.stop()
        markers.stop()


def test_events_come_from_annotations_or_else_from_stim_channels():
    import mne

    raw = _raw()
    assert events_of(raw) == [(50, "left"), (180, "right")]
    stim = np.zeros((1, 300))
    stim[0, 100:110] = 3
    info = mne.create_info(["Cz", "STI 014"], SFREQ, ["eeg", "stim"])
    triggered = mne.io.RawArray(np.vstack([np.zeros(300), stim]), info, verbose="error")
    assert events_of(triggered) == [(100, "3")]


def test_recordings_that_cannot_be_streamed_are_refused():
    import mne

    raw = _raw()
    raw._data[1, 5] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        Player(raw, source="broken.fif")
    empty = mne.io.RawArray(
        np.zeros((1, 0)), mne.create_info(["a"], SFREQ, ["eeg"]), verbose="error"
    )
    with pytest.raises(ValueError, match="no samples"):
        Player(empty)


@pytest.mark.slow
def test_the_real_meg_recording_streams_with_its_metadata(real_data, unique):
    from decoders.datasets.loaders import load_meg_eeg

    raw = load_meg_eeg(real_data).crop(0, 4.5)  # holds the first two events
    player, signal, markers = _play_and_receive(raw, unique)
    try:
        types = list(signal.buffer.ch_types)
        assert {t: types.count(t) for t in set(types)} == {
            "grad": 204,
            "mag": 102,
            "eeg": 60,
            "eog": 1,
            "stim": 9,
        }
        assert signal.description.stype == "MEG"
        assert signal.buffer.sfreq == pytest.approx(600.615, abs=1e-3)
        received = signal.buffer.latest(n_times=raw.n_times)
        np.testing.assert_allclose(received.data, raw.get_data(), rtol=1e-6, atol=1e-20)
        assert [m.value for m in markers.markers.since(0)] == [text for _, text in player.events]
    finally:
        signal.stop()
        markers.stop()
