"""Preictal/interictal windows, seizure blocks and the leave-one-seizure-out folds."""

import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.datasets.forecast_windows import (
    ForecastSettings,
    monitoring_windows,
    seizure_blocks,
    training_windows,
)
from decoders.datasets.seizures import Segment, Seizure, SeizureCorpus, SeizureSubject
from decoders.evaluation.protocols import LeaveOneSeizureOut, make_protocol

SFREQ = 16.0
SETTINGS = ForecastSettings(
    window_s=2.0,
    sph_s=4.0,
    sop_s=20.0,
    interictal_gap_s=40.0,
    postictal_s=10.0,
    monitoring_s=60.0,
    k=2,
    n=3,
)


def _subject(onsets=(200.0, 400.0, 412.0, 600.0), name="s1", length=700.0):
    """One file whose samples hold their own time (channel 0), so windows show where they lie."""
    n = round(length * SFREQ)
    data = np.vstack([np.arange(n) / SFREQ, np.zeros(n)])
    seizures = tuple(Seizure(onset, onset + 5.0) for onset in onsets)
    segment = Segment(f"{name}_01", 0.0, length, lambda: data)
    return SeizureSubject(name, SFREQ, ("A-B", "C-D"), (segment,), seizures)


def test_seizures_close_after_another_join_its_cluster_and_are_not_forecast():
    blocks = seizure_blocks(_subject(), SETTINGS)

    assert [b.seizure.onset_s for b in blocks] == [200.0, 400.0, 600.0]
    assert [(b.start_s, b.end_s) for b in blocks] == [(0.0, 205.0), (205.0, 417.0), (417.0, 605.0)]


def test_training_windows_are_labelled_by_horizon_and_gap_and_leave_the_block_out():
    subject = _subject()
    blocks = seizure_blocks(subject, SETTINGS)

    trials = training_windows(subject, SETTINGS, exclude=blocks[1], seed=0)

    starts = trials.data[:, 0, 0]
    preictal = starts[trials.labels == 1]
    assert sorted(set(np.round(preictal))) == sorted(
        set(np.arange(176.0, 195.0, 2.0)) | set(np.arange(576.0, 595.0, 2.0))
    )  # [onset - SPH - SOP, onset - SPH], never before the left-out seizure at 400
    interictal = starts[trials.labels == 0]
    assert (trials.labels == 0).sum() == (trials.labels == 1).sum()  # balanced
    ends = interictal + SETTINGS.window_s
    for onset in (200.0, 400.0, 412.0, 600.0):
        assert np.all((ends <= onset - 40.0) | (interictal >= onset + 5.0 + 40.0))
    assert np.all((ends <= 205.0) | (interictal >= 417.0))
    assert trials.classes == ("interictal", "preictal")


def test_monitoring_covers_the_time_before_the_left_out_onset():
    subject = _subject()
    block = seizure_blocks(subject, SETTINGS)[1]

    monitoring = monitoring_windows(subject, block, SETTINGS)

    assert monitoring.times[0] == pytest.approx(400.0 - 60.0 + 2.0)
    assert monitoring.times[-1] == pytest.approx(400.0)
    assert monitoring.spans == ((340.0, 400.0),)
    assert np.allclose(monitoring.data[:, 0, 0], monitoring.times - 2.0)
    assert not monitoring.gaps.any()


def test_leave_one_seizure_out_gives_a_fold_per_forecast_seizure_and_skips_a_lone_one():
    corpus = SeizureCorpus("c", (_subject(), _subject(onsets=(300.0,), name="s2")))
    protocol = LeaveOneSeizureOut(SETTINGS)

    folds = list(protocol.folds(corpus, seed=0))

    assert [f.name for f in folds] == ["s1/seizure0", "s1/seizure1", "s1/seizure2"]
    assert "s2" in protocol.skipped and "needs at least two" in protocol.skipped["s2"]
    assert make_protocol("seizures").name == "seizures"


def test_a_subject_with_a_single_seizure_is_refused_clearly():
    corpus = SeizureCorpus("c", (_subject(onsets=(300.0,), name="chb05"),))

    with pytest.raises(
        DataError,
        match=r"c: no subject can be evaluated seizure by seizure "
        r"\(chb05: 1 seizure\(s\), 1 with 24 s seizure-free before it: "
        "leave-one-seizure-out needs at least two\\)",
    ):
        list(LeaveOneSeizureOut(SETTINGS).folds(corpus, seed=0))


def test_trials_are_refused_by_the_seizure_protocol():
    from decoders.datasets.trials import TrialSet

    trials = TrialSet(np.zeros((4, 1, 8)), [0, 1, 0, 1], ("a", "b"), 8.0, ("C",), ("eeg",), "toy")
    with pytest.raises(DataError, match="needs long recordings with seizures"):
        list(LeaveOneSeizureOut(SETTINGS).folds(trials, seed=0))


def test_settings_are_checked_and_unknown_ones_named():
    with pytest.raises(DataError, match=r"unknown setting\(s\) sop \(settings: window_s"):
        ForecastSettings.from_options({"sop": 5})
    with pytest.raises(DataError, match="k of n needs"):
        ForecastSettings(k=5, n=3)
    assert SETTINGS.policy().refractory_s == 24.0
