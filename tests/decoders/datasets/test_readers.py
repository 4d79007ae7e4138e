import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.datasets.readers import read_recording
from decoders.datasets.trials import TrialSet

CHANNELS = ["C3", "C4", "Cz", "Pz"]


@pytest.fixture
def raw():
    import mne

    rng = np.random.default_rng(0)
    info = mne.create_info(CHANNELS, 250.0, "eeg")
    recording = mne.io.RawArray(rng.normal(size=(4, 2500)) * 20e-6, info, verbose="error")
    recording.set_annotations(mne.Annotations([1.0, 4.5], [0.0, 0.0], ["left", "right"]))
    return recording


def _export(raw, path, fmt):
    import mne

    mne.export.export_raw(path, raw, fmt=fmt, overwrite=True, verbose="error")
    return path


@pytest.mark.parametrize(
    ("suffix", "fmt", "tolerance"),
    [
        ("_raw.fif", None, 1e-10),  # float32 samples
        (".edf", "edf", 1e-8),  # 16-bit samples
        (".bdf", "bdf", 1e-9),  # 24-bit samples
        (".vhdr", "brainvision", 1e-9),
        (".set", "eeglab", 1e-10),
    ],
)
def test_each_format_round_trips_data_types_and_events(raw, tmp_path, suffix, fmt, tolerance):
    path = tmp_path / f"rec{suffix}"
    if fmt is None:
        raw.save(path, verbose="error")
    else:
        _export(raw, path, fmt)
    loaded = read_recording(path)
    assert loaded.ch_names == CHANNELS and loaded.info["sfreq"] == 250.0
    assert set(loaded.get_channel_types()) == {"eeg"}
    assert np.abs(loaded.get_data() - raw.get_data()).max() < tolerance
    descriptions = [d.split("/")[-1] for d in loaded.annotations.description]
    assert descriptions == ["left", "right"]
    assert np.allclose(loaded.annotations.onset, [1.0, 4.5], atol=0.01)


def test_bids_file_and_root_use_sidecar_channel_types(raw, tmp_path):
    import mne_bids

    raw.set_channel_types({"C3": "ecog", "C4": "ecog", "Cz": "seeg", "Pz": "seeg"})
    root = tmp_path / "bids"
    path = mne_bids.BIDSPath(subject="01", task="grip", datatype="ieeg", root=root)
    mne_bids.write_raw_bids(raw, path, allow_preload=True, format="BrainVision", verbose=False)
    for target in (root, path.fpath):
        loaded = read_recording(target)
        assert loaded.get_channel_types() == ["ecog", "ecog", "seeg", "seeg"]
        assert {"left", "right"} <= set(loaded.annotations.description)


def test_bids_root_with_several_recordings_asks_for_one(raw, tmp_path):
    import mne_bids

    for subject in ("01", "02"):
        path = mne_bids.BIDSPath(subject=subject, task="mi", datatype="eeg", root=tmp_path)
        mne_bids.write_raw_bids(raw, path, allow_preload=True, format="EDF", verbose=False)
    with pytest.raises(DataError, match="holds 2 recordings"):
        read_recording(tmp_path)


def test_unknown_format_and_missing_file_are_named(tmp_path):
    odd = tmp_path / "recording.xyz"
    odd.write_text("hello")
    with pytest.raises(DataError, match=r"recording\.xyz: unknown file format '\.xyz'"):
        read_recording(odd)
    with pytest.raises(DataError, match="file not found"):
        read_recording(tmp_path / "absent.edf")
    with pytest.raises(DataError, match="not a BIDS data set"):
        read_recording(tmp_path)


@pytest.mark.parametrize(
    ("suffix", "fmt", "data_suffix"),
    [(".edf", "edf", ".edf"), (".bdf", "bdf", ".bdf"), (".vhdr", "brainvision", ".eeg")],
)
def test_truncated_files_are_detected(raw, tmp_path, suffix, fmt, data_suffix):
    path = _export(raw, tmp_path / f"rec{suffix}", fmt)
    data_file = path.with_suffix(data_suffix)
    content = data_file.read_bytes()
    data_file.write_bytes(content[: len(content) - 1001])
    with pytest.raises(DataError, match="truncated"):
        read_recording(path)


def test_brainvision_markers_beyond_the_data_mean_truncation(raw, tmp_path):
    path = _export(raw, tmp_path / "rec.vhdr", "brainvision")
    data_file = path.with_suffix(".eeg")
    frame = 4 * 4  # float32, 4 channels
    data_file.write_bytes(data_file.read_bytes()[: 1000 * frame])  # marker at 4.5 s = 1125
    with pytest.raises(DataError, match="markers point to sample"):
        read_recording(path)


def test_fif_cut_short_says_truncated_with_expected_and_actual_sizes(raw, tmp_path):
    path = tmp_path / "rec_raw.fif"
    raw.save(path, verbose="error")
    path.write_bytes(path.read_bytes()[:20000])
    with pytest.raises(DataError, match=r"truncated: .* needs at least \d+ bytes but has 20000"):
        read_recording(path)
    path.write_bytes(path.read_bytes()[:10])
    with pytest.raises(DataError, match="only 10 bytes: shorter than a FIF tag"):
        read_recording(path)


def test_nan_samples_are_reported_with_channel_and_time(raw, tmp_path):
    data = raw.get_data()
    data[2, 500] = np.nan
    raw._data = data
    path = tmp_path / "nan_raw.fif"
    raw.save(path, verbose="error")
    with pytest.raises(DataError, match=r"NaN or Inf samples \(first on channel Cz at 2\.000 s"):
        read_recording(path)


def test_trial_sets_refuse_nan_single_class_and_bad_shapes():
    data = np.zeros((4, 2, 10))
    with pytest.raises(DataError, match="NaN or Inf samples"):
        TrialSet(
            np.full((4, 2, 10), np.inf),
            np.zeros(4),
            ("a", "b"),
            100.0,
            ("x", "y"),
            ("eeg",) * 2,
            "t",
        )
    one_class = TrialSet(data, np.zeros(4), ("a", "b"), 100.0, ("x", "y"), ("eeg",) * 2, "t")
    with pytest.raises(DataError, match=r"1 class\(es\) \['a'\]"):
        one_class.require_classes()
    with pytest.raises(DataError, match="2 channels in the data but 3 names"):
        TrialSet(data, np.zeros(4), ("a",), 100.0, ("x", "y", "z"), ("eeg",) * 2, "t")
    with pytest.raises(DataError, match="labels outside"):
        TrialSet(data, np.full(4, 3), ("a", "b"), 100.0, ("x", "y"), ("eeg",) * 2, "t")


def test_garbled_fif_headers_give_data_errors_only(raw, tmp_path):
    path = tmp_path / "rec_raw.fif"
    raw.save(path, verbose="error")
    original = path.read_bytes()
    failures = 0
    for start in range(0, 2000, 40):
        damaged = bytearray(original)
        damaged[start : start + 16] = b"\x7f" * 16
        path.write_bytes(bytes(damaged))
        try:
            read_recording(path)
        except DataError as error:
            assert str(error).startswith(str(path))
            failures += 1
    assert failures >= 5  # the header is damaged in many of these places
