"""Rejection of artefacted training trials by autoreject's learned peak-to-peak thresholds.

``--reject auto`` runs :func:`autoreject.get_rejection_threshold` (Bayesian optimisation of
one peak-to-peak threshold per channel type, by cross-validation) on the training trials of
each fit only, then drops the training trials exceeding a threshold. Test trials are never
rejected: a sealed test set is scored whole, so the score stays comparable between runs with
and without rejection.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet

REJECT_CHOICES = ("auto",)
"""Values of ``--reject``: ``auto`` (autoreject's learned global thresholds)."""

SUPPORTED_TYPES = ("mag", "grad", "eeg", "eog", "ecog", "seeg")
"""Channel types autoreject learns a threshold for."""

MIN_TRIALS = 10
"""Fewest training trials autoreject's 5-fold cross-validation is run on."""


@dataclass(frozen=True)
class RejectionReport:
    """What rejection did to one training part: thresholds (V, peak-to-peak) and counts."""

    method: str
    thresholds: dict[str, float]
    n_trials: int
    n_dropped: int

    def to_dict(self) -> dict[str, object]:
        """Return the report as plain JSON values."""
        return asdict(self)


def reject_trials(train: TrialSet, method: str, seed: int) -> tuple[TrialSet, RejectionReport]:
    """Return the training trials within the thresholds learned on them, and the report.

    Parameters
    ----------
    train : TrialSet
        Training trials of one fit (never test trials).
    method : str
        One of :data:`REJECT_CHOICES`.
    seed : int
        Seeds autoreject's optimisation.

    Raises
    ------
    DataError
        When ``method`` is unknown, the trials are too few, carry no channel type autoreject
        handles, or rejection would leave a class with fewer than two trials.
    """
    if method not in REJECT_CHOICES:
        raise DataError(train.name, f"unknown rejection '{method}' (known: {REJECT_CHOICES})")
    if train.n_trials < MIN_TRIALS:
        raise DataError(
            train.name,
            f"{train.n_trials} training trials are too few to learn rejection thresholds "
            f"(autoreject cross-validates: at least {MIN_TRIALS})",
        )
    types = sorted(set(train.ch_types) & set(SUPPORTED_TYPES))
    if not types:
        raise DataError(
            train.name,
            f"autoreject learns thresholds for {', '.join(SUPPORTED_TYPES)} channels; these "
            f"trials hold {', '.join(sorted(set(train.ch_types)))}",
        )
    thresholds = _learn_thresholds(train, types, seed)
    keep = _within(train, thresholds)
    kept = train.subset(np.flatnonzero(keep))
    counts = np.bincount(kept.labels, minlength=train.n_classes)
    if counts.min() < 2:
        poor = [train.classes[i] for i in np.flatnonzero(counts < 2)]
        raise DataError(
            train.name,
            f"rejection would leave class(es) {', '.join(poor)} with fewer than two training "
            f"trials (thresholds {_describe(thresholds)}); check the recording or train "
            "without --reject",
        )
    report = RejectionReport(method, thresholds, train.n_trials, int((~keep).sum()))
    return kept, report


def _learn_thresholds(train: TrialSet, types: list[str], seed: int) -> dict[str, float]:
    from autoreject import get_rejection_threshold

    learned = get_rejection_threshold(
        train.to_epochs(), random_state=seed, ch_types=types, verbose=False
    )
    return {kind: float(value) for kind, value in learned.items()}


def _within(train: TrialSet, thresholds: dict[str, float]) -> np.ndarray:
    """Return which trials stay under every threshold on every channel of its type."""
    peak_to_peak = np.ptp(train.data, axis=2)
    types = np.asarray(train.ch_types)
    keep = np.ones(train.n_trials, dtype=bool)
    for kind, limit in thresholds.items():
        keep &= (peak_to_peak[:, types == kind] <= limit).all(axis=1)
    return keep


_DISPLAY = {"mag": (1e15, "fT"), "grad": (1e13, "fT/cm")}
"""Scale and unit of thresholds per channel type for messages (others: µV)."""


def _describe(thresholds: dict[str, float]) -> str:
    parts = []
    for kind, value in thresholds.items():
        scale, unit = _DISPLAY.get(kind, (1e6, "µV"))
        parts.append(f"{kind} {value * scale:.0f} {unit}")
    return ", ".join(parts)
