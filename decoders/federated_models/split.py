"""The contract of decoders that federated training can split into site-local and shared parts.

A :class:`SplitDecoder`'s module keeps every layer sized to a site's montage or sampling rate
under the ``local.`` prefix and every layer whose shape depends only on federation-wide
settings (window length, classes, options) under ``shared.``. A personalised federation
averages the shared part only; FedAvg and FedProx average everything, which needs every site
on the same channels and rate.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from decoders.contract import Decoder, InputSpec, OutputSpec
from decoders.datasets.trials import TrialSet
from decoders.training.loop import History, TrainConfig, fit_classifier

if TYPE_CHECKING:
    import torch

LOCAL_PREFIX = "local."
SHARED_PREFIX = "shared."


def shared_keys(keys: Iterable[str], *, personalised: bool) -> list[str]:
    """Return the state-dict keys a site sends for aggregation.

    Parameters
    ----------
    keys : iterable of str
        Keys of the module's state dict.
    personalised : bool
        True for the personalised strategy (only ``shared.`` keys travel), False for
        FedAvg/FedProx (every key travels).
    """
    keys = list(keys)
    if not personalised:
        return keys
    return [key for key in keys if key.startswith(SHARED_PREFIX)]


class SplitDecoder(Decoder):
    """A gradient-trained decoder whose module is ``local`` (per site) then ``shared`` layers.

    Subclasses implement :meth:`build` returning a module with ``local`` and ``shared``
    children, and :meth:`check_input` naming why a site's input cannot be served.

    Parameters
    ----------
    seed : int
        Seeds weight initialisation and batch order.
    hop_s : float
        Time between windows when decoding a stream.
    max_epochs, patience, lr, batch_size, weight_decay : optional
        Settings of centralised or local-only training (see
        :class:`~decoders.training.loop.TrainConfig`); federated rounds use their own.
    **options
        Architecture options of the subclass.
    """

    local_prefix: ClassVar[str] = LOCAL_PREFIX

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        *,
        max_epochs: int = 150,
        patience: int = 25,
        lr: float = 1e-3,
        batch_size: int = 32,
        weight_decay: float = 0.0,
        **options: Any,
    ) -> None:
        super().__init__(
            seed,
            hop_s,
            max_epochs=max_epochs,
            patience=patience,
            lr=lr,
            batch_size=batch_size,
            weight_decay=weight_decay,
            **options,
        )
        self.train_config = TrainConfig(
            max_epochs=max_epochs,
            patience=patience,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            seed=seed,
        )

    @abstractmethod
    def check_input(self, spec: InputSpec, source: str) -> None:
        """Raise a :class:`~decoders.datasets.errors.DataError` if ``spec`` cannot feed it.

        The message names ``source`` and the problem (no usable channels, rate too low, ...).
        """

    def train_module(
        self,
        module: torch.nn.Module,
        train: TrialSet,
        valid: TrialSet,
        *,
        progress: bool = False,
        on_epoch: Callable[[int, History], None] | None = None,
        checkpoint: Path | None = None,
    ) -> History:
        """Train the whole module (local-only or pooled data) with early stopping on ``valid``."""
        return fit_classifier(
            module,
            train.data,
            train.labels,
            valid.data,
            valid.labels,
            self.train_config,
            progress=progress,
            on_epoch=on_epoch,
            checkpoint=checkpoint,
        )

    def fit(self, train: TrialSet, valid: TrialSet, **kwargs: Any) -> SplitDecoder:
        """Check the input, then fit as every decoder does (see :meth:`Decoder.fit`)."""
        self.check_input(self.spec_for(train), train.name)
        super().fit(train, valid, **kwargs)
        return self

    def spec_for(self, trials: TrialSet) -> InputSpec:
        """Return the input spec this decoder would have after fitting on ``trials``."""
        return InputSpec(
            ch_names=trials.ch_names,
            ch_types=trials.ch_types,
            sfreq=trials.sfreq,
            n_times=trials.n_times,
            hop_s=self.hop_s,
            preprocessing=self.preprocessing(),
        )

    @abstractmethod
    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the untrained module with ``local`` and ``shared`` children."""
