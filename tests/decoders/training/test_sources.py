import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.datasets.trials import OfficialSplit
from decoders.training.epoching import read_label_file
from decoders.training.sources import DataRequest, load_training_data


def test_epochs_from_recording_events(toy_recording):
    trials = load_training_data(DataRequest(str(toy_recording), tmin=0.0, tmax=1.0))
    assert trials.classes == ("a", "b") and trials.n_trials == 60
    assert trials.data.shape == (60, 4, 100)


def test_label_file_replaces_events(toy_recording, tmp_path):
    labels = tmp_path / "labels.tsv"
    labels.write_text(
        "onset\tlabel\n" + "".join(f"{1 + 3 * i}\t{'x' if i % 2 else 'y'}\n" for i in range(20))
    )
    onsets, names = read_label_file(labels)
    assert onsets[1] == 4.0 and names[:2] == ["y", "x"]
    trials = load_training_data(DataRequest(str(toy_recording), label_file=labels))
    assert trials.classes == ("x", "y") and trials.n_trials == 20


def test_trial_set_by_name_keeps_its_official_split(real_data):
    data = load_training_data(DataRequest("FingerMovements"))
    assert isinstance(data, OfficialSplit) and data.test.n_trials == 100


def test_windows_longer_than_trials_are_refused(real_data):
    with pytest.raises(DataError, match="windows longer than the trials"):
        load_training_data(DataRequest("FingerMovements", crop=(0.0, 0.8)))
    cropped = load_training_data(DataRequest("FingerMovements", crop=(0.1, 0.5)))
    assert cropped.train.n_times == 40


def test_bad_sources_are_named(toy_recording, tmp_path):
    with pytest.raises(DataError, match="neither a known data set"):
        load_training_data(DataRequest(str(tmp_path / "missing.fif")))
    with pytest.raises(DataError, match=r"no events named \['c'\]"):
        load_training_data(DataRequest(str(toy_recording), classes=("a", "c")))
    with pytest.raises(DataError, match="shorter than one"):
        load_training_data(DataRequest(str(toy_recording), tmax=500.0))


def test_labelled_folders_give_classes_from_folder_names(tmp_path):
    import mne

    rng = np.random.default_rng(0)
    for split in ("train", "eval"):
        for label in ("normal", "abnormal"):
            folder = tmp_path / "edf" / split / label / "01_tcp_ar"
            folder.mkdir(parents=True)
            for subject in ("aaaa", "bbbb"):
                raw = mne.io.RawArray(
                    rng.normal(size=(3, 1000)) * 1e-5,
                    mne.create_info(["Fp1", "Fp2", "Cz"], 100.0, "eeg"),
                    verbose="error",
                )
                mne.export.export_raw(
                    folder / f"{subject}_s001_t000.edf", raw, fmt="edf", verbose="error"
                )
    trials = load_training_data(DataRequest(str(tmp_path / "edf"), window_s=2.0))
    assert trials.classes == ("abnormal", "normal")
    assert trials.n_trials == 8 * 5 and trials.n_times == 200
    assert set(np.unique(trials.groups)) == {0, 1}  # two subjects
