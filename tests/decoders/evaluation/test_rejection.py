"""Rejection of artefacted training trials: thresholds learned on training trials only, test
trials all scored, and each refusal said."""

from dataclasses import replace

import numpy as np
import pytest

from decoders import registry
from decoders.datasets.errors import DataError
from decoders.datasets.trials import OfficialSplit, TrialSet
from decoders.evaluation.harness import evaluate
from decoders.evaluation.protocols import OfficialProtocol
from decoders.evaluation.rejection import reject_trials

NAMES = ("Fz", "C3", "Cz", "C4", "Pz", "Oz")


def trials(n=60, seed=0, artefacts=(), name="toy", labels=None):
    """Two classes of 10 µV noise (class 1 louder on C3); a 2 mV blink on Fz in ``artefacts``."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2 if labels is None else np.asarray(labels)
    data = rng.standard_normal((n, len(NAMES), 100)) * 10e-6
    data[labels == 1, 1] *= 1.5
    for index in artefacts:
        data[index, 0, 40:60] += 2e-3 * np.hanning(20)
    return TrialSet(data, labels, ("rest", "move"), 100.0, NAMES, ("eeg",) * len(NAMES), name)


def test_blinks_are_dropped_and_clean_trials_kept():
    blinks = [3, 10, 17, 30, 44]
    data = trials(artefacts=blinks)
    kept, report = reject_trials(data, "auto", seed=0)

    peak_to_peak = np.ptp(data.data, axis=2).max(axis=1)
    assert (peak_to_peak[blinks] > report.thresholds["eeg"]).all()  # every blink dropped
    # autoreject's global threshold sits in the upper tail of clean trials: a few go too
    assert report.n_trials == 60 and len(blinks) <= report.n_dropped <= len(blinks) + 11
    assert kept.n_trials == 60 - report.n_dropped
    # the learned threshold lies between clean peak-to-peak (~80 µV) and the blinks (2 mV)
    assert 5e-5 < report.thresholds["eeg"] < 1e-3
    assert report == reject_trials(trials(artefacts=blinks), "auto", seed=0)[1]  # seeded


def test_the_test_part_is_scored_whole_and_the_record_lists_the_drops():
    split = OfficialSplit(
        trials(artefacts=[1, 2, 5], name="train"), trials(40, seed=3, artefacts=[0, 7], name="test")
    )
    record = evaluate(
        lambda seed: registry.create("csp-lda", seed=seed, n_components=2),
        split,
        OfficialProtocol(),
        [0],
        decoder_name="csp-lda",
        reject="auto",
    )

    [rejected] = record.rejection
    assert rejected["n_dropped"] >= 3 and rejected["method"] == "auto" and rejected["seed"] == 0
    assert record.folds[0].n_test == 40  # blinks in test trials stay: scored whole
    assert record.folds[0].n_train + record.folds[0].n_valid == 60 - rejected["n_dropped"]


def test_rejection_that_empties_a_class_is_refused_naming_it():
    labels = [0] * 57 + [1] * 3  # a rare class, two of its three trials blinked
    with pytest.raises(DataError, match="leave class\\(es\\) move with fewer than two"):
        reject_trials(trials(artefacts=[57, 58], labels=labels), "auto", seed=0)


@pytest.mark.parametrize(
    ("data", "method", "message"),
    [
        (trials(8), "auto", "8 training trials are too few"),
        (trials(), "ransac", "unknown rejection 'ransac'"),
        (
            replace(trials(), ch_types=("misc",) * len(NAMES)),
            "auto",
            "these trials hold misc",
        ),
    ],
)
def test_bad_requests_are_clear_errors(data, method, message):
    with pytest.raises(DataError, match=message):
        reject_trials(data, method, seed=0)
