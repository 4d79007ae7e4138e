"""Files of trials already cut: UEA/aeon .ts, MNE -epo.fif, labelled .npz arrays."""

import numpy as np
import pytest

from decoders.datasets.errors import DataError, DataWarning
from decoders.datasets.readers import read_recording, read_trials

HEADER = """# written by a test
@problemName Toy
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength true
@seriesLength {length}
@classLabel true up down
@data
"""


def _case(values_per_dimension, label):
    return ":".join(",".join(f"{v:g}" for v in values) for values in values_per_dimension) + (
        f":{label}"
    )


def write_ts(path, cases, length=4):
    lines = [_case(values, label) for values, label in cases]
    path.write_text(HEADER.format(length=length) + "\n".join(lines) + "\n")
    return path


def toy_cases():
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(2, 4)) * 10, "up" if i % 2 else "down") for i in range(6)]


def test_ts_file_opens_with_its_rate_and_unit(tmp_path):
    cases = toy_cases()
    trials = read_trials(write_ts(tmp_path / "toy_TRAIN.ts", cases), sfreq=128.0)
    assert trials.data.shape == (6, 2, 4) and trials.sfreq == 128.0
    assert trials.classes == ("up", "down") and list(trials.labels[:2]) == [1, 0]
    assert np.allclose(trials.data[0], np.round(cases[0][0], 5) * 1e-6, atol=1e-11)  # µV
    in_femtotesla = read_trials(tmp_path / "toy_TRAIN.ts", sfreq=128.0, unit="fT")
    assert in_femtotesla.ch_types == ("mag", "mag") and in_femtotesla.ch_names == ("dim0", "dim1")


def test_ts_header_length_that_disagrees_with_every_case_is_read_and_reported(tmp_path):
    path = write_ts(tmp_path / "short_header.ts", toy_cases(), length=3)
    with pytest.warns(DataWarning, match="declares @seriesLength 3 but every case has 4"):
        trials = read_trials(path, sfreq=100.0)
    assert trials.n_times == 4


def test_ts_file_bad_inputs_are_named(tmp_path):
    cases = toy_cases()
    with pytest.raises(DataError, match="does not state its sampling rate"):
        read_trials(write_ts(tmp_path / "a.ts", cases))
    ragged = write_ts(tmp_path / "ragged.ts", cases)
    ragged.write_text(ragged.read_text().replace(",", ",1,", 1))
    with pytest.raises(DataError, match=r"line 11: dimensions of unequal length \[4, 5\]"):
        read_trials(ragged, sfreq=100.0)
    missing = write_ts(tmp_path / "missing.ts", cases)
    lines = missing.read_text().splitlines()
    lines[12] = "1,2,?,4:1,2,3,4:up"
    missing.write_text("\n".join(lines))
    with pytest.raises(DataError, match="line 13: missing values in dimension 0"):
        read_trials(missing, sfreq=100.0)
    unlabelled = write_ts(tmp_path / "unlabelled.ts", cases)
    unlabelled.write_text(unlabelled.read_text().replace(":up\n", ":\n", 1))
    with pytest.raises(DataError, match="needs its series and a class label"):
        read_trials(unlabelled, sfreq=100.0)
    fewer = write_ts(tmp_path / "fewer_dims.ts", cases)
    fewer.write_text(fewer.read_text().rstrip("\n") + "\n1,2,3,4:up\n")
    with pytest.raises(DataError, match=r"1 dimensions of length 4, but the first case has 2"):
        read_trials(fewer, sfreq=100.0)
    with pytest.raises(DataError, match="unknown unit 'volts'"):
        read_trials(write_ts(tmp_path / "b.ts", cases), sfreq=100.0, unit="volts")


def _epochs(n=8):
    import mne

    rng = np.random.default_rng(1)
    info = mne.create_info(["C3", "C4", "EOG"], 200.0, ["eeg", "eeg", "eog"])
    events = np.column_stack([np.arange(n) * 300, np.zeros(n, int), 1 + np.arange(n) % 2])
    return mne.EpochsArray(
        rng.normal(size=(n, 3, 100)) * 1e-5,
        info,
        events=events,
        event_id={"left": 1, "right": 2},
        verbose="error",
    )


def test_mne_epochs_file_gives_data_channels_and_named_classes(tmp_path):
    epochs = _epochs()
    path = tmp_path / "sub1-epo.fif"
    epochs.save(path, verbose="error")
    trials = read_trials(path)
    assert trials.ch_names == ("C3", "C4") and trials.classes == ("left", "right")
    assert list(trials.labels[:4]) == [0, 1, 0, 1]
    assert np.allclose(trials.data, epochs.get_data(picks="eeg"))
    raw = read_recording(path)  # the same file as a recording: trials back to back
    assert raw.n_times == 8 * 100 and list(raw.annotations.description[:2]) == ["left", "right"]


def test_truncated_epochs_file_says_truncated_with_sizes(tmp_path):
    path = tmp_path / "cut-epo.fif"
    _epochs().save(path, verbose="error")
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    expected = rf"truncated: .* needs at least \d+ bytes but has {len(content) // 2}"
    with pytest.raises(DataError, match=expected):
        read_trials(path)


def test_npz_labelled_arrays_open_with_names_and_classes(tmp_path):
    rng = np.random.default_rng(2)
    data = rng.normal(size=(6, 3, 50)) * 1e-5
    path = tmp_path / "trials.npz"
    np.savez(path, X=data, y=np.array(["rest", "move"] * 3), sfreq=250.0,
             ch_names=np.array(["C3", "Cz", "C4"]))  # fmt: skip
    trials = read_trials(path)
    assert trials.classes == ("move", "rest") and list(trials.labels[:2]) == [1, 0]
    assert trials.ch_names == ("C3", "Cz", "C4") and trials.sfreq == 250.0
    coded = tmp_path / "coded.npz"
    np.savez(coded, X=data, y=np.arange(6) % 2, sfreq=250, classes=np.array(["a", "b"]))
    assert read_trials(coded).classes == ("a", "b")


def test_npz_bad_inputs_are_named(tmp_path):
    data = np.zeros((6, 3, 50))
    cases = {
        "short_labels": ({"X": data, "y": np.zeros(5), "sfreq": 100.0}, "y holds .* for 6 trials"),
        "flat": ({"X": data[0], "y": np.zeros(3), "sfreq": 100.0}, "X must be 3-D"),
        "no_rate": ({"X": data, "y": np.zeros(6)}, "lacks sfreq"),
        "objects": (
            {"X": data, "y": np.array([{"a": 1}] * 6, dtype=object), "sfreq": 100.0},
            "never unpickled",
        ),
        "codes": (
            {"X": data, "y": np.arange(6), "sfreq": 100.0, "classes": np.array(["a", "b"])},
            r"labels \[2, 3, 4, 5\] have no entry in classes",
        ),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, **content)
        with pytest.raises(DataError, match=message):
            read_trials(path)
    continuous = tmp_path / "continuous.edf"
    continuous.write_bytes(b"0")
    with pytest.raises(DataError, match="not a file of trials"):
        read_trials(continuous)
