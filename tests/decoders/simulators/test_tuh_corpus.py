import json
import re

import numpy as np
import pytest

from decoders.datasets.labelled_folders import find_labelled_files
from decoders.datasets.readers import read_recording
from decoders.simulators.abnormal_eeg import AbnormalEEGSimulator
from decoders.simulators.errors import SimulatorError
from decoders.simulators.registry import corpus_tasks, write_corpus
from decoders.simulators.tuh_corpus import (
    split_subjects,
    subject_id,
    tuh_label,
    write_tuh_corpus,
)

OPTIONS = {"n_subjects": 5, "recordings_per_subject": 2, "recording_s": 20, "sfreq": [250, 256]}
NAME = re.compile(r"edf/(train|eval)/(normal|abnormal)/01_tcp_ar/([a-z]{8})_s(\d{3})_t000\.edf")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_tuh_corpus(tmp_path_factory.mktemp("tuh") / "corpus", seed=7, **OPTIONS)


@pytest.fixture(scope="module")
def truth(corpus):
    return json.loads((corpus / "truth.json").read_text())


def test_the_layout_is_the_tuh_abnormal_corpus(corpus, truth):
    files = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file())
    assert files[-1] == "truth.json" and len(files) == 5 * 2 + 1
    for name in files[:-1]:
        split, label, subject, session = NAME.fullmatch(name).groups()
        entry = truth["files"][name]
        assert (entry["split"], entry["label"], entry["subject_id"]) == (split, label, subject)
        assert entry["recording"] == int(session) - 1
        assert truth["subjects"][subject]["label"] == label


def test_labelled_folders_give_the_classes_splits_and_subjects(corpus, truth):
    found = find_labelled_files(corpus)
    assert len(found) == 10
    for item in found:
        entry = truth["files"][item.path.relative_to(corpus).as_posix()]
        assert (item.label, item.split, item.subject) == (
            entry["label"],
            entry["split"],
            entry["subject_id"],
        )
    by_split = {
        split: {i.subject for i in found if i.split == split} for split in ("train", "eval")
    }
    assert by_split["train"] and by_split["eval"]
    assert not by_split["train"] & by_split["eval"]  # subjects disjoint between splits
    for split in ("train", "eval"):
        assert {i.label for i in found if i.split == split} == {"normal", "abnormal"}


def test_files_read_back_in_volts_within_edf_quantisation(corpus, truth):
    simulator = AbnormalEEGSimulator(seed=7, **OPTIONS)
    for name, entry in list(truth["files"].items())[:4]:
        raw = read_recording(corpus / name)
        recording = simulator.recording(entry["subject"], entry["recording"])
        assert raw.ch_names == [tuh_label(ch) for ch in simulator.ch_names]
        assert raw.info["sfreq"] == entry["sfreq"] == simulator.sfreq_of(entry["subject"])
        assert set(raw.get_channel_types()) == {"eeg"}
        expected = recording.signals
        step = 2 * np.ceil(np.abs(expected).max(axis=1) * 1e6) * 1e-6 / 65535
        error = np.abs(raw.get_data() - expected).max(axis=1)
        assert np.all(error <= step)  # half a step of rounding plus the range's rounding
        assert 5e-6 < np.std(raw.get_data()) < 1e-4  # tens of microvolts: read as volts


def test_truth_states_seed_options_snr_and_each_abnormality(corpus, truth):
    assert truth["seed"] == 7 and truth["options"]["n_subjects"] == 5
    assert truth["options"]["sfreq"] == [250, 256]
    assert truth["snr"]["target_db"] == 0.0
    assert truth["channels"]["Fp1"] == "EEG FP1-REF"
    abnormal = [entry for entry in truth["files"].values() if entry["label"] == "abnormal"]
    assert abnormal and all(entry["kinds"] for entry in abnormal)
    reached = truth["snr"]["reached_db"]
    for kind, figures in reached.items():
        values = [e["abnormalities"][kind]["snr_db"] for e in abnormal if kind in e["kinds"]]
        assert figures["n"] == len(values)
        assert figures["mean"] == pytest.approx(np.mean(values), abs=0.01)
    for entry in abnormal:
        if "spikes" in entry["kinds"]:
            assert entry["abnormalities"]["spikes"]["times_s"]
        assert entry["focus_electrode"] in truth["channels"]


def test_same_seed_writes_identical_files_and_other_seeds_differ(tmp_path):
    options = {"n_subjects": 2, "recordings_per_subject": 1, "recording_s": 20}
    first = write_tuh_corpus(tmp_path / "a", seed=1, **options)
    again = write_corpus("abnormal_eeg", tmp_path / "b", seed=1, **options)
    other = write_tuh_corpus(tmp_path / "c", seed=2, **options)
    names = sorted(p.relative_to(first) for p in first.rglob("*.edf"))
    assert names == sorted(p.relative_to(again) for p in again.rglob("*.edf"))
    for name in names:
        assert (first / name).read_bytes() == (again / name).read_bytes()
    assert (first / "truth.json").read_text() == (again / "truth.json").read_text()
    assert (first / "truth.json").read_text() != (other / "truth.json").read_text()


def test_an_existing_folder_with_files_is_refused(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(SimulatorError, match="not an empty folder"):
        write_tuh_corpus(tmp_path, n_subjects=2, recording_s=20)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_only_tasks_with_files_write_a_corpus(tmp_path):
    assert corpus_tasks() == ["abnormal_eeg", "meg", "seizure"]
    with pytest.raises(SimulatorError, match=r"writes no corpus.*abnormal_eeg, meg, seizure"):
        write_corpus("motor_imagery", tmp_path / "mi")


def test_subject_ids_and_labels_are_tuh_like():
    assert [subject_id(i) for i in (0, 1, 26)] == ["aaaaaaaa", "aaaaaaab", "aaaaaaba"]
    assert tuh_label("Fz") == "EEG FZ-REF" and tuh_label("T3") == "EEG T3-REF"


def test_splits_are_stratified_by_class():
    labels = ("normal",) * 5 + ("abnormal",) * 3
    splits = split_subjects(labels, 0.3, seed=0)
    for name, count in (("normal", 2), ("abnormal", 1)):
        assert [s for s, lab in zip(splits, labels, strict=True) if lab == name].count(
            "eval"
        ) == count
    assert split_subjects(labels, 0.0, seed=0) == ["train"] * 8
    assert split_subjects(("normal",), 0.5, seed=0) == ["train"]


def test_the_training_command_reads_the_corpus_as_a_labelled_folder(tmp_path):
    from decoders.training.sources import DataRequest, load_training_data

    options = {"n_subjects": 2, "recordings_per_subject": 1, "recording_s": 20}
    root = write_tuh_corpus(tmp_path / "corpus", seed=0, **options)
    trials = load_training_data(DataRequest(str(root), window_s=10.0))
    assert trials.classes == ("abnormal", "normal")
    assert trials.data.shape == (4, 19, 2500)
    assert np.array_equal(np.unique(trials.groups), [0, 1])
