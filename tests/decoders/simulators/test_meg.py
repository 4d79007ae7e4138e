"""The MEG simulator: real VectorView sensors, seeded, SNR as stated, subjects and sessions."""

import json

import mne
import numpy as np
import pytest

from decoders.simulators.errors import SimulatorError
from decoders.simulators.meg import CLASSES, MegSimulator
from decoders.simulators.registry import available_tasks

pytestmark = pytest.mark.usefixtures("real_data")


def small(seed=0, **options):
    settings = {"channels": "mag", "sfreq": 100.0, "n_subjects": 2, "trials_per_class": 4}
    return MegSimulator(seed=seed, **{**settings, "rest_s": 6.0, **options})


def test_the_task_is_registered_on_the_real_recordings_306_sensors():
    assert "meg" in available_tasks()
    trials = MegSimulator(n_subjects=1, n_sessions=1, trials_per_class=1, sfreq=100.0).trials()
    info = mne.io.read_info(_real_file(), verbose="error")
    meg = [info.ch_names[i] for i in mne.pick_types(info, meg=True, exclude=())]
    assert trials.ch_names == tuple(meg) and len(meg) == 306
    assert trials.ch_types.count("mag") == 102 and trials.ch_types.count("grad") == 204
    assert trials.classes == CLASSES and set(trials.ch_pos) == set(meg)


def test_the_same_seed_gives_the_same_trials_and_another_seed_others():
    first, second = small().trials(), small().trials()
    assert np.array_equal(first.data, second.data) and np.array_equal(first.labels, second.labels)
    other = small(seed=1).trials().data
    assert np.abs(first.data - other).mean() > 0.5 * np.abs(first.data).mean()


def test_subjects_and_sessions_are_marked_and_differ():
    simulator = small()
    trials = simulator.trials()
    assert trials.data.shape == (2 * 2 * 16, 102, 60)
    assert sorted(set(zip(trials.groups.tolist(), trials.blocks.tolist(), strict=True))) == [
        (0, 0), (0, 1), (1, 0), (1, 1),
    ]  # fmt: skip
    patterns = [simulator._session(s, b).generator_patterns for s in (0, 1) for b in (0, 1)]
    assert not np.allclose(patterns[0], patterns[1])  # the head moved between sessions
    assert not np.allclose(patterns[0], patterns[2])  # another subject's generators
    # the same session rebuilt later is the same session
    assert np.array_equal(small()._session(1, 1).generator_patterns, patterns[3])


def test_the_measured_snr_is_the_stated_one_plus_the_subject_offset():
    simulator = small(snr_db=-8.0, n_subjects=3, trials_per_class=40)  # 160 trials: +-0.5 dB
    stated = [simulator.subject(s).snr_db for s in range(3)]
    assert all(-14 < value < -2 for value in stated) and len(set(stated)) == 3
    for subject, value in enumerate(stated):
        recording = simulator.recording(subject, 0)
        assert recording.snr_db() == pytest.approx(value, abs=0.5)
        assert f"SNR {value:.1f} dB" in recording.description


def test_stimuli_evoke_fields_strongest_over_the_contralateral_hemisphere():
    simulator = small(snr_db=10.0, n_subjects=1, n_sessions=1, line_freq=None)
    recording = simulator.recording(0, 0)
    evoked = recording.epochs(0.0, 0.3, recording.evoked)
    x = np.array([ch["loc"][0] for ch in recording.info["chs"]])  # device frame: +x is right
    for name, side in (("auditory_left", 1), ("auditory_right", -1), ("visual_left", 1)):
        power = evoked[recording.labels == CLASSES.index(name)].var(axis=(0, 2))
        assert power[side * x > 0.02].mean() > power[side * x < -0.02].mean(), name


def test_rest_has_no_stimuli_and_the_corpus_is_written_per_subject_and_session(tmp_path):
    simulator = small(n_subjects=1, n_sessions=2, trials_per_class=1)
    rest = simulator.rest(0, 1)
    assert len(rest.onsets) == 0 and rest.signals.shape == (102, 600)
    root = simulator.write_corpus(tmp_path / "corpus")
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.fif"))
    assert files == [
        "sub-01/ses-01/sub-01_ses-01_task-av_meg.fif",
        "sub-01/ses-01/sub-01_ses-01_task-rest_meg.fif",
        "sub-01/ses-02/sub-01_ses-02_task-av_meg.fif",
        "sub-01/ses-02/sub-01_ses-02_task-rest_meg.fif",
    ]
    raw = mne.io.read_raw_fif(root / files[0], verbose="error")
    assert sorted(set(raw.annotations.description)) == sorted(CLASSES)
    truth = json.loads((root / "truth.json").read_text())
    assert truth["seed"] == 0 and len(truth["subjects"]) == 1
    with pytest.raises(SimulatorError, match="exists and is not empty"):
        simulator.write_corpus(root)


def test_bad_options_are_refused_by_name():
    with pytest.raises(
        SimulatorError, match=r"unknown option\(s\) snr .*did you mean snr -> snr_db"
    ):
        MegSimulator(snr=3)
    with pytest.raises(
        SimulatorError,
        match="channels must be one of meg, mag, grad; sfreq must be at least 100 Hz",
    ):
        MegSimulator(sfreq=50.0, channels="eeg")


def _real_file():
    from decoders.datasets.archives import MEG_EEG
    from decoders.datasets.fetch import fetch

    return fetch(MEG_EEG, log=lambda message: None) / "test_raw.fif"
