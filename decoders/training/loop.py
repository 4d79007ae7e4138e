"""A supervised training loop with early stopping on validation data."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of :func:`fit_classifier`.

    Parameters
    ----------
    max_epochs : int
        Upper bound on passes over the training data.
    patience : int
        Stop after this many epochs without a lower validation loss.
    lr, weight_decay : float
        AdamW settings.
    batch_size : int
        Trials per gradient step.
    seed : int
        Seeds weight initialisation (done by the caller) and batch shuffling.
    """

    max_epochs: int = 150
    patience: int = 25
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 32
    seed: int = 0


@dataclass
class History:
    """Per-epoch losses and validation accuracy, and the epoch whose weights were kept."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1

    def to_dict(self) -> dict:
        """Return the history as plain data."""
        return {"epochs": self.epochs, "best_epoch": self.best_epoch}

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """Rebuild from :meth:`to_dict` output."""
        return cls([dict(epoch) for epoch in data["epochs"]], int(data["best_epoch"]))


def fit_classifier(
    module: torch.nn.Module,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    config: TrainConfig,
    *,
    progress: bool = False,
    on_epoch: Callable[[int, History], None] | None = None,
    checkpoint: Path | None = None,
) -> History:
    """Train ``module`` with cross-entropy; keep the weights of the best validation loss.

    Only the validation arrays drive early stopping and the choice of weights.

    Parameters
    ----------
    checkpoint : Path, optional
        File where the complete training state is written after every epoch (tensors and
        plain values only). When it exists at the start, training resumes from it.
    """
    import torch
    from tqdm.auto import tqdm

    state = _TrainingState.fresh(module, config)
    if checkpoint is not None and Path(checkpoint).is_file():
        state.restore(torch.load(checkpoint, map_location="cpu", weights_only=True), module)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = _tensors(x_train, y_train)
    xv, yv = _tensors(x_valid, y_valid)
    first = len(state.history.epochs)
    epochs = range(first, config.max_epochs if state.waited < config.patience else first)
    bar = tqdm(epochs, desc="epochs", unit="ep", disable=not progress, leave=False)
    for epoch in bar:
        module.train()
        order = torch.randperm(len(xt), generator=state.generator)
        train_losses = []
        for offset in range(0, len(xt), config.batch_size):
            batch = order[offset : offset + config.batch_size]
            if len(batch) < 2 and len(xt) > 1:  # batch norm needs two trials
                continue
            state.optimizer.zero_grad()
            loss = loss_fn(module(xt[batch]), yt[batch])
            loss.backward()
            state.optimizer.step()
            train_losses.append(loss.item())
        valid_loss, valid_accuracy = _validate(module, xv, yv, loss_fn)
        state.record(epoch, module, float(np.mean(train_losses)), valid_loss, valid_accuracy)
        bar.set_postfix(valid_loss=f"{valid_loss:.3f}", valid_acc=f"{valid_accuracy:.2f}")
        if checkpoint is not None:
            state.save(checkpoint, module)
        if on_epoch is not None:
            on_epoch(epoch, state.history)
        if state.waited >= config.patience:
            break
    module.load_state_dict(state.best_state)
    module.eval()
    return state.history


class _TrainingState:
    """Optimiser, shuffling generator, history and early-stopping bookkeeping."""

    def __init__(self, optimizer, generator) -> None:
        self.optimizer = optimizer
        self.generator = generator
        self.history = History()
        self.best_loss = np.inf
        self.best_state: dict = {}
        self.waited = 0

    @classmethod
    def fresh(cls, module: torch.nn.Module, config: TrainConfig) -> _TrainingState:
        import torch

        optimizer = torch.optim.AdamW(
            module.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        state = cls(optimizer, torch.Generator().manual_seed(config.seed))
        state.best_state = copy.deepcopy(module.state_dict())
        return state

    def record(self, epoch, module, train_loss, valid_loss, valid_accuracy) -> None:
        self.history.epochs.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "valid_loss": valid_loss,
                "valid_accuracy": valid_accuracy,
            }
        )
        if valid_loss < self.best_loss:
            self.best_loss, self.waited = valid_loss, 0
            self.best_state = copy.deepcopy(module.state_dict())
            self.history.best_epoch = epoch
        else:
            self.waited += 1

    def save(self, path: Path, module: torch.nn.Module) -> None:
        """Write everything needed to continue, atomically (a kill never leaves half a file)."""
        import torch

        content = {
            "model": module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "history": self.history.to_dict(),
            "best_loss": float(self.best_loss),
            "best_state": self.best_state,
            "waited": self.waited,
        }
        temporary = Path(path).with_suffix(".tmp")
        torch.save(content, temporary)
        temporary.replace(path)

    def restore(self, content: dict, module: torch.nn.Module) -> None:
        module.load_state_dict(content["model"])
        self.optimizer.load_state_dict(content["optimizer"])
        self.generator.set_state(content["generator"])
        self.history = History.from_dict(content["history"])
        self.best_loss = content["best_loss"]
        self.best_state = content["best_state"]
        self.waited = content["waited"]


def predict_proba(module: torch.nn.Module, data: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Return softmax probabilities of ``module`` (in eval mode) for trials ``data``."""
    import torch

    module.eval()
    outputs = []
    with torch.no_grad():
        tensor = torch.as_tensor(np.asarray(data, dtype=np.float32))
        for start in range(0, len(tensor), batch_size):
            outputs.append(torch.softmax(module(tensor[start : start + batch_size]), dim=1))
    return torch.cat(outputs).numpy().astype(float)


def _tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    return torch.as_tensor(np.asarray(x, dtype=np.float32)), torch.as_tensor(y, dtype=torch.long)


def _validate(module, xv, yv, loss_fn) -> tuple[float, float]:
    import torch

    module.eval()
    with torch.no_grad():
        logits = module(xv)
        return float(loss_fn(logits, yv)), float((logits.argmax(1) == yv).float().mean())
