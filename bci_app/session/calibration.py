"""The motor-imagery cue paradigm: a randomized plan of trials and a clock-driven runner.

Each trial is fixation, cue (the class is shown), imagery (the participant keeps imagining),
then a rest of random length. :func:`build_schedule` draws the trials in shuffled blocks
holding each class once (any stretch of the session is near balanced); a :class:`CueRunner`
turns the schedule into timed phase changes on the LSL clock, each with the marker that
goes to the recording: ``fixation``, the class name at the cue onset, ``imagery``, ``rest``
and ``calibration_end``. Nothing here waits: the caller asks what is due at a given time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

END_MARKER = "calibration_end"


class Phase(Enum):
    """Where a trial stands."""

    WAITING = "waiting"  # before the first trial
    FIXATION = "fixation"
    CUE = "cue"
    IMAGERY = "imagery"
    REST = "rest"
    DONE = "done"


@dataclass(frozen=True)
class CalibrationPlan:
    """What the paradigm runs, and the part of each trial a decoder is trained on.

    Parameters
    ----------
    classes : tuple of str
        Imagined movements (marker texts at the cue onsets).
    trials_per_class : int
        Trials of each class.
    fixation_s, cue_s, imagery_s : float
        Durations of the fixation cross, the cue, and the imagery after the cue.
    rest_s : tuple of float
        Range of the random rest after the imagery.
    lead_s : float
        Time before the first fixation.
    tmin, tmax : float
        Training window, seconds from the cue onset.
    seed : int
        Seeds the class order and the rests.
    """

    classes: tuple[str, ...] = ("left_hand", "right_hand")
    trials_per_class: int = 10
    fixation_s: float = 2.0
    cue_s: float = 1.25
    imagery_s: float = 2.75
    rest_s: tuple[float, float] = (1.5, 2.5)
    lead_s: float = 2.0
    tmin: float = 0.5
    tmax: float = 2.5
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "rest_s", tuple(float(v) for v in self.rest_s))
        problems = []
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            problems.append(f"at least two distinct classes are needed, got {self.classes}")
        if any(not name.strip() or name in _RESERVED for name in self.classes):
            problems.append(f"class names cannot be empty or one of {sorted(_RESERVED)}")
        if self.trials_per_class < 1:
            problems.append(f"trials_per_class must be at least 1, got {self.trials_per_class}")
        if min(self.fixation_s, self.cue_s, self.imagery_s) <= 0 or self.lead_s < 0:
            problems.append("fixation, cue and imagery must last more than 0 s")
        low, high = self.rest_s
        if not 0 <= low <= high:
            problems.append(f"rest range must be 0 <= low <= high, got {self.rest_s}")
        if not 0 <= self.tmin < self.tmax <= self.task_s:
            problems.append(
                f"training window {self.tmin}..{self.tmax} s must lie within the "
                f"{self.task_s:g} s from cue onset to the end of imagery"
            )
        if problems:
            raise ValueError("calibration plan: " + "; ".join(problems))

    @property
    def task_s(self) -> float:
        """Return the time from the cue onset to the end of the imagery."""
        return self.cue_s + self.imagery_s

    @property
    def n_trials(self) -> int:
        """Return the number of trials."""
        return self.trials_per_class * len(self.classes)

    @property
    def longest_trial_s(self) -> float:
        """Return the length of a trial with the longest rest."""
        return self.fixation_s + self.task_s + self.rest_s[1]


_RESERVED = frozenset({"fixation", "imagery", "rest", END_MARKER})


@dataclass(frozen=True)
class CueTrial:
    """One trial: its class and the start of each phase, in seconds from the run's start."""

    index: int
    label: str
    fixation: float
    cue: float
    imagery: float
    rest: float
    end: float


def build_schedule(plan: CalibrationPlan) -> list[CueTrial]:
    """Return the plan's trials in randomized order (shuffled blocks of every class once)."""
    rng = np.random.default_rng(plan.seed)
    n_classes = len(plan.classes)
    order = np.concatenate([rng.permutation(n_classes) for _ in range(plan.trials_per_class)])
    rests = rng.uniform(*plan.rest_s, size=order.size)
    trials, start = [], plan.lead_s
    for index, (label, rest) in enumerate(zip(order, rests, strict=True)):
        cue = start + plan.fixation_s
        trial = _trial(index, plan.classes[label], start, cue, plan, float(rest))
        trials.append(trial)
        start = trial.end
    return trials


def trial_at(index: int, label: str, cue: float, plan: CalibrationPlan, rest: float) -> CueTrial:
    """Return the trial whose cue is at ``cue`` seconds (its fixation precedes it)."""
    return _trial(index, label, cue - plan.fixation_s, cue, plan, rest)


def _trial(
    index: int, label: str, fixation: float, cue: float, plan: CalibrationPlan, rest: float
) -> CueTrial:
    imagery = cue + plan.cue_s
    rest_start = cue + plan.task_s
    return CueTrial(index, label, fixation, cue, imagery, rest_start, rest_start + rest)


@dataclass(frozen=True)
class CueEvent:
    """A phase change: when (LSL time), which phase, of which trial, and its marker text."""

    time: float
    phase: Phase
    trial: CueTrial | None
    marker: str


@dataclass(frozen=True)
class CueState:
    """What the participant sees at one moment.

    Parameters
    ----------
    phase : Phase
        Current phase.
    trial : CueTrial, optional
        Current trial (None before the first and after the last).
    elapsed : float
        Seconds since the phase began.
    remaining : float
        Seconds until the phase ends.
    completed : int
        Trials finished.
    """

    phase: Phase
    trial: CueTrial | None
    elapsed: float
    remaining: float
    completed: int


class CueRunner:
    """Runs a schedule from an LSL start time; asked by the caller what is due.

    Parameters
    ----------
    trials : list of CueTrial
        The schedule (times in seconds from ``start``).
    start : float
        LSL local time of the schedule's zero.
    """

    def __init__(self, trials: list[CueTrial], start: float) -> None:
        if not trials:
            raise ValueError("a cue run needs at least one trial")
        self.trials = list(trials)
        self.start = float(start)
        self._events = self._all_events()
        self._next = 0

    @property
    def end(self) -> float:
        """Return the LSL time at which the last trial's rest ends."""
        return self.start + self.trials[-1].end

    @property
    def n_trials(self) -> int:
        """Return the number of trials."""
        return len(self.trials)

    def due(self, now: float) -> list[CueEvent]:
        """Return the phase changes due by ``now`` not yet returned, in order."""
        found = []
        while self._next < len(self._events) and self._events[self._next].time <= now:
            found.append(self._events[self._next])
            self._next += 1
        return found

    def finished(self, now: float) -> bool:
        """Return True once the last trial has ended."""
        return now >= self.end

    def state(self, now: float) -> CueState:
        """Return the phase shown at ``now``."""
        relative = now - self.start
        completed = sum(trial.end <= relative for trial in self.trials)
        if relative < self.trials[0].fixation:
            return CueState(Phase.WAITING, None, relative, self.trials[0].fixation - relative, 0)
        if completed == len(self.trials):
            return CueState(Phase.DONE, None, relative - self.trials[-1].end, 0.0, completed)
        trial = next(t for t in self.trials if t.end > relative)
        bounds = [
            (Phase.FIXATION, trial.fixation, trial.cue),
            (Phase.CUE, trial.cue, trial.imagery),
            (Phase.IMAGERY, trial.imagery, trial.rest),
            (Phase.REST, trial.rest, trial.end),
        ]
        for phase, begin, finish in bounds:
            if relative < finish:
                return CueState(
                    phase, trial, max(0.0, relative - begin), finish - relative, completed
                )
        raise AssertionError("unreachable: the trial ends after now")

    def _all_events(self) -> list[CueEvent]:
        events = []
        for trial in self.trials:
            for phase, offset, marker in (
                (Phase.FIXATION, trial.fixation, "fixation"),
                (Phase.CUE, trial.cue, trial.label),
                (Phase.IMAGERY, trial.imagery, "imagery"),
                (Phase.REST, trial.rest, "rest"),
            ):
                events.append(CueEvent(self.start + offset, phase, trial, marker))
        events.append(CueEvent(self.end, Phase.DONE, None, END_MARKER))
        return events
