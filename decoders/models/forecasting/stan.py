"""STAN, the adversarial spatio-temporal attention network for seizure forecasting.

The network (:mod:`.network`) behind the input conditioning of the braindecode networks
(:class:`~decoders.training.standardize.InputScaling`: each window's line removed when the
training windows' offsets dwarf their signal, then a per-channel scale fitted on them),
trained with a class-weighted cross-entropy (preictal windows are rare) plus the adversarial
term of :mod:`.adversarial`: each step updates the critic ``critic_steps`` times on
(representation, label) pairs, then the forecaster once. Early stopping and the kept weights
follow the validation windows' cross-entropy only. The critic and its optimiser are part of
the resumable training state, not of the deployed model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.trials import TrialSet
from decoders.history import History, TrainingRun
from decoders.network import NetworkDecoder
from decoders.training.standardize import InputScaling

if TYPE_CHECKING:
    import torch


class Stan(NetworkDecoder):
    """STAN: cascaded spatial/temporal attention over channel x patch tokens, adversarial loss.

    Parameters
    ----------
    dim, heads, depth : int
        Token width, attention heads, cascaded spatio-temporal blocks (3 in the paper).
    patch_s : float
        Patch length in seconds.
    n_filters : int
        Learned filters giving each token its spectral power.
    dropout : float
        Dropout inside the blocks.
    adversarial_weight : float
        Weight of the adversarial term in the forecaster's loss (0: cross-entropy only).
    penalty_weight : float
        Weight of the critic's gradient penalty (10 as in WGAN-GP).
    critic_steps : int
        Critic updates per forecaster update.
    detrend : bool or "auto"
        Remove each window's per-channel line before scaling; ``auto`` (default) decides on
        the training windows (see :class:`~decoders.network.NetworkDecoder`).
    **training
        Band and training settings of :class:`~decoders.network.NetworkDecoder`.
    """

    conditioning_option = "detrend"

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        dim: int = 64,
        heads: int = 4,
        depth: int = 3,
        patch_s: float = 0.5,
        n_filters: int = 8,
        dropout: float = 0.1,
        adversarial_weight: float = 0.1,
        penalty_weight: float = 10.0,
        critic_steps: int = 1,
        detrend: bool | str = "auto",
        **training: Any,
    ) -> None:
        super().__init__(seed, hop_s, **training)
        self.dim, self.heads, self.depth = dim, heads, depth
        self.patch_s, self.n_filters, self.dropout = patch_s, n_filters, dropout
        self.adversarial_weight = adversarial_weight
        self.penalty_weight = penalty_weight
        self.critic_steps = critic_steps
        self.detrend = detrend

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the input conditioning (identity scale until fitted), then the STAN network."""
        import torch

        from .network import StanNetwork

        n_channels = len(spec.ch_names)
        network = StanNetwork(
            n_channels=n_channels,
            n_times=spec.n_times,
            n_classes=len(output.names),
            patch=max(1, round(self.patch_s * spec.sfreq)),
            dim=self.dim,
            heads=self.heads,
            depth=self.depth,
            n_filters=self.n_filters,
            kernel=max(3, round(0.125 * spec.sfreq)),
            dropout=self.dropout,
        )
        conditioning = InputScaling(n_channels, spec.n_times, detrend=self.detrend is True)
        return torch.nn.Sequential(conditioning, network)

    def prepare(self, module: torch.nn.Module, train: TrialSet) -> None:
        """Fit the input conditioning's scale on the training windows."""
        module[0].fit(train.data)

    def window_conditioning(self) -> dict[str, str]:
        """Return the conditioning layer's description (DC and drift, scale)."""
        return InputScaling.conditioning(self.detrend)

    def card_extra(self) -> dict[str, Any]:
        """Return the input conditioning and the parameter count (the paper's model has 2.3M)."""
        parameters = int(sum(p.numel() for p in self.module_.parameters()))
        return {**super().card_extra(), "parameters": parameters}

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> History:
        """Train forecaster and critic in turn; keep the weights of the best validation loss."""
        import torch
        from tqdm.auto import tqdm

        from decoders.training.state import ResumableState

        from .adversarial import Critic, adversarial_term, critic_loss, pairs

        self.prepare(module, train)
        config = self.train_config
        standardize, network = module
        n_classes = train.n_classes
        critic = Critic(self.dim, n_classes)
        optimizer = torch.optim.AdamW(
            module.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        critic_optimizer = torch.optim.Adam(critic.parameters(), lr=config.lr, betas=(0.5, 0.9))
        state = ResumableState(
            module,
            optimizer,
            config.seed,
            parts={"critic": critic, "critic_optimizer": critic_optimizer},
        )
        state.resume(run.checkpoint)
        weights = _class_weights(train.labels, n_classes)
        loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
        xt = torch.as_tensor(np.asarray(train.data, np.float32))
        yt = torch.as_tensor(train.labels, dtype=torch.long)
        xv = torch.as_tensor(np.asarray(valid.data, np.float32))
        yv = torch.as_tensor(valid.labels, dtype=torch.long)
        first = state.next_epoch
        epochs = range(first, first if state.stopped(config.patience) else config.max_epochs)
        bar = tqdm(epochs, desc="epochs", unit="ep", disable=not run.progress, leave=False)
        for epoch in bar:
            module.train()
            critic.train()
            order = torch.randperm(len(xt), generator=state.generator)
            losses, distances = [], []
            for offset in range(0, len(xt), config.batch_size):
                batch = order[offset : offset + config.batch_size]
                if len(batch) < 2:
                    continue
                x, y = xt[batch], yt[batch]
                onehot = torch.nn.functional.one_hot(y, n_classes).float()
                if self.adversarial_weight > 0:
                    for _ in range(self.critic_steps):
                        with torch.no_grad():
                            z = network.encode(standardize(x))
                            predicted = torch.softmax(network.head(z), dim=1)
                        loss_c, distance = critic_loss(
                            critic,
                            pairs(z, onehot),
                            pairs(z, predicted),
                            self.penalty_weight,
                            state.generator,
                        )
                        critic_optimizer.zero_grad()
                        loss_c.backward()
                        critic_optimizer.step()
                        distances.append(float(distance))
                z = network.encode(standardize(x))
                logits = network.head(z)
                loss = loss_fn(logits, y)
                if self.adversarial_weight > 0:
                    term = adversarial_term(
                        critic, pairs(z, onehot), pairs(z, torch.softmax(logits, dim=1))
                    )
                    loss = loss + self.adversarial_weight * term
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            module.eval()
            with torch.no_grad():
                logits = module(xv)
                valid_loss = float(loss_fn(logits, yv))
                valid_accuracy = float((logits.argmax(1) == yv).float().mean())
            row = {
                "epoch": epoch,
                "train_loss": float(np.mean(losses)) if losses else float("nan"),
                "valid_loss": valid_loss,
                "valid_accuracy": valid_accuracy,
                "wasserstein": float(np.mean(distances)) if distances else 0.0,
            }
            state.record(row, (-valid_loss,))
            bar.set_postfix(valid_loss=f"{valid_loss:.3f}", valid_acc=f"{valid_accuracy:.2f}")
            if run.checkpoint is not None:
                state.save(run.checkpoint)
            run.epoch_done(epoch, state.history)
            if state.stopped(config.patience):
                break
        return state.finish()

    def attention_maps(self, data: np.ndarray) -> list[dict[str, np.ndarray]]:
        """Return each block's spatial and temporal attention weights for raw windows ``data``."""
        import torch

        self._require_fitted()
        standardize, network = self.module_
        with torch.no_grad():
            x = standardize(torch.as_tensor(np.asarray(data, np.float32)))
        return [
            {key: value.numpy() for key, value in maps.items()}
            for maps in network.attention_maps(x)
        ]


def _class_weights(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """Return inverse-frequency class weights (mean 1 over the classes present)."""
    import torch

    counts = np.bincount(labels, minlength=n_classes).astype(float)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / (counts > 0).sum(), 0.0)
    return torch.as_tensor(weights, dtype=torch.float32)
