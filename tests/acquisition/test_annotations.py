"""Annotations are placed in the data whatever the recording's first sample and date."""

import mne
import numpy as np
import pytest

from acquisition.annotations import annotation_onsets, annotation_samples
from acquisition.player import events_of


def _raw(first_samp: int, dated: bool) -> mne.io.RawArray:
    info = mne.create_info(2, 100.0, "eeg")
    raw = mne.io.RawArray(np.zeros((2, 1000)), info, first_samp=first_samp, verbose=False)
    if dated:
        raw.set_meas_date(0)
    raw.set_annotations(mne.Annotations([1.0, 4.5], [0.0, 0.0], ["a", "b"]))
    return raw


@pytest.mark.parametrize("dated", [False, True])
@pytest.mark.parametrize("first_samp", [0, 200])
def test_onsets_count_from_the_first_sample_before_and_after_cropping(first_samp, dated):
    raw = _raw(first_samp, dated)
    assert np.allclose(annotation_onsets(raw), [1.0, 4.5])
    assert list(annotation_samples(raw)) == [100, 450]

    cropped = raw.copy().crop(2.0, None)

    assert np.allclose(annotation_onsets(cropped), [2.5])
    assert events_of(cropped) == [(250, "b")]
