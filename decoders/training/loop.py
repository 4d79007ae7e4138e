"""A supervised training loop with early stopping on validation data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from decoders.history import QUIET, History, TrainingRun

from .state import ResumableState

if TYPE_CHECKING:
    import torch

    from decoders.datasets.trials import TrialSet


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


def fit_classifier(
    module: torch.nn.Module,
    train: TrialSet,
    valid: TrialSet,
    config: TrainConfig,
    run: TrainingRun = QUIET,
    parameter_groups: list[dict] | None = None,
) -> History:
    """Train ``module`` with cross-entropy; keep the weights of the best validation loss.

    ``parameter_groups`` (AdamW's groups, e.g. a pretrained part at a lower ``lr``) default to
    all of the module's parameters at ``config.lr``. Only the validation trials drive early
    stopping and the choice of weights. The complete
    training state goes to ``run.checkpoint`` after every epoch (tensors and plain values
    only); when that file exists at the start, training resumes from it.
    """
    import torch
    from tqdm.auto import tqdm

    optimizer = torch.optim.AdamW(
        parameter_groups or module.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    state = ResumableState(module, optimizer, config.seed)
    state.resume(run.checkpoint)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = _tensors(train)
    xv, yv = _tensors(valid)
    first = state.next_epoch
    epochs = range(first, first if state.stopped(config.patience) else config.max_epochs)
    bar = tqdm(epochs, desc="epochs", unit="ep", disable=not run.progress, leave=False)
    for epoch in bar:
        module.train()
        order = torch.randperm(len(xt), generator=state.generator)
        train_losses = []
        for offset in range(0, len(xt), config.batch_size):
            batch = order[offset : offset + config.batch_size]
            if len(batch) < 2 and len(xt) > 1:  # batch norm needs two trials
                continue
            optimizer.zero_grad()
            loss = loss_fn(module(xt[batch]), yt[batch])
            loss.backward()
            optimizer.step()
            train_losses.append(loss.item())
        valid_loss, valid_accuracy = _validate(module, xv, yv, loss_fn)
        row = {
            "epoch": epoch,
            "train_loss": float(np.mean(train_losses)),
            "valid_loss": valid_loss,
            "valid_accuracy": valid_accuracy,
        }
        state.record(row, (-valid_loss,))
        bar.set_postfix(valid_loss=f"{valid_loss:.3f}", valid_acc=f"{valid_accuracy:.2f}")
        if run.checkpoint is not None:
            state.save(run.checkpoint)
        run.epoch_done(epoch, state.history)
        if state.stopped(config.patience):
            break
    return state.finish()


def _tensors(trials: TrialSet) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    data = torch.as_tensor(np.asarray(trials.data, dtype=np.float32))
    return data, torch.as_tensor(trials.labels, dtype=torch.long)


def _validate(module, xv, yv, loss_fn) -> tuple[float, float]:
    import torch

    module.eval()
    with torch.no_grad():
        logits = module(xv)
        return float(loss_fn(logits, yv)), float((logits.argmax(1) == yv).float().mean())
