"""Split protocols: official split, within-session K-fold, leave one subject, block or seizure out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from decoders.datasets.errors import DataError
from decoders.datasets.trials import OfficialSplit, TrialSet
from decoders.speech.trials import SpeechTrials

if TYPE_CHECKING:
    from decoders.datasets.forecast_windows import ForecastFold, ForecastSettings
    from decoders.datasets.seizures import SeizureCorpus


@dataclass(frozen=True)
class Fold:
    """One train/test partition produced by a protocol."""

    name: str
    train: TrialSet
    test: TrialSet


class Protocol(ABC):
    """A way of splitting data into training and test trials.

    ``description`` is printed beside every figure the protocol produced.
    """

    name: str
    description: str

    @abstractmethod
    def folds(self, data: TrialSet | OfficialSplit, seed: int) -> Iterator[Fold]:
        """Yield the folds of ``data``; ``seed`` drives any shuffling."""


class OfficialProtocol(Protocol):
    """The data set's own published train/test split."""

    name = "official"
    description = "official train/test split; validation from the training part only"

    def folds(self, data: TrialSet | OfficialSplit, seed: int) -> Iterator[Fold]:
        """Yield the single official fold."""
        if not isinstance(data, OfficialSplit):
            raise DataError(getattr(data, "name", "data"), "has no official train/test split")
        yield Fold("official", data.train, data.test)


class WithinSessionKFold(Protocol):
    """Stratified K-fold over the trials of one session (trials shuffled by the seed)."""

    name = "kfold"

    def __init__(self, n_folds: int = 5) -> None:
        self.n_folds = n_folds
        self.description = f"within-session stratified {n_folds}-fold cross-validation"

    def folds(self, data: TrialSet | OfficialSplit, seed: int) -> Iterator[Fold]:
        """Yield ``n_folds`` stratified folds."""
        from sklearn.model_selection import StratifiedKFold

        trials = _pooled(data)
        counts = np.bincount(trials.labels, minlength=trials.n_classes)
        present = counts[counts > 0]
        if trials.n_trials < self.n_folds or present.min() < self.n_folds:
            raise DataError(
                trials.name,
                f"{trials.n_trials} trials (fewest per class: {present.min()}) cannot make "
                f"{self.n_folds} stratified folds",
            )
        splitter = StratifiedKFold(self.n_folds, shuffle=True, random_state=seed)
        for index, (train, test) in enumerate(splitter.split(trials.labels, trials.labels)):
            yield Fold(f"fold{index}", trials.subset(train), trials.subset(test))


class LeaveOneSubjectOut(Protocol):
    """Train on all subjects but one, test on the one left out, for every subject."""

    name = "loso"
    description = "cross-subject: leave one subject out"

    def folds(self, data: TrialSet | OfficialSplit, seed: int) -> Iterator[Fold]:
        """Yield one fold per subject."""
        yield from _leave_one_out(_pooled(data), "groups", "subject")


class ByBlock(Protocol):
    """Train on all recording blocks (runs or sessions) but one, test on the one left out."""

    name = "blocks"
    description = "by recording block: leave one block (run/session) out"

    def folds(self, data: TrialSet | OfficialSplit, seed: int) -> Iterator[Fold]:
        """Yield one fold per block."""
        yield from _leave_one_out(_pooled(data), "blocks", "block")


class LeaveOneSeizureOut(Protocol):
    """Within each subject of a seizure corpus, train on all seizures but one, test on it.

    Folds are :class:`~decoders.datasets.forecast_windows.ForecastFold`: the training windows
    of every other block and the monitoring windows before the left-out seizure (see
    :mod:`decoders.datasets.forecast_windows`); they are scored per seizure by
    :mod:`decoders.evaluation.forecast_harness`. Subjects with fewer than two seizures that
    can be forecast are skipped (``skipped`` says why); a corpus with none left is refused.
    """

    name = "seizures"
    description = "within subject: leave one seizure out (per-seizure scoring of alarms)"

    def __init__(self, settings: ForecastSettings | None = None) -> None:
        from decoders.datasets.forecast_windows import ForecastSettings

        self.settings = settings or ForecastSettings()
        self.skipped: dict[str, str] = {}

    def folds(self, data: SeizureCorpus, seed: int) -> Iterator[ForecastFold]:  # type: ignore[override]
        """Yield one fold per forecastable seizure of every subject with two or more."""
        from decoders.datasets.forecast_windows import (
            ForecastFold,
            monitoring_windows,
            seizure_blocks,
            training_windows,
        )
        from decoders.datasets.seizures import SeizureCorpus

        if not isinstance(data, SeizureCorpus):
            raise DataError(
                getattr(data, "name", "data"),
                "leave-one-seizure-out needs long recordings with seizures (a CHB-MIT folder "
                "or simulate:seizure), not trials",
            )
        usable = {}
        for subject in data.subjects:
            blocks = seizure_blocks(subject, self.settings)
            if len(blocks) < 2:
                self.skipped[subject.name] = (
                    f"{len(subject.seizures)} seizure(s), {len(blocks)} with "
                    f"{self.settings.lead_time_s:g} s seizure-free before it: "
                    "leave-one-seizure-out needs at least two"
                )
            else:
                usable[subject.name] = (subject, blocks)
        if not usable:
            reasons = "; ".join(f"{name}: {why}" for name, why in self.skipped.items())
            raise DataError(
                data.name, f"no subject can be evaluated seizure by seizure ({reasons})"
            )
        for group, (subject, blocks) in enumerate(usable.values()):
            for block in blocks:
                yield ForecastFold(
                    name=f"{subject.name}/seizure{block.index}",
                    subject=subject.name,
                    train=training_windows(
                        subject, self.settings, exclude=block, seed=seed, group=group
                    ),
                    test=monitoring_windows(subject, block, self.settings),
                )


PROTOCOLS: dict[str, type[Protocol]] = {
    cls.name: cls
    for cls in (
        OfficialProtocol,
        WithinSessionKFold,
        LeaveOneSubjectOut,
        ByBlock,
        LeaveOneSeizureOut,
    )
}


def make_protocol(name: str) -> Protocol:
    """Return the protocol called ``name`` (``official``, ``kfold(N)``, ``loso``, ``blocks``, ``seizures``)."""
    if name.startswith("kfold") and name[5:].isdigit():
        return WithinSessionKFold(int(name[5:]))
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol '{name}' (known: {', '.join(PROTOCOLS)}, kfoldN)")
    return PROTOCOLS[name]()


def validation_split(train: TrialSet, fraction: float, seed: int) -> tuple[TrialSet, TrialSet]:
    """Split training trials into a fitting part and a stratified validation part.

    Speech trials are split by sound instead (:meth:`SpeechTrials.split_by_sound`), so that
    no sentence is in both parts.

    Raises
    ------
    DataError
        When a class has fewer than two training trials, so it cannot be in both parts.
    """
    from sklearn.model_selection import train_test_split

    if isinstance(train, SpeechTrials):
        return train.split_by_sound(fraction, seed)

    counts = np.bincount(train.labels, minlength=train.n_classes)
    missing = [train.classes[c] for c in range(train.n_classes) if counts[c] < 2]
    if missing:
        raise DataError(
            train.name, f"class(es) {missing} have fewer than 2 training trials in this fold"
        )
    n_valid = max(round(fraction * train.n_trials), int((counts > 0).sum()))
    fit, valid = train_test_split(
        np.arange(train.n_trials), test_size=n_valid, stratify=train.labels, random_state=seed
    )
    return train.subset(np.sort(fit)), train.subset(np.sort(valid))


def labelled_share(train: TrialSet, fraction: float, seed: int) -> TrialSet:
    """Return a stratified share ``fraction`` of training trials (label-scarce runs).

    Every class keeps at least two trials (one to fit, one to validate); the test part of
    the fold is untouched.

    Raises
    ------
    ValueError
        When ``fraction`` is not in (0, 1].
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"the label fraction must be in (0, 1], got {fraction}")
    if fraction == 1.0:
        return train
    rng = np.random.default_rng([seed, 7])
    kept = []
    for label in range(train.n_classes):
        members = np.flatnonzero(train.labels == label)
        count = min(len(members), max(2, round(fraction * len(members))))
        kept.append(rng.choice(members, count, replace=False))
    return train.subset(np.sort(np.concatenate(kept)))


def _pooled(data: TrialSet | OfficialSplit) -> TrialSet:
    if isinstance(data, OfficialSplit):
        raise DataError(
            data.name, "has an official split; use the 'official' protocol so test stays test"
        )
    return data


def _leave_one_out(trials: TrialSet, attribute: str, what: str) -> Iterator[Fold]:
    ids = getattr(trials, attribute)
    unique = np.unique(ids)
    if unique.size < 2:
        raise DataError(trials.name, f"holds a single {what}; leave-one-{what}-out needs two")
    for value in unique:
        test = ids == value
        yield Fold(f"{what}{value}", trials.subset(~test), trials.subset(test))
