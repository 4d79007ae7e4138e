"""Trial sets: back-to-back recordings for replay."""

import numpy as np

from decoders.datasets.trials import TrialSet
from decoders.training.epoching import epochs_from_annotations


def _trials() -> TrialSet:
    rng = np.random.default_rng(0)
    return TrialSet(
        data=rng.standard_normal((5, 3, 40)) * 1e-6,
        labels=np.array([0, 1, 1, 0, 1]),
        classes=("rest", "move"),
        sfreq=100.0,
        ch_names=("C3", "Cz", "C4"),
        ch_types=("eeg", "eeg", "eeg"),
        name="toy",
    )


def test_trials_played_back_to_back_are_cut_again_from_their_markers():
    trials = _trials()

    raw = trials.to_raw()

    assert raw.n_times == 5 * 40
    assert list(raw.annotations.description) == ["rest", "move", "move", "rest", "move"]
    again = epochs_from_annotations(
        raw, source="replayed", classes=list(trials.classes), tmin=0.0, tmax=0.4
    )
    assert np.array_equal(again.data, trials.data)
    assert np.array_equal(again.labels, trials.labels)
