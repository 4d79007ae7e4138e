"""The base of decoders that are torch networks trained by the shared early-stopping loop.

A new network decoder is its :meth:`~decoders.contract.Decoder.build` and a registry entry:
the base owns the training options (:class:`~decoders.training.loop.TrainConfig`), the
optional declared band-pass, and :meth:`NetworkDecoder.train_module`, which runs
:func:`~decoders.training.loop.fit_classifier` between two hooks (fit data-dependent layers
on the training trials before; measure the trained network on the validation trials after).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from decoders.contract import Decoder
from decoders.datasets.trials import TrialSet
from decoders.history import History, TrainingRun

if TYPE_CHECKING:
    import torch


class NetworkDecoder(Decoder):
    """A network trained with cross-entropy and early stopping on the validation trials.

    Parameters
    ----------
    seed : int
        Seeds weight initialisation, batch order and dropout.
    hop_s : float
        Time between windows when decoding a stream.
    band : list of float, optional
        ``[low, high]`` Hz of a declared causal band-pass applied before the network, offline
        and live alike.
    max_epochs, patience, lr, batch_size, weight_decay
        Training settings (:class:`~decoders.training.loop.TrainConfig`); a registry entry
        may set other defaults.
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        *,
        band: list[float] | None = None,
        max_epochs: int = 150,
        patience: int = 25,
        lr: float = 1e-3,
        batch_size: int = 32,
        weight_decay: float = 0.0,
    ) -> None:
        from decoders.training.loop import TrainConfig

        super().__init__(seed, hop_s)
        self.train_config = TrainConfig(
            max_epochs=max_epochs,
            patience=patience,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            seed=seed,
        )

    def prepare(self, module: torch.nn.Module, train: TrialSet) -> None:
        """Fit data-dependent layers (a standardisation) on the training trials; none here."""

    def trained(self, module: torch.nn.Module, valid: TrialSet) -> None:
        """Measure the trained network on the validation trials (for the card); nothing here."""

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> History:
        """Run :meth:`prepare`, the early-stopping loop on ``valid``, then :meth:`trained`."""
        from decoders.training.loop import fit_classifier

        self.prepare(module, train)
        history = fit_classifier(module, train, valid, self.train_config, run)
        self.trained(module, valid)
        return history
