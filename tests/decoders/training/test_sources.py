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
    split = load_training_data(DataRequest(str(tmp_path / "edf"), window_s=2.0))
    assert isinstance(split, OfficialSplit)
    assert split.description == "the data set's own train/ and test/ folders"
    for part in (split.train, split.test):
        assert part.classes == ("abnormal", "normal")
        assert part.n_trials == 4 * 5 and part.n_times == 200
        assert set(np.unique(part.groups)) == {0, 1}  # two subjects


def _resampled_and_reordered(path, out, sfreq):
    import mne

    raw = mne.io.read_raw_fif(path, preload=True, verbose="error")
    raw.reorder_channels(["Pz", "Cz", "C4", "C3"])
    extra = mne.create_info(["O1"], raw.info["sfreq"], "eeg")
    raw.add_channels([mne.io.RawArray(raw.get_data(picks=[0]), extra, verbose="error")])
    raw.resample(sfreq, verbose="error")
    raw.save(out, verbose="error")
    return out


def test_own_test_recording_is_mapped_resampled_and_kept_apart(tmp_path, write_toy_recording):
    train = write_toy_recording(tmp_path / "train_raw.fif", n_events=20)
    other = write_toy_recording(tmp_path / "t_raw.fif", n_events=10, seed=3)
    test = _resampled_and_reordered(other, tmp_path / "test_raw.fif", 200.0)

    split = load_training_data(DataRequest(str(train), test_source=str(test)))

    assert isinstance(split, OfficialSplit)
    assert split.train.n_trials == 20 and split.test.n_trials == 10
    assert split.test.ch_names == ("C3", "C4", "Cz", "Pz") and split.test.sfreq == 100.0
    assert split.test.n_times == split.train.n_times == 100
    assert split.description.startswith(f"the user's own split: train {train}, test {test}")
    assert "1 others left out" in split.description
    assert "resampled from 200 Hz to 100 Hz" in split.description


def test_own_test_data_with_an_unseen_class_or_missing_channel_is_refused(
    tmp_path, write_toy_recording
):
    import mne

    train = write_toy_recording(tmp_path / "train_raw.fif", n_events=20)
    other = write_toy_recording(tmp_path / "t_raw.fif", n_events=10)
    raw = mne.io.read_raw_fif(other, preload=True, verbose="error")
    raw.annotations.description[0] = "c"
    raw.save(tmp_path / "unseen_raw.fif", verbose="error")
    unseen = r"unseen_raw.fif: holds class\(es\) \['c'\] that train_raw.fif never saw"
    with pytest.raises(DataError, match=unseen):
        load_training_data(DataRequest(str(train), test_source=str(tmp_path / "unseen_raw.fif")))
    raw.annotations.description[0] = "a"
    raw.drop_channels(["Cz"]).save(tmp_path / "fewer_raw.fif", verbose="error")
    fewer = "fewer_raw.fif: lacks 1 of the 4 channels of train_raw.fif: Cz"
    with pytest.raises(DataError, match=fewer):
        load_training_data(DataRequest(str(train), test_source=str(tmp_path / "fewer_raw.fif")))
    with pytest.raises(DataError, match="has no parts to choose 'session:2'"):
        load_training_data(DataRequest(str(train), test_source="session:2"))


def test_session_folders_name_the_test_part(tmp_path):
    import mne

    rng = np.random.default_rng(0)
    info = mne.create_info(["C3", "C4", "Cz"], 100.0, "eeg")
    for session in ("session-1", "session-2"):
        for label in ("left", "right"):
            folder = tmp_path / "rec" / session / label
            folder.mkdir(parents=True)
            raw = mne.io.RawArray(rng.normal(size=(3, 300)) * 1e-5, info, verbose="error")
            mne.export.export_raw(folder / "s01_run.edf", raw, fmt="edf", verbose="error")
    root = str(tmp_path / "rec")

    split = load_training_data(DataRequest(root, window_s=1.0, test_source="session:2"))

    assert isinstance(split, OfficialSplit)
    assert split.description.startswith("session 2 as the test part")
    assert split.train.n_trials == split.test.n_trials == 6
    assert load_training_data(DataRequest(root, window_s=1.0)).n_trials == 12
    with pytest.raises(DataError, match=r"no session folder '3' \(sessions found: \['1', '2'\]\)"):
        load_training_data(DataRequest(root, window_s=1.0, test_source="session:3"))
    with pytest.raises(DataError, match="not runs"):
        load_training_data(DataRequest(root, test_source="run:1"))


def test_bids_data_set_splits_by_session_or_run(tmp_path, write_toy_recording):
    import mne
    import mne_bids

    root = tmp_path / "bids"
    toy = write_toy_recording(tmp_path / "toy_raw.fif", n_events=12)
    raw = mne.io.read_raw_fif(toy, preload=True, verbose="error")
    for session in ("01", "02"):
        for run in ("1", "2"):
            path = mne_bids.BIDSPath(
                subject="01", session=session, run=run, task="mi", datatype="eeg", root=root
            )
            mne_bids.write_raw_bids(raw, path, allow_preload=True, format="EDF", verbose=False)

    pooled = load_training_data(DataRequest(str(root)))
    by_session = load_training_data(DataRequest(str(root), test_source="ses:02"))
    by_run = load_training_data(DataRequest(str(root), test_source="run:2"))

    assert pooled.n_trials == 48 and set(np.unique(pooled.blocks)) == {0, 1, 2, 3}
    assert by_session.train.n_trials == by_session.test.n_trials == 24
    assert by_session.description.startswith("BIDS session 02 as the test part")
    assert by_run.test.n_trials == 24 and "BIDS run 2" in by_run.description
    with pytest.raises(DataError, match=r"has no session '03' \(found: \['01', '02'\]\)"):
        load_training_data(DataRequest(str(root), test_source="session:03"))
    with pytest.raises(DataError, match="every recording is subject '01'"):
        load_training_data(DataRequest(str(root), test_source="subject:01"))
