import csv

import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.speech.bids import read_listening_bids
from decoders.speech.features import FeatureSettings
from decoders.speech.pairing import PairingSettings

from .conftest import SOUND_RATE, listening_raw, write_sound

ONSETS = [1.0, 6.0, 11.0]
SETTINGS = PairingSettings(window_s=2.0, features=FeatureSettings("mel", n_mels=8))


def write_dataset(root, sounds, subjects=("01", "02"), runs=(1, 2), blocks=False):
    """A BIDS EEG listening data set: each run plays three sounds in its own order.

    Every run plays the same three sounds, or with ``blocks`` run ``r`` its own three.
    """
    import mne_bids
    import pandas as pd

    for index, samples in enumerate(sounds):
        write_sound(root / "stimuli" / f"s{index}.wav", samples, declared=SOUND_RATE)
    for number, subject in enumerate(subjects):
        for run in runs:
            first = 3 * (run - 1) if blocks else 0
            order = first + np.random.default_rng([number, run]).permutation(3)
            raw = listening_raw([sounds[i] for i in order], ONSETS, seed=number)
            samples = np.round(np.array(ONSETS) * raw.info["sfreq"]).astype(int)
            events = np.column_stack([samples, np.zeros(3, int), np.ones(3, int)])
            mne_bids.write_raw_bids(
                raw,
                mne_bids.BIDSPath(
                    subject=subject, task="listen", run=run, datatype="eeg", root=root
                ),
                events=events,
                event_id={"sound": 1},
                event_metadata=pd.DataFrame({"stim_file": [f"s{i}.wav" for i in order]}),
                extra_columns_descriptions={"stim_file": "sound played"},
                allow_preload=True,
                format="BrainVision",
                overwrite=True,
                verbose="error",
            )
    return root


def events_files(root):
    return sorted(root.rglob("*_events.tsv"))


def rewrite(path, change):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    rows = change(rows)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    from .conftest import sound

    return write_dataset(
        tmp_path_factory.mktemp("bids") / "bids", [sound(seed) for seed in range(3)]
    )


@pytest.fixture
def dataset(tmp_path, written):
    """A fresh copy of the data set, for tests that damage it."""
    import shutil

    return shutil.copytree(written, tmp_path / "bids")


def test_a_bids_listening_data_set_reads_into_pairs(written):
    trials = read_listening_bids(written, SETTINGS)

    assert trials.classes == ("stimuli/s0.wav", "stimuli/s1.wav", "stimuli/s2.wav")
    assert trials.n_trials == 2 * 2 * 3 * 2  # subjects x runs x sounds x segments of 2 s
    assert sorted(set(trials.groups)) == [0, 1] and sorted(set(trials.blocks)) == [0, 1]
    assert trials.features.shape[1:] == (8, 40) and trials.data.shape[1:] == (4, 240)
    assert trials.ch_pos is not None and set(trials.ch_pos) == set(trials.ch_names)
    # every listener heard the same segments: 6 distinct ones
    embeddings, truth = trials.candidates()
    assert len(embeddings) == 6 and set(truth) == set(range(6))


def test_gwilliams_style_word_events_name_the_sound_and_the_start_within_it(dataset):
    reference = read_listening_bids(dataset, SETTINGS)

    def words(rows):  # one event per word: the sound and the word's start inside it
        out = []
        for row in rows:
            for start in (0.0, 0.5, 1.25):
                sound = f"stimuli/{row['stim_file']}"
                out.append(
                    {
                        "onset": f"{float(row['onset']) + start:.4f}",
                        "duration": "0.3",
                        "trial_type": str({"kind": "word", "sound": sound, "start": start}),
                    }
                )
        return out

    for path in events_files(dataset):
        rewrite(path, words)
    trials = read_listening_bids(dataset, SETTINGS)
    assert trials.n_trials == reference.n_trials
    assert np.allclose(trials.data, reference.data) and np.allclose(
        trials.features, reference.features
    )


def test_a_missing_sound_file_is_named_with_its_events_file(dataset):
    (dataset / "stimuli" / "s1.wav").unlink()
    with pytest.raises(DataError, match=r"names sound 's1\.wav', but no such file"):
        read_listening_bids(dataset, SETTINGS)


def test_a_marker_without_a_matching_sound_file_is_named(dataset):
    first = events_files(dataset)[0]
    rewrite(first, lambda rows: [{**rows[0], "stim_file": "unknown.wav"}, *rows[1:]])
    with pytest.raises(DataError, match=r"line 2 names sound 'unknown\.wav'"):
        read_listening_bids(dataset, SETTINGS)


def test_a_sound_at_another_rate_than_declared_is_refused(dataset, sounds):
    write_sound(dataset / "stimuli" / "s2.wav", sounds[2], rate=16000, declared=SOUND_RATE)
    with pytest.raises(
        DataError, match=r"s2\.wav: sampled at 16000 Hz, but its rate is declared as 8000 Hz"
    ):
        read_listening_bids(dataset, SETTINGS)


def test_a_folder_that_is_not_bids_or_holds_no_listening_is_refused(tmp_path, dataset):
    with pytest.raises(DataError, match="not a BIDS data set"):
        read_listening_bids(tmp_path, SETTINGS)
    for path in events_files(dataset):
        rewrite(path, lambda rows: [{**row, "stim_file": "n/a"} for row in rows])
    with pytest.raises(DataError, match="no events file names a sound"):
        read_listening_bids(dataset, SETTINGS)
