"""Sound onsets on a recording's timeline: from event markers, refined by a sound channel.

Event markers give when a sound was meant to start; the delivery hardware adds a latency
(tens of ms, with jitter). Where the recording holds the sound as played (a microphone or
the audio line on a misc channel), each onset is moved to where that channel's envelope
best matches the sound's own, within ``max_shift_s`` of the marker.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from decoders.datasets.errors import DataError

from .audio import Presentation, resample

if TYPE_CHECKING:
    import mne

MIN_CORRELATION = 0.3
"""Weakest envelope correlation accepted as finding a sound on the sound channel."""


def refine_onsets(
    raw: mne.io.BaseRaw,
    channel: str,
    presentations: list[Presentation],
    max_shift_s: float = 0.2,
    source: str = "recording",
) -> list[Presentation]:
    """Return ``presentations`` with onsets moved to where ``channel`` plays each sound.

    Raises
    ------
    DataError
        When the channel is missing or does not follow a sound near its marker.
    """
    if channel not in raw.ch_names:
        raise DataError(
            source, f"has no sound channel '{channel}' (channels: {raw.ch_names[:8]} ...)"
        )
    sfreq = raw.info["sfreq"]
    recorded = _smoothed_envelope(raw.get_data(picks=[channel])[0], sfreq)
    max_shift = round(max_shift_s * sfreq)
    refined = []
    for presentation in presentations:
        sound = presentation.sound
        expected = _smoothed_envelope(resample(np.abs(sound.samples), sound.sfreq, sfreq), sfreq)
        start = round(presentation.onset_s * sfreq)
        shift, correlation = _best_shift(recorded, expected, start, max_shift)
        if correlation < MIN_CORRELATION:
            raise DataError(
                source,
                f"sound channel '{channel}' does not follow {sound.name} within {max_shift_s:g} s "
                f"of its marker at {presentation.onset_s:.3f} s (best envelope correlation "
                f"{correlation:.2f})",
            )
        refined.append(replace(presentation, onset_s=(start + shift) / sfreq))
    return refined


def _smoothed_envelope(signal: np.ndarray, sfreq: float) -> np.ndarray:
    """Return the rectified signal smoothed over 10 ms (at least 3 samples)."""
    width = max(3, round(0.01 * sfreq))
    return np.convolve(np.abs(signal), np.ones(width) / width, mode="same")


def _best_shift(recorded: np.ndarray, expected: np.ndarray, start: int, max_shift: int):
    """Return the shift (samples) maximising the correlation of ``expected`` placed at ``start``."""
    best, best_r = 0, -1.0
    length = len(expected)
    for shift in range(-max_shift, max_shift + 1):
        first = start + shift
        if first < 0 or first + length > len(recorded):
            continue
        r = np.corrcoef(recorded[first : first + length], expected)[0, 1]
        if np.isfinite(r) and r > best_r:
            best, best_r = shift, float(r)
    return best, best_r
