"""Local training of one federated round, and evaluation, on a site's trials."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from decoders.evaluation.metrics import classification_metrics

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class RoundSettings:
    """Optimisation settings of one round of local training.

    Parameters
    ----------
    epochs : int
        Passes over the site's training trials (when ``steps`` is 0).
    lr, weight_decay : float
        AdamW settings (a fresh optimiser each round).
    batch_size : int
        Trials per step.
    proximal_mu : float
        FedProx: weight of ``mu / 2 * ||w - w_global||^2`` over the received parameters.
    seed : int
        Seeds the batch order and the dropout masks.
    steps : int
        Optimisation steps per round whatever the site's size (batches drawn through
        successive shuffles of its trials); 0 to count in epochs instead.
    """

    epochs: int
    lr: float
    batch_size: int
    weight_decay: float = 0.0
    proximal_mu: float = 0.0
    seed: int = 0
    steps: int = 0


def train_round(
    module: torch.nn.Module,
    data: np.ndarray,
    labels: np.ndarray,
    settings: RoundSettings,
    received: Mapping[str, torch.Tensor],
) -> float:
    """Train ``module`` in place for one round; return the mean training loss.

    ``received`` holds the parameters the server sent (the anchor of the proximal term).
    The round's seed sets the batch order and torch's global generator (the dropout masks),
    so a round does not repeat the masks of the one before (building the module reseeds).
    """
    import torch

    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    optimizer = torch.optim.AdamW(
        module.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
    )
    anchors = [
        (parameter, received[name].detach())
        for name, parameter in module.named_parameters()
        if name in received
    ]
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.as_tensor(np.asarray(data, dtype=np.float32))
    y = torch.as_tensor(labels, dtype=torch.long)
    losses = []
    module.train()
    for batch in _batches(len(x), settings, generator):
        optimizer.zero_grad()
        loss = loss_fn(module(x[batch]), y[batch])
        if settings.proximal_mu > 0:
            distance = sum(((p - anchor) ** 2).sum() for p, anchor in anchors)
            loss = loss + settings.proximal_mu / 2 * distance
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    module.eval()
    return float(np.mean(losses)) if losses else float("nan")


def _batches(
    n_trials: int, settings: RoundSettings, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    """Yield index batches: ``epochs`` shuffled passes, or exactly ``steps`` batches."""
    import torch

    done, epoch = 0, 0
    while (settings.steps and done < settings.steps) or (
        not settings.steps and epoch < settings.epochs
    ):
        order = torch.randperm(n_trials, generator=generator)
        for start in range(0, n_trials, settings.batch_size):
            batch = order[start : start + settings.batch_size]
            if len(batch) < 2 < n_trials:  # group norm and batches of one do not mix well
                continue
            yield batch
            done += 1
            if settings.steps and done >= settings.steps:
                return
        epoch += 1


def evaluate(module: torch.nn.Module, data: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Return loss, accuracy, balanced accuracy, kappa and AUROC of ``module`` on trials."""
    import torch

    module.eval()
    with torch.no_grad():
        logits = torch.cat(
            [
                module(torch.as_tensor(np.asarray(data[start : start + 256], dtype=np.float32)))
                for start in range(0, len(data), 256)
            ]
        )
        loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(labels, dtype=torch.long))
        proba = torch.softmax(logits, dim=1).numpy().astype(float)
    return {"loss": float(loss), **classification_metrics(labels, proba)}
