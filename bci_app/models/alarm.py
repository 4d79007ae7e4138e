"""Seizure alarms from a stream of window probabilities: k of n positive windows, refractory.

A forecasting model's card carries its alarm policy (``extra.forecasting.alarm``); the live
path raises alarms with :class:`AlarmState` from the probabilities it publishes, and the
offline evaluation (:mod:`decoders.evaluation.forecasting`) raises them with the same state
machine (:func:`alarm_times`), so what was scored is what runs. Torch-free.

An alarm is raised when at least ``k`` of the last ``n`` successive windows had a positive
probability at or above ``threshold`` and no alarm was raised within ``refractory_s`` before.
It says that a seizure is expected between ``sph_s`` (the seizure prediction horizon) and
``sph_s + sop_s`` (plus the seizure occurrence period) after it; the alarm stays active for
``refractory_s``. A gap in the stream (missing samples) clears the count of positive windows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

CARD_SECTION = "forecasting"
"""Key of the forecasting section in a card's ``extra``."""


@dataclass(frozen=True)
class AlarmPolicy:
    """When successive window probabilities raise a seizure alarm.

    Parameters
    ----------
    positive : str
        Output (class) whose probability counts: ``preictal``.
    threshold : float
        A window is positive when that probability is at least this.
    k, n : int
        An alarm needs ``k`` positive windows among the last ``n``.
    refractory_s : float
        No new alarm for this long after one; the alarm stays active as long.
    sph_s, sop_s : float
        Seizure prediction horizon and seizure occurrence period the alarm announces: a
        seizure expected from ``sph_s`` to ``sph_s + sop_s`` after the alarm.
    """

    positive: str = "preictal"
    threshold: float = 0.5
    k: int = 24
    n: int = 30
    refractory_s: float = 1200.0
    sph_s: float = 300.0
    sop_s: float = 900.0

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.k <= self.n:
            problems.append(f"k of n needs 1 <= k <= n, got k={self.k}, n={self.n}")
        if not 0.0 < self.threshold < 1.0:
            problems.append(f"threshold must be within (0, 1), got {self.threshold}")
        if self.refractory_s < 0 or self.sph_s < 0 or self.sop_s <= 0:
            problems.append("refractory_s and sph_s must not be negative, sop_s must be positive")
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-serialisable data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlarmPolicy:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**dict(data))

    @classmethod
    def from_card(cls, card: Mapping[str, Any]) -> AlarmPolicy | None:
        """Return the policy a decoder card carries, or None for models without alarms."""
        section = (card.get("extra") or {}).get(CARD_SECTION) or {}
        alarm = section.get("alarm")
        return None if alarm is None else cls.from_dict(alarm)


@dataclass(frozen=True)
class AlarmStatus:
    """The alarm after one window.

    Attributes
    ----------
    timestamp : float
        Time of the window (its last sample).
    probability : float
        The window's positive probability.
    positives : int
        Positive windows among the last ``n``.
    active : bool
        An alarm is on (raised less than ``refractory_s`` ago).
    raised : bool
        This window raised it.
    raised_at : float, optional
        When the current or last alarm was raised.
    """

    timestamp: float
    probability: float
    positives: int
    active: bool
    raised: bool
    raised_at: float | None

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-serialisable data."""
        return asdict(self)


class AlarmState:
    """The k-of-n alarm with a refractory period, fed one window probability at a time."""

    def __init__(self, policy: AlarmPolicy) -> None:
        self.policy = policy
        self._recent: deque[bool] = deque(maxlen=policy.n)
        self.raised_at: float | None = None

    def update(self, probability: float, timestamp: float, *, gap: bool = False) -> AlarmStatus:
        """Count one window; return the alarm status after it.

        ``gap`` marks a window preceded by missing data: the count starts again from it.
        """
        policy = self.policy
        if gap:
            self._recent.clear()
        self._recent.append(bool(probability >= policy.threshold))
        positives = int(sum(self._recent))
        active = self.raised_at is not None and timestamp < self.raised_at + policy.refractory_s
        raised = not active and positives >= policy.k
        if raised:
            self.raised_at, active = timestamp, True
        return AlarmStatus(
            float(timestamp), float(probability), positives, active, raised, self.raised_at
        )


def alarm_times(
    probabilities: Sequence[float] | np.ndarray,
    times: Sequence[float] | np.ndarray,
    policy: AlarmPolicy,
    *,
    gaps: Sequence[bool] | np.ndarray | None = None,
) -> np.ndarray:
    """Return the times at which successive windows raise alarms under ``policy``.

    Parameters
    ----------
    probabilities, times : array of float, shape (n_windows,)
        Positive probability and time of each window, in time order.
    gaps : array of bool, optional
        True where missing data precede a window.
    """
    state = AlarmState(policy)
    gaps = np.zeros(len(times), bool) if gaps is None else np.asarray(gaps, bool)
    raised = [
        time
        for probability, time, gap in zip(probabilities, times, gaps, strict=True)
        if state.update(float(probability), float(time), gap=bool(gap)).raised
    ]
    return np.asarray(raised, dtype=float)
