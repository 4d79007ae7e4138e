"""Online feedback: decoder outputs smoothed into what the participant sees, trials scored.

During the cue and imagery of a feedback trial the participant sees the smoothed class
probabilities (two classes: a bar pushed left or right; more: one bar per class). The
trial's decision is the class with the largest mean probability over the windows that hold
only imagery, and the run's score counts the hits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


class FeedbackSmoother:
    """Exponential smoothing of class probabilities over time.

    Parameters
    ----------
    classes : sequence of str
        Class names, in the decoder's output order.
    time_constant : float
        Seconds for the smoothed value to move 63 % of the way to a new steady output.
    """

    def __init__(self, classes: Sequence[str], time_constant: float = 0.5) -> None:
        if len(classes) < 2:
            raise ValueError("feedback needs at least two classes")
        if time_constant < 0:
            raise ValueError(f"time constant must be >= 0, got {time_constant}")
        self.classes = tuple(classes)
        self.time_constant = time_constant
        self.value = np.full(len(self.classes), 1.0 / len(self.classes))
        self._last: float | None = None

    def reset(self) -> None:
        """Return to equal probabilities."""
        self.value = np.full(len(self.classes), 1.0 / len(self.classes))
        self._last = None

    def update(self, probabilities: np.ndarray, time: float) -> np.ndarray:
        """Take the outputs of the window ending at ``time`` (seconds) and return the smoothed."""
        probabilities = np.asarray(probabilities, dtype=float)
        if probabilities.shape != self.value.shape:
            raise ValueError(
                f"expected {self.value.size} class probabilities, got {probabilities.shape}"
            )
        if self._last is None or self.time_constant == 0:
            weight = 1.0
        else:
            weight = 1.0 - math.exp(-max(0.0, time - self._last) / self.time_constant)
        self._last = time
        self.value = self.value + weight * (probabilities - self.value)
        return self.value

    def position(self) -> float:
        """Return the bar position of two classes: -1 (first class) to +1 (second class)."""
        if len(self.classes) != 2:
            raise ValueError("a signed bar position exists for two classes only")
        return float(self.value[1] - self.value[0])


@dataclass
class FeedbackScore:
    """Hits of a feedback run: per trial, the class with the largest mean probability.

    A trial counts the windows that end within its scoring span: from the cue plus the end
    of the training window (the first windows holding only imagery, like those the decoder
    was trained on) to the end of the imagery.

    Parameters
    ----------
    classes : tuple of str
        Class names, in the decoder's output order.
    """

    classes: tuple[str, ...]
    decisions: list[tuple[str, str]] = field(default_factory=list)
    _target: str | None = None
    _span: tuple[float, float] = (0.0, 0.0)
    _sums: np.ndarray | None = None

    def begin_trial(self, target: str, start: float, stop: float) -> None:
        """Score the windows ending between ``start`` and ``stop`` (LSL times) for ``target``."""
        if target not in self.classes:
            raise ValueError(f"cued class {target!r} is not an output of the decoder")
        self._target, self._span = target, (start, stop)
        self._sums = np.zeros(len(self.classes))

    def add(self, probabilities: np.ndarray, timestamp: float) -> None:
        """Add the outputs of the window ending at ``timestamp`` (ignored outside the span)."""
        if self._sums is not None and self._span[0] <= timestamp <= self._span[1]:
            self._sums += np.asarray(probabilities, dtype=float)

    def end_trial(self) -> str | None:
        """Close the open trial; return the decided class (None without any window)."""
        sums, self._sums = self._sums, None
        if sums is None or not sums.any():
            return None
        decided = self.classes[int(np.argmax(sums))]
        self.decisions.append((self._target, decided))
        return decided

    @property
    def hits(self) -> int:
        """Return the trials whose decision was the cued class."""
        return sum(target == decided for target, decided in self.decisions)

    @property
    def accuracy(self) -> float:
        """Return the share of hits (NaN before the first decided trial)."""
        return self.hits / len(self.decisions) if self.decisions else float("nan")
