"""A supervised training loop with early stopping on validation data."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
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
) -> History:
    """Train ``module`` with cross-entropy; keep the weights of the best validation loss.

    Only the validation arrays drive early stopping and the choice of weights.
    """
    import torch
    from tqdm.auto import tqdm

    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.AdamW(
        module.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = _tensors(x_train, y_train)
    xv, yv = _tensors(x_valid, y_valid)
    history = History()
    best_loss, best_state, waited = np.inf, copy.deepcopy(module.state_dict()), 0
    bar = tqdm(
        range(config.max_epochs), desc="epochs", unit="ep", disable=not progress, leave=False
    )
    for epoch in bar:
        module.train()
        order = torch.randperm(len(xt), generator=generator)
        train_losses = []
        for start in range(0, len(xt), config.batch_size):
            batch = order[start : start + config.batch_size]
            if len(batch) < 2 and len(xt) > 1:  # batch norm needs two trials
                continue
            optimizer.zero_grad()
            loss = loss_fn(module(xt[batch]), yt[batch])
            loss.backward()
            optimizer.step()
            train_losses.append(loss.item())
        valid_loss, valid_accuracy = _validate(module, xv, yv, loss_fn)
        history.epochs.append(
            {
                "epoch": epoch,
                "train_loss": float(np.mean(train_losses)),
                "valid_loss": valid_loss,
                "valid_accuracy": valid_accuracy,
            }
        )
        if valid_loss < best_loss:
            best_loss, best_state, waited = valid_loss, copy.deepcopy(module.state_dict()), 0
            history.best_epoch = epoch
        else:
            waited += 1
        bar.set_postfix(valid_loss=f"{valid_loss:.3f}", valid_acc=f"{valid_accuracy:.2f}")
        if on_epoch is not None:
            on_epoch(epoch, history)
        if waited >= config.patience:
            break
    module.load_state_dict(best_state)
    module.eval()
    return history


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
