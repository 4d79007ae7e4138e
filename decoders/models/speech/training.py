"""Training the brain module, with early stopping on validation data.

On (brain window, speech segment) pairs with the contrastive or the regression loss; on
labelled trials with cross-entropy. The same resumable loop as classifiers
(:class:`~decoders.training.state.ResumableState`): shuffled batches, AdamW, after each epoch
the validation loss (for speech, every validation window against every distinct validation
segment), the weights of the lowest validation loss kept. A share of the training windows
goes through the shared subject layer instead of its subject's, so that the shared layer
serves unseen subjects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from decoders.evaluation.metrics import retrieval_ranks
from decoders.history import QUIET, History, TrainingRun
from decoders.speech.features import segment_embeddings
from decoders.speech.trials import SpeechTrials
from decoders.training.state import ResumableState

from .losses import LOSSES

if TYPE_CHECKING:
    import torch

    from decoders.datasets.trials import TrialSet
    from decoders.training.loop import TrainConfig

    from .network import BrainModule


def fit_brain_module(
    module: BrainModule,
    train: TrialSet,
    valid: TrialSet,
    config: TrainConfig,
    *,
    loss: str,
    layers: tuple[np.ndarray, np.ndarray],
    shared_share: float,
    run: TrainingRun = QUIET,
) -> History:
    """Train ``module``; keep the weights of the lowest validation loss.

    Parameters
    ----------
    module : BrainModule
        The network (embedding head for speech pairs, classification head otherwise).
    train, valid : TrialSet
        Training trials; validation trials for early stopping (for speech pairs, of other
        sounds).
    config : TrainConfig
        Epochs, patience, learning rate, batch size, weight decay, seed.
    loss : str
        ``clip`` or ``mse`` for speech pairs (see :mod:`.losses`), ``cross-entropy`` for
        labelled trials.
    layers : tuple of ndarray
        Subject-layer index of each training and each validation window.
    shared_share : float
        Probability that a training window goes through the shared subject layer.
    run : TrainingRun
        Progress, per-epoch callback and checkpoint file.
    """
    import torch
    from tqdm.auto import tqdm

    loss_fn = LOSSES[loss]
    task = _Task(train, valid, loss)
    optimizer = torch.optim.AdamW(
        module.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    state = ResumableState(module, optimizer, config.seed)
    state.resume(run.checkpoint)
    x, targets, keys = task.training_tensors()
    subjects = torch.as_tensor(layers[0], dtype=torch.long)
    xv = torch.as_tensor(valid.data, dtype=torch.float32)
    first = state.next_epoch
    epochs = range(first, first if state.stopped(config.patience) else config.max_epochs)
    bar = tqdm(epochs, desc="epochs", unit="ep", disable=not run.progress, leave=False)
    for epoch in bar:
        module.train()
        order = torch.randperm(len(x), generator=state.generator)
        losses = []
        for offset in range(0, len(x), config.batch_size):
            batch = order[offset : offset + config.batch_size]
            if len(batch) < 2:
                continue
            routed = subjects[batch].clone()
            shared = torch.rand(len(batch), generator=state.generator) < shared_share
            routed[shared] = module.shared_subject
            optimizer.zero_grad()
            value = loss_fn(module(x[batch], routed), targets[batch], keys[batch])
            value.backward()
            optimizer.step()
            losses.append(value.item())
        row = {"epoch": epoch, "train_loss": float(np.mean(losses))}
        row.update(task.validate(predict(module, xv, layers[1])))
        state.record(row, (-row["valid_loss"],))
        bar.set_postfix(valid_loss=f"{row['valid_loss']:.3f}", valid=f"{row['valid_accuracy']:.2f}")
        if run.checkpoint is not None:
            state.save(run.checkpoint)
        run.epoch_done(epoch, state.history)
        if state.stopped(config.patience):
            break
    return state.finish()


def predict(module: torch.nn.Module, x: torch.Tensor, layers: np.ndarray) -> torch.Tensor:
    """Return the module's outputs for windows ``x`` through subject layers ``layers``."""
    import torch

    module.eval()
    subjects = torch.as_tensor(layers, dtype=torch.long)
    with torch.no_grad():
        return torch.cat(
            [
                module(x[start : start + 256], subjects[start : start + 256])
                for start in range(0, len(x), 256)
            ]
        )


class _Task:
    """What the module learns: speech segments (retrieval) or classes, and how it is validated."""

    def __init__(self, train: TrialSet, valid: TrialSet, loss: str) -> None:
        self.train, self.loss = train, loss
        self.retrieval = isinstance(train, SpeechTrials)
        if self.retrieval:
            self.candidates, self.truth = valid.candidates()
        else:
            self.labels = valid.labels

    def training_tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return windows, targets (segment embeddings or labels) and segment keys."""
        import torch

        trials = self.train
        x = torch.as_tensor(trials.data, dtype=torch.float32)
        if not self.retrieval:
            labels = torch.as_tensor(trials.labels, dtype=torch.long)
            return x, labels, labels
        keys = trials.labels.astype(np.int64) * (int(trials.segments.max()) + 1) + trials.segments
        return x, torch.as_tensor(segment_embeddings(trials.features)), torch.as_tensor(keys)

    def validate(self, estimates: torch.Tensor) -> dict[str, float]:
        """Return the validation loss and accuracy (top-1 retrieval, or classification)."""
        import torch

        if not self.retrieval:
            labels = torch.as_tensor(self.labels, dtype=torch.long)
            return {
                "valid_loss": float(torch.nn.functional.cross_entropy(estimates, labels)),
                "valid_accuracy": float((estimates.argmax(1) == labels).float().mean()),
            }
        targets = torch.as_tensor(self.candidates)
        index = torch.as_tensor(self.truth, dtype=torch.long)
        if self.loss == "mse":
            valid_loss = float(LOSSES["mse"](estimates, targets[index], index))
        else:
            scores = estimates @ torch.nn.functional.normalize(targets, dim=1).T
            valid_loss = float(torch.nn.functional.cross_entropy(scores, index))
        ranks = retrieval_ranks(estimates.numpy(), self.candidates, self.truth)
        return {
            "valid_loss": valid_loss,
            "valid_accuracy": float(np.mean(ranks <= 1)),
            "valid_top10": float(np.mean(ranks <= 10)),
        }
