import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.speech.alignment import refine_onsets
from decoders.speech.audio import Presentation, Sound
from decoders.speech.features import FeatureSettings, segment_embeddings
from decoders.speech.pairing import ListeningRun, PairingSettings, pair_runs

from .conftest import SOUND_RATE, listening_raw


def _presentations(sounds, onsets):
    return [
        Presentation(onset, Sound(f"s{i}.wav", samples, SOUND_RATE))
        for i, (samples, onset) in enumerate(zip(sounds, onsets, strict=True))
    ]


def test_windows_are_shifted_by_the_lag_and_paired_with_their_segment(sounds):
    onsets = [1.0, 6.0, 11.0]
    raw = listening_raw(sounds, onsets, lag=0.15)
    settings = PairingSettings(
        window_s=2.0, lag_s=0.15, features=FeatureSettings("envelope", frame_rate=120.0)
    )
    run = ListeningRun(raw, _presentations(sounds, onsets), 0, 0, "rec")

    trials = pair_runs([run], settings, "toy")

    assert trials.n_trials == 6 and list(trials.segments) == [0, 1] * 3
    assert trials.classes == ("s0.wav", "s1.wav", "s2.wav") and trials.ch_pos is not None
    assert trials.ch_names == tuple(f"EEG{i}" for i in range(4))  # the sound channel is not brain
    # The brain follows the envelope exactly `lag` late: each window equals its segment's
    # envelope (at zero shift), and a window paired without the lag is off by 18 samples.
    brain, heard = trials.data[:, 0], trials.features[:, 0]
    for window, segment in zip(brain, heard, strict=True):
        assert np.corrcoef(window, segment)[0, 1] > 0.95
    unshifted = pair_runs([run], PairingSettings(**{**settings.__dict__, "lag_s": 0.0}), "toy")
    correlation = [
        np.corrcoef(w, s)[0, 1] for w, s in zip(unshifted.data[:, 0], heard, strict=True)
    ]
    assert np.mean(correlation) < 0.9


def test_onsets_are_refined_on_the_sound_channel(sounds):
    onsets = [1.0, 6.0, 11.0]
    raw = listening_raw(sounds, onsets, delay=0.042)
    refined = refine_onsets(raw, "AUDIO", _presentations(sounds, onsets))
    assert [p.onset_s for p in refined] == pytest.approx([o + 0.042 for o in onsets], abs=1 / 120)


def test_a_sound_channel_that_does_not_play_the_sound_is_refused(sounds):
    raw = listening_raw(sounds[:1], [1.0])
    wrong = _presentations(sounds[1:2], [6.0])  # silence there
    with pytest.raises(DataError, match=r"does not follow s0\.wav"):
        refine_onsets(raw, "AUDIO", wrong)
    with pytest.raises(DataError, match="no sound channel 'MIC'"):
        refine_onsets(raw, "MIC", wrong)


def test_overlapping_sounds_and_sounds_shorter_than_a_window_are_refused(sounds):
    raw = listening_raw(sounds, [1.0, 3.0, 11.0])
    run = ListeningRun(raw, _presentations(sounds, [1.0, 3.0, 11.0]), 0, 0, "rec")
    with pytest.raises(DataError, match=r"before s0\.wav ends"):
        pair_runs([run], PairingSettings(), "toy")
    run = ListeningRun(raw, _presentations(sounds[:1], [1.0]), 0, 0, "rec")
    with pytest.raises(DataError, match="no sound is at least 5 s long"):
        pair_runs([run], PairingSettings(window_s=5.0), "toy")


def test_speech_trials_split_by_sound_and_refuse_a_sentence_in_train_and_test(sounds):
    onsets = [1.0, 6.0, 11.0]
    settings = PairingSettings(window_s=1.0, features=FeatureSettings("mel", n_mels=8))
    trials = pair_runs(
        [ListeningRun(listening_raw(sounds, onsets), _presentations(sounds, onsets), 0, 0, "r")],
        settings,
        "toy",
    )
    fit, valid = trials.split_by_sound(0.3, seed=0)
    assert not set(fit.labels) & set(valid.labels) and fit.n_trials + valid.n_trials == 12
    assert fit.features.shape[1:] == (8, 20)
    with pytest.raises(DataError, match="in both the training and the test part"):
        trials.subset(trials.labels < 2).require_unseen(trials.subset(trials.labels > 0))
    embeddings, truth = trials.concat(trials).candidates()
    assert len(embeddings) == 12 and list(truth) == list(range(12)) * 2  # duplicates collapse
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0)
    assert np.allclose(embeddings, segment_embeddings(trials.features))


def test_one_sound_with_several_segments_is_enough_to_learn_from(sounds):
    settings = PairingSettings(window_s=1.0, features=FeatureSettings("envelope"))
    run = ListeningRun(
        listening_raw(sounds[:1], [1.0]), _presentations(sounds[:1], [1.0]), 0, 0, "r"
    )
    trials = pair_runs([run], settings, "toy")
    trials.require_classes()  # four segments of one sound
    with pytest.raises(DataError, match="holds 1 distinct speech segment"):
        trials.subset(trials.segments == 0).require_classes()
