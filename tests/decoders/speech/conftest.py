"""Tiny listening recordings and sounds for the speech tests (written by the tests)."""

from __future__ import annotations

import json

import numpy as np
import pytest

SOUND_RATE = 8000


def sound(seed: int, seconds: float = 4.0, rate: int = SOUND_RATE) -> np.ndarray:
    """Return noise whose loudness follows a random syllable-like (2-6 Hz) envelope."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    times = np.arange(n) / rate
    envelope = np.zeros(n)
    for _ in range(8):
        envelope += (
            rng.uniform(0.2, 1.0)
            * np.sin(2 * np.pi * rng.uniform(2, 6) * times + rng.uniform(0, 6)) ** 2
        )
    tone = np.sin(2 * np.pi * rng.uniform(200, 1500) * times)
    return 0.1 * envelope * (0.5 * tone + rng.standard_normal(n) * 0.5)


def write_sound(path, samples, rate=SOUND_RATE, declared=None):
    """Write a WAV file (and a rate sidecar when ``declared`` is given)."""
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, samples, rate, subtype="PCM_16")
    if declared is not None:
        path.with_suffix(".json").write_text(json.dumps({"SamplingFrequency": declared}))
    return path


def listening_raw(sounds, onsets, sfreq=120.0, lag=0.15, delay=0.0, seed=0, n_eeg=4):
    """Return a recording whose EEG follows each sound's envelope ``lag`` s late.

    Channel ``AUDIO`` plays the sounds ``delay`` s after ``onsets`` (the markers).
    """
    import mne

    from decoders.speech.audio import resample
    from decoders.speech.features import envelope

    rng = np.random.default_rng(seed)
    duration = max(o + len(s) / SOUND_RATE for s, o in zip(sounds, onsets, strict=True)) + 2.0
    n = round(duration * sfreq)
    follow, played = np.zeros(n), np.zeros(n)
    for samples, onset in zip(sounds, onsets, strict=True):
        audio = resample(samples, SOUND_RATE, 16000.0)
        env = envelope(audio, sfreq, round(len(audio) / 16000.0 * sfreq))
        start = round((onset + delay) * sfreq)
        played[start : start + len(env)] += env
        follow[start + round(lag * sfreq) : start + round(lag * sfreq) + len(env)] += env
    names = [f"EEG{i}" for i in range(n_eeg)]
    data = np.vstack([follow * 1e-5 + rng.normal(0, 1e-7, n) for _ in names] + [played])
    info = mne.create_info([*names, "AUDIO"], sfreq, ["eeg"] * n_eeg + ["misc"])
    raw = mne.io.RawArray(data, info, verbose="error")
    positions = {name: np.array([np.cos(i), np.sin(i), 0.5]) * 0.09 for i, name in enumerate(names)}
    raw.set_montage(mne.channels.make_dig_montage(ch_pos=positions, coord_frame="head"))
    return raw


@pytest.fixture
def sounds():
    """Three distinct 4 s sounds."""
    return [sound(seed) for seed in range(3)]
