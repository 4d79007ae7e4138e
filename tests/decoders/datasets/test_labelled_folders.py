import numpy as np

from decoders.datasets.labelled_folders import find_labelled_files


def _write(path, rng):
    import mne

    path.parent.mkdir(parents=True, exist_ok=True)
    raw = mne.io.RawArray(
        rng.normal(size=(2, 200)) * 1e-5,
        mne.create_info(["Fp1", "Cz"], 100.0, "eeg"),
        verbose="error",
    )
    mne.export.export_raw(path, raw, fmt="edf", verbose="error")


def test_the_class_is_the_folder_after_the_split_not_one_above_or_below(tmp_path):
    rng = np.random.default_rng(0)
    for split, label, subject in (("train", "normal", "aaaa"), ("eval", "abnormal", "bbbb")):
        _write(tmp_path / "edf" / split / label / "01_tcp_ar" / f"{subject}_s001_t000.edf", rng)
    found = find_labelled_files(tmp_path)  # the corpus root, above edf/
    assert [(f.label, f.split, f.subject) for f in found] == [
        ("abnormal", "eval", "bbbb"),
        ("normal", "train", "aaaa"),
    ]
    below_split = find_labelled_files(tmp_path / "edf" / "train")
    assert [(f.label, f.split) for f in below_split] == [("normal", None)]
    named = find_labelled_files(tmp_path, classes=["normal"])
    assert [f.label for f in named] == ["normal"]
