"""The online protocol: trials one by one, each decided before its label is revealed.

:class:`FeedbackGate` holds decided trials until their labels arrive. A label that arrives
within ``max_lag`` trials of its decision is learnt from; when labels stop coming (or lag
further behind), supervised adaptation pauses, decoding goes on, and the log says so; when
labels return, adaptation resumes with them (stale ones are dropped, also logged).
:func:`run_online` drives a strategy through a trial sequence under this protocol (the
benchmark does; a live feedback session feeds the same gate and strategy as trials and
labels come in).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from decoders.datasets.errors import DataError

from .strategies import (
    AdaptiveLdaBias,
    OnlineFineTuning,
    OnlineStrategy,
    Recentering,
    RleegnetFeedback,
    Static,
)

if TYPE_CHECKING:
    from decoders.contract import Decoder

LOGGER = logging.getLogger("decoders.adaptation")

STRATEGIES: dict[str, Callable[..., OnlineStrategy]] = {
    "static": Static,
    "rleegnet-feedback": RleegnetFeedback,
    "recentering": Recentering,
    "adaptive-lda-bias": AdaptiveLdaBias,
    "fine-tuning": OnlineFineTuning,
}
"""Strategies by name; ``adaptive-lda-bias`` also takes the calibration trials."""


def make_strategy(
    name: str, decoder: Decoder, calibration: np.ndarray | None = None, **options: object
) -> OnlineStrategy:
    """Return the strategy ``name`` around a fitted decoder.

    Raises
    ------
    DataError
        When the strategy is unknown, does not fit the decoder, or needs calibration trials
        that were not given.
    """
    if name not in STRATEGIES:
        raise DataError(
            f"adaptation {name!r}", f"unknown strategy (known: {', '.join(STRATEGIES)})"
        )
    if name == "adaptive-lda-bias":
        if calibration is None:
            raise DataError(
                decoder.name, "the adaptive LDA bias starts from the calibration trials"
            )
        return AdaptiveLdaBias(decoder, calibration, **options)
    return STRATEGIES[name](decoder, **options)


class FeedbackGate:
    """Decided trials waiting for their labels; pauses learning while labels stop or lag.

    Parameters
    ----------
    max_lag : int
        Trials after its decision within which a label is still learnt from.
    log : callable
        Receives each message about pausing, resuming or dropping labels (they also go to
        the ``decoders.adaptation`` logger).
    """

    def __init__(self, max_lag: int = 5, log: Callable[[str], None] | None = None) -> None:
        if max_lag < 0:
            raise ValueError(f"max_lag must not be negative, got {max_lag}")
        self.max_lag = max_lag
        self.log = log
        self.paused = False
        self.pending: dict[int, np.ndarray] = {}
        self.newest = -1

    def decided(self, index: int, trial: np.ndarray) -> None:
        """Record that trial ``index`` was decided; pause when labels lag too far behind."""
        self.newest = index
        self.pending[index] = trial
        for old in [key for key in self.pending if key < index - self.max_lag]:
            del self.pending[old]
            if not self.paused:
                self.paused = True
                self._say(
                    f"no label for trial {old} within {self.max_lag} trials: adaptation paused, "
                    "decoding continues"
                )

    def labelled(self, index: int) -> np.ndarray | None:
        """Return the trial a label for ``index`` teaches, or None when it came too late."""
        trial = self.pending.pop(index, None)
        if trial is None:
            self._say(f"label for trial {index} arrived after {self.max_lag} trials: not learnt")
            return None
        if self.paused:
            self.paused = False
            self._say(f"labels are back (trial {index}): adaptation resumed")
        return trial

    def _say(self, message: str) -> None:
        LOGGER.info(message)
        if self.log is not None:
            self.log(message)


@dataclass
class OnlineRun:
    """A strategy's run through a trial sequence: what it decided and how it adapted."""

    strategy: str
    correct: list[bool] = field(default_factory=list)
    drift: list[float] = field(default_factory=list)
    updates: int = 0
    clipped: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def mean_accuracy(self) -> float:
        """Return the accuracy over every trial."""
        return float(np.mean(self.correct))

    def final_accuracy(self, share: float = 0.25) -> float:
        """Return the accuracy over the last ``share`` of the trials."""
        count = max(1, round(share * len(self.correct)))
        return float(np.mean(self.correct[-count:]))

    def curve(self, window: int = 20) -> np.ndarray:
        """Return the accuracy over the last ``window`` trials, after every trial."""
        correct = np.asarray(self.correct, dtype=float)
        sums = np.cumsum(correct)
        counts = np.minimum(np.arange(1, len(correct) + 1), window)
        lagged = np.concatenate([np.zeros(window), sums])[: len(correct)]
        return (sums - lagged) / counts


def run_online(
    strategy: OnlineStrategy,
    trials: np.ndarray,
    labels: Sequence[int],
    *,
    label_delay: int = 0,
    labels_until: int | None = None,
    max_lag: int = 5,
) -> OnlineRun:
    """Decide each trial in order, then adapt; labels come ``label_delay`` trials later.

    Parameters
    ----------
    strategy : OnlineStrategy
        The decoder and how it adapts.
    trials : ndarray, shape (n_trials, n_channels, n_times)
        In the order they were recorded.
    labels : sequence of int
        True classes, revealed after each decision.
    label_delay : int
        Trials between a decision and the arrival of its label.
    labels_until : int, optional
        Index of the last trial whose label ever arrives (a label stream that stops).
    max_lag : int
        See :class:`FeedbackGate`.
    """
    run = OnlineRun(strategy.name)
    gate = FeedbackGate(max_lag, log=run.log.append)
    for index, trial in enumerate(trials):
        decision = int(np.argmax(strategy.decide(trial)))
        run.correct.append(decision == int(labels[index]))
        reports = [strategy.observe(trial)]
        gate.decided(index, trial)
        arriving = index - label_delay
        if arriving >= 0 and (labels_until is None or arriving <= labels_until):
            taught = gate.labelled(arriving)
            if taught is not None:
                reports.append(strategy.learn(taught, int(labels[arriving])))
        done = [report for report in reports if report is not None]
        run.updates += len(done)
        run.clipped += sum(report.clipped for report in done)
        run.drift.append(done[-1].drift if done else (run.drift[-1] if run.drift else 0.0))
    return run
