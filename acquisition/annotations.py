"""Where a recording's annotations fall in its data, whatever its first sample and date."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import mne


def annotation_onsets(raw: mne.io.BaseRaw) -> np.ndarray:
    """Return each annotation's onset in seconds from the recording's first sample.

    MNE keeps onsets relative to sample 0 of the acquisition, before ``first_samp``, with or
    without a measurement date: cropped recordings and files starting late both need the
    recording's ``first_time`` taken off.
    """
    return np.asarray(raw.annotations.onset, float) - raw.first_time


def annotation_samples(raw: mne.io.BaseRaw) -> np.ndarray:
    """Return each annotation's onset as a sample index from the recording's first sample."""
    return np.round(annotation_onsets(raw) * raw.info["sfreq"]).astype(int)
