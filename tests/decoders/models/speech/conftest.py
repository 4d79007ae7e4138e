"""Synthetic speech trials: brain windows that are a noisy linear image of the features heard."""

from __future__ import annotations

import numpy as np
import pytest

from decoders.speech.features import FeatureSettings
from decoders.speech.pairing import PairingSettings
from decoders.speech.trials import SpeechTrials

N_CHANNELS, N_FEATURES, N_FRAMES, POOL = 6, 4, 10, 4


def speech_trials(n_sounds=12, segments=3, subjects=2, blocks=2, noise=0.3, seed=0) -> SpeechTrials:
    """Every subject hears every sound; block ``b`` holds sounds ``b::blocks``."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n_sounds, segments, N_FEATURES, N_FRAMES))
    mixing = rng.normal(size=(subjects, N_CHANNELS, N_FEATURES))
    data, labels, segs, groups, block_ids, heard = [], [], [], [], [], []
    for subject in range(subjects):
        for sound in range(n_sounds):
            for segment in range(segments):
                upsampled = np.repeat(features[sound, segment], POOL, axis=1)
                window = mixing[subject] @ upsampled + noise * rng.normal(
                    size=(N_CHANNELS, N_FRAMES * POOL)
                )
                data.append(window * 1e-6)
                labels.append(sound)
                segs.append(segment)
                groups.append(subject)
                block_ids.append(sound % blocks)
                heard.append(features[sound, segment])
    angles = np.linspace(0, 2 * np.pi, N_CHANNELS, endpoint=False)
    names = tuple(f"E{i}" for i in range(N_CHANNELS))
    pairing = PairingSettings(
        window_s=1.0, sfreq=40.0, features=FeatureSettings("mel", 10.0, N_FEATURES)
    )
    return SpeechTrials(
        data=np.array(data),
        labels=np.array(labels),
        classes=tuple(f"sound{i:02d}.wav" for i in range(n_sounds)),
        sfreq=40.0,
        ch_names=names,
        ch_types=("eeg",) * N_CHANNELS,
        name="synthetic speech",
        groups=np.array(groups),
        blocks=np.array(block_ids),
        ch_pos={
            n: 0.09 * np.array([np.cos(a), np.sin(a), 0.3])
            for n, a in zip(names, angles, strict=True)
        },
        features=np.array(heard),
        segments=np.array(segs),
        speech={**pairing.to_dict(), "alignment": "event markers"},
    )


SMALL = dict(
    n_virtual=8,
    fourier_dim=32,
    hidden=16,
    n_blocks=1,
    max_epochs=30,
    patience=30,
    lr=3e-3,
    batch_size=32,
)


@pytest.fixture(scope="module")
def trials() -> SpeechTrials:
    return speech_trials()
