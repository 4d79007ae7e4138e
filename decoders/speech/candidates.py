"""Candidate segments for live ranking: every segment of a listening test's sounds, embedded.

The segments are cut and featurised exactly as the speech model's training pairs were (its
card's speech settings: features, window, hop), then turned into retrieval embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from decoders.datasets.errors import DataError

from .audio import read_sound, resample
from .features import AUDIO_SFREQ, segment_embeddings
from .pairing import PairingSettings, segment_count, segment_features

SOUND_SUFFIXES = (".wav", ".flac", ".ogg")


def sound_files(paths: Sequence[Path]) -> list[Path]:
    """Return the sound files named by ``paths`` (files, or folders searched recursively)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in SOUND_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise DataError(path, "sound file missing")
    if not found:
        raise DataError(", ".join(map(str, paths)), "holds no sound file (.wav, .flac, .ogg)")
    return found


def candidate_embeddings(
    paths: Sequence[Path], speech: dict[str, Any]
) -> tuple[list[str], np.ndarray]:
    """Return the names (``SOUND@START_S``) and embeddings of every segment of the sounds.

    Parameters
    ----------
    paths : sequence of Path
        Sound files or folders of them.
    speech : dict
        The speech model's settings (``card.extra["speech"]``).

    Raises
    ------
    DataError
        When a sound is missing or unreadable, or no sound holds a whole segment.
    """
    settings = PairingSettings.from_dict(speech)
    names, features = [], []
    for path in sound_files(paths):
        sound = read_sound(path)
        audio = resample(sound.samples, sound.sfreq, AUDIO_SFREQ)
        for segment in range(segment_count(sound, settings)):
            names.append(f"{path.name}@{segment * settings.step_s:.2f}")
            features.append(segment_features(audio, segment, settings))
    if not names:
        raise DataError(
            ", ".join(map(str, paths)), f"no sound is at least {settings.window_s:g} s long"
        )
    return names, segment_embeddings(np.stack(features))
