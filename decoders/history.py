"""The record of a training run: one row per epoch and the epoch whose weights were kept."""

from __future__ import annotations

from dataclasses import dataclass, field


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
