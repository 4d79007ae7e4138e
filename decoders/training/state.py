"""Everything a training loop needs to continue after an interruption, saved atomically.

Both the supervised loop (:mod:`decoders.training.loop`) and deep Q-learning
(:mod:`decoders.models.rl.dqn`) keep their progress here: the optimiser, the shuffling
generator, torch's global generator (dropout masks), the history, the best weights and their
score, the epochs waited since, loop-specific parts with ``state_dict`` and
``load_state_dict`` (a target network, a replay buffer) and counters. Checkpoints hold
tensors and plain values only and are read back with ``weights_only=True``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from decoders.history import History

if TYPE_CHECKING:
    import torch


class Stateful(Protocol):
    """An object whose state round-trips through a dictionary of tensors and plain values."""

    def state_dict(self) -> dict[str, Any]:
        """Return the state."""

    def load_state_dict(self, state: dict[str, Any]) -> Any:
        """Restore a state returned by :meth:`state_dict`."""


class ResumableState:
    """The progress of one training run of ``module``.

    Parameters
    ----------
    module : torch.nn.Module
        The network being trained (its weights are saved and its best weights kept).
    optimizer : torch.optim.Optimizer
        Its optimiser.
    seed : int
        Seeds the shuffling generator.
    parts : dict of str to Stateful, optional
        Further state saved and restored with the run.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        seed: int,
        parts: dict[str, Stateful] | None = None,
    ) -> None:
        import torch

        self.module = module
        self.optimizer = optimizer
        self.generator = torch.Generator().manual_seed(seed)
        self.parts = dict(parts or {})
        self.history = History()
        self.best_state = copy.deepcopy(module.state_dict())
        self.best_score: tuple[float, ...] | None = None
        self.waited = 0
        self.counters: dict[str, int] = {}

    @property
    def next_epoch(self) -> int:
        """Return the index of the next epoch (the number of epochs done)."""
        return len(self.history.epochs)

    def stopped(self, patience: int) -> bool:
        """Return True once ``patience`` epochs passed without a better score."""
        return self.waited >= patience

    def record(self, row: dict[str, float], score: tuple[float, ...]) -> bool:
        """Append an epoch's ``row``; keep the weights when ``score`` beats the best (higher).

        Returns
        -------
        bool
            Whether this epoch became the best.
        """
        self.history.epochs.append(row)
        if self.best_score is not None and score <= self.best_score:
            self.waited += 1
            return False
        self.best_score, self.waited = tuple(score), 0
        self.best_state = copy.deepcopy(self.module.state_dict())
        self.history.best_epoch = int(row["epoch"])
        return True

    def finish(self) -> History:
        """Load the best weights into the module, set evaluation mode, return the history."""
        self.module.load_state_dict(self.best_state)
        self.module.eval()
        return self.history

    def save(self, path: Path) -> None:
        """Write everything needed to continue, atomically (a kill never leaves half a file)."""
        import torch

        content = {
            "module": self.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "history": self.history.to_dict(),
            "best_state": self.best_state,
            "best_score": None if self.best_score is None else list(self.best_score),
            "waited": self.waited,
            "counters": dict(self.counters),
            "parts": {name: part.state_dict() for name, part in self.parts.items()},
        }
        temporary = Path(path).with_suffix(".tmp")
        torch.save(content, temporary)
        temporary.replace(path)

    def resume(self, path: Path | None) -> bool:
        """Continue from the checkpoint at ``path`` when it exists; return whether it did."""
        import torch

        if path is None or not Path(path).is_file():
            return False
        content = torch.load(path, map_location="cpu", weights_only=True)
        self.module.load_state_dict(content["module"])
        self.optimizer.load_state_dict(content["optimizer"])
        self.generator.set_state(content["generator"])
        torch.set_rng_state(content["torch_rng"])  # dropout masks continue as uninterrupted
        self.history = History.from_dict(content["history"])
        self.best_state = content["best_state"]
        score = content["best_score"]
        self.best_score = None if score is None else tuple(score)
        self.waited = int(content["waited"])
        self.counters = {name: int(value) for name, value in content["counters"].items()}
        for name, part in self.parts.items():
            part.load_state_dict(content["parts"][name])
        return True
