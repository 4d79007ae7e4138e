"""Bring trials to another set's channels, rate, length and classes, or say why they can't be.

A user's test session, a later session scored by a saved decoder, or a recording of a BIDS
data set may differ from the training trials in channel order, extra channels or sampling
rate: channels are picked by name and trials resampled (a whole trial at a time, offline).
Missing channels, other trial lengths and classes the training never saw are errors naming
the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from .errors import DataError
from .trials import TrialSet


@dataclass(frozen=True)
class TrialShape:
    """What matched trials must be: channels in order, rate, samples per trial and classes."""

    ch_names: tuple[str, ...]
    sfreq: float
    n_times: int
    classes: tuple[str, ...]
    name: str

    @classmethod
    def of(cls, trials: TrialSet) -> TrialShape:
        """Return the shape of ``trials`` (named after them)."""
        return cls(trials.ch_names, trials.sfreq, trials.n_times, trials.classes, trials.name)


def match_trials(trials: TrialSet, target: TrialShape) -> tuple[TrialSet, list[str]]:
    """Return ``trials`` on ``target``'s channels, rate and class codes, and what was changed.

    Raises
    ------
    DataError
        Naming ``trials`` and the difference: a class ``target`` lacks, channels it lacks,
        trials of another duration.
    """
    notes: list[str] = []
    trials = _match_classes(trials, target)
    if trials.ch_names != target.ch_names:
        missing = [name for name in target.ch_names if name not in trials.ch_names]
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise DataError(
                trials.name,
                f"lacks {len(missing)} of the {len(target.ch_names)} channels of {target.name}: "
                f"{shown} (it has {', '.join(trials.ch_names[:12])}"
                f"{' ...' if len(trials.ch_names) > 12 else ''})",
            )
        extra = len(trials.ch_names) - len(target.ch_names)
        picks = [trials.ch_names.index(name) for name in target.ch_names]
        trials = replace(
            trials,
            data=trials.data[:, picks],
            ch_names=target.ch_names,
            ch_types=tuple(trials.ch_types[i] for i in picks),
            ch_pos=trials.ch_pos,
        )
        notes.append(
            f"channels picked by name in {target.name}'s order"
            + (f" ({extra} others left out)" if extra else "")
        )
    if not np.isclose(trials.sfreq, target.sfreq):
        notes.append(f"resampled from {trials.sfreq:g} Hz to {target.sfreq:g} Hz")
        trials = resample_trials(trials, target.sfreq)
    if trials.n_times != target.n_times:
        raise DataError(
            trials.name,
            f"trials of {trials.n_times} samples ({trials.n_times / trials.sfreq:.3f} s) but "
            f"{target.name}'s have {target.n_times} ({target.n_times / target.sfreq:.3f} s)",
        )
    return trials, notes


def resample_trials(trials: TrialSet, sfreq: float) -> TrialSet:
    """Return ``trials`` resampled to ``sfreq`` (polyphase, each whole trial at once)."""
    from scipy.signal import resample_poly

    ratio = Fraction(sfreq / trials.sfreq).limit_denominator(1000)
    if not np.isclose(trials.sfreq * ratio.numerator / ratio.denominator, sfreq, rtol=1e-6):
        raise DataError(
            trials.name, f"a rate of {trials.sfreq:g} Hz cannot be resampled to {sfreq:g} Hz"
        )
    data = resample_poly(trials.data, ratio.numerator, ratio.denominator, axis=-1)
    return replace(trials, data=data, sfreq=float(sfreq))


def _match_classes(trials: TrialSet, target: TrialShape) -> TrialSet:
    present = [trials.classes[code] for code in np.unique(trials.labels)]
    unseen = [name for name in present if name not in target.classes]
    if unseen:
        raise DataError(
            trials.name,
            f"holds class(es) {unseen} that {target.name} never saw (its classes: "
            f"{list(target.classes)})",
        )
    if trials.classes == target.classes:
        return trials
    codes = np.array([target.classes.index(trials.classes[code]) for code in trials.labels])
    return replace(trials, labels=codes, classes=target.classes)


def select_classes(trials: TrialSet, classes: tuple[str, ...]) -> TrialSet:
    """Return the trials of ``classes`` only, coded in that order.

    Raises
    ------
    DataError
        When a class is not among the trials' classes.
    """
    unknown = [name for name in classes if name not in trials.classes]
    if unknown:
        raise DataError(
            trials.name, f"has no class {unknown} (its classes: {list(trials.classes)})"
        )
    wanted = [trials.classes.index(name) for name in classes]
    keep = np.isin(trials.labels, wanted)
    kept = trials.subset(keep)
    codes = np.array([wanted.index(code) for code in kept.labels], dtype=int)
    return replace(kept, labels=codes, classes=tuple(classes))
