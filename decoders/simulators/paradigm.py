"""The timing of a cue-based session: fixation, cue and task period, rest; its annotations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import mne

FIXATION = "fixation"
REST = "rest"


@dataclass(frozen=True)
class CueTiming:
    """Durations of one trial, in seconds (the Graz / BCI Competition IV 2a design by default).

    Attributes
    ----------
    fixation_s : float
        Fixation cross before the cue.
    task_s : float
        From the cue onset to the end of the task period (imagery).
    rest_s : tuple of float
        Range of the random rest after the task period.
    lead_s : float
        Quiet time before the first trial of a recording.
    """

    fixation_s: float = 2.0
    task_s: float = 4.0
    rest_s: tuple[float, float] = (1.5, 2.5)
    lead_s: float = 2.0


@dataclass(frozen=True)
class Schedule:
    """The trials of one continuous recording.

    Attributes
    ----------
    cue_onsets : ndarray of float, shape (n_trials,)
        Cue onsets in seconds from the start of the recording.
    labels : ndarray of int, shape (n_trials,)
        Class index of each cue.
    rest_durations : ndarray of float, shape (n_trials,)
        Rest after each task period, in seconds.
    timing : CueTiming
        Fixation and task durations.
    duration_s : float
        Length of the recording.
    """

    cue_onsets: np.ndarray
    labels: np.ndarray
    rest_durations: np.ndarray
    timing: CueTiming
    duration_s: float

    @property
    def n_trials(self) -> int:
        """Return the number of trials."""
        return self.labels.size

    def annotations(self, classes: tuple[str, ...]) -> mne.Annotations:
        """Return annotations ``fixation``, the class name (cue to end of task) and ``rest``."""
        import mne

        timing = self.timing
        onsets = np.column_stack(
            [self.cue_onsets - timing.fixation_s, self.cue_onsets, self.cue_onsets + timing.task_s]
        )
        durations = np.column_stack(
            [
                np.full(self.n_trials, timing.fixation_s),
                np.full(self.n_trials, timing.task_s),
                self.rest_durations,
            ]
        )
        names = np.column_stack(
            [
                np.full(self.n_trials, FIXATION, dtype=object),
                np.array([classes[label] for label in self.labels], dtype=object),
                np.full(self.n_trials, REST, dtype=object),
            ]
        )
        return mne.Annotations(onsets.ravel(), durations.ravel(), names.ravel().tolist())


def schedule_labels(rng: np.random.Generator, labels: np.ndarray, timing: CueTiming) -> Schedule:
    """Return the schedule of a recording running ``labels`` in order, with random rests."""
    rests = rng.uniform(*timing.rest_s, size=labels.size)
    end = timing.lead_s + np.sum(timing.fixation_s + timing.task_s + rests) + timing.rest_s[0]
    return _schedule(np.asarray(labels, dtype=int), rests, timing, float(end))


def schedule_duration(
    rng: np.random.Generator, n_classes: int, timing: CueTiming, duration_s: float
) -> Schedule:
    """Return the schedule of a recording of ``duration_s`` holding as many trials as fit.

    Classes come in shuffled blocks holding each class once, so any stretch of the recording
    is close to balanced. The last trial ends with its rest before ``duration_s``.
    """
    labels: list[int] = []
    rests: list[float] = []
    end = timing.lead_s
    while True:
        for label in rng.permutation(n_classes):
            rest = float(rng.uniform(*timing.rest_s))
            end += timing.fixation_s + timing.task_s + rest
            if end > duration_s:
                return _schedule(
                    np.asarray(labels, dtype=int), np.asarray(rests), timing, duration_s
                )
            labels.append(int(label))
            rests.append(rest)


def _schedule(
    labels: np.ndarray, rests: np.ndarray, timing: CueTiming, duration_s: float
) -> Schedule:
    """Return the schedule of consecutive trials starting after the lead time."""
    lengths = timing.fixation_s + timing.task_s + rests
    starts = timing.lead_s + np.cumsum(lengths) - lengths
    return Schedule(starts + timing.fixation_s, labels, rests, timing, float(duration_s))
