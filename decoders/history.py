"""A training run: how it reports and resumes, and its record (one row per epoch)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class History:
    """Per-epoch losses and validation scores, and the epoch whose weights were kept."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1

    def to_dict(self) -> dict:
        """Return the history as plain data."""
        return {"epochs": self.epochs, "best_epoch": self.best_epoch}

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """Rebuild from :meth:`to_dict` output."""
        return cls([dict(epoch) for epoch in data["epochs"]], int(data["best_epoch"]))


@dataclass(frozen=True)
class TrainingRun:
    """How a training run reports its progress and where it keeps its state.

    Parameters
    ----------
    progress : bool
        Show a progress bar.
    on_epoch : callable, optional
        Called with the epoch index and the history after every epoch.
    checkpoint : Path, optional
        File holding the complete training state, written after every epoch; training
        resumes from it when it exists.
    """

    progress: bool = False
    on_epoch: Callable[[int, History], None] | None = None
    checkpoint: Path | None = None

    def epoch_done(self, epoch: int, history: History) -> None:
        """Report a finished epoch to :attr:`on_epoch`, if any."""
        if self.on_epoch is not None:
            self.on_epoch(epoch, history)


QUIET = TrainingRun()
"""A run with no progress bar, no callback and no checkpoint."""
