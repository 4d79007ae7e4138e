"""The spiking decoders under the decoder contract: ``spiking-lif`` and ``spiking-rwkv``."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import Decoder, InputSpec, OutputSpec
from decoders.datasets.trials import TrialSet
from decoders.preprocessing import bandpass_step
from decoders.training.loop import History, TrainConfig, fit_classifier

if TYPE_CHECKING:
    import torch

    from .binning import TimeBins
    from .synops import OperationCount


class SpikingDecoder(Decoder):
    """A spiking network trained with surrogate gradients by the shared early-stopping loop.

    After training, synaptic operations are counted on the validation windows (never the
    test ones) and reported by :meth:`card_extra`.

    Parameters
    ----------
    max_steps : int
        Most time steps per window; windows are binned into at most this many steps.
    band : list of float, optional
        ``[low, high]`` Hz of a declared causal band-pass applied before the network.
    max_epochs, patience, lr, batch_size, weight_decay : optional
        Training settings (see :class:`~decoders.training.loop.TrainConfig`).
    **architecture
        Options of the network class.
    """

    family = "spiking"
    architecture_options: tuple[str, ...] = ()

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        max_steps: int = 64,
        band: list[float] | None = None,
        max_epochs: int = 100,
        patience: int = 20,
        lr: float = 3e-3,
        batch_size: int = 32,
        weight_decay: float = 1e-4,
        **architecture: Any,
    ) -> None:
        unknown = sorted(set(architecture) - set(self.architecture_options))
        if unknown:
            raise TypeError(
                f"{self.name} has no option {', '.join(unknown)} (architecture options: "
                f"{', '.join(self.architecture_options)})"
            )
        super().__init__(
            seed,
            hop_s,
            max_steps=max_steps,
            band=band,
            max_epochs=max_epochs,
            patience=patience,
            lr=lr,
            batch_size=batch_size,
            weight_decay=weight_decay,
            **architecture,
        )
        self.max_steps = max_steps
        self.band = band
        self.architecture = architecture
        self.train_config = TrainConfig(
            max_epochs=max_epochs,
            patience=patience,
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            seed=seed,
        )

    @abstractmethod
    def network(self, n_channels: int, n_classes: int, bins: TimeBins) -> torch.nn.Module:
        """Return the untrained network."""

    @abstractmethod
    def stream(self, network: torch.nn.Module) -> torch.nn.Module:
        """Return the streaming step module of a network."""

    def preprocessing(self) -> tuple[dict[str, Any], ...]:
        """Return the declared band-pass, if any."""
        return (bandpass_step(*self.band),) if self.band else ()

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the network for windows of ``spec.n_times`` samples."""
        from .binning import TimeBins

        bins = TimeBins.for_window(spec.n_times, self.max_steps, source=self.name)
        return self.network(len(spec.ch_names), len(output.names), bins)

    def train_module(
        self,
        module,
        train: TrialSet,
        valid: TrialSet,
        *,
        progress: bool = False,
        on_epoch: Callable[[int, History], None] | None = None,
        checkpoint: Path | None = None,
    ) -> History:
        """Standardise on ``train``, train with early stopping on ``valid``, count SynOps."""
        from .synops import count_operations

        module.input.fit(train.data)
        history = fit_classifier(
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
        self.operations_ = count_operations(module, valid.data)
        return history

    def operation_count(self, windows: np.ndarray) -> OperationCount:
        """Return SynOps, MACs and energy per window of the fitted network on ``windows``."""
        from decoders.preprocessing import apply_to_trials

        from .synops import count_operations

        self._require_fitted()
        spec = self.input_spec_
        windows = np.asarray(windows)
        if windows.ndim != 3 or windows.shape[1:] != (len(spec.ch_names), spec.n_times):
            raise ValueError(
                f"windows must be (n, {len(spec.ch_names)}, {spec.n_times}), got {windows.shape}"
            )
        if spec.preprocessing:
            windows = apply_to_trials(
                spec.preprocessing, windows, spec.sfreq, spec.ch_names, spec.ch_types
            )
        return count_operations(self.module_, windows)

    def card_extra(self) -> dict[str, Any]:
        """Return SynOps and energy counted on the validation windows after training."""
        operations = getattr(self, "operations_", None)
        return operations.to_card_extra() if operations is not None else {}

    def streaming_module(self) -> torch.nn.Module:
        """Return the one-step module (block, *state) -> (logits, *state) of the network."""
        self._require_fitted()
        return self.stream(self.module_).eval()


class SpikingLif(SpikingDecoder):
    """Feed-forward LIF network (:class:`~decoders.spiking.lif_net.LifNetwork`).

    Parameters
    ----------
    hidden, encoding, per_channel, max_delay, beta, threshold, dropout, features
        Architecture; ``max_delay > 0`` adds learnable synaptic delays (in steps).
    """

    name = "spiking-lif"
    description = "leaky integrate-and-fire network, surrogate gradients, direct encoding"
    architecture_options = (
        "hidden",
        "encoding",
        "per_channel",
        "max_delay",
        "beta",
        "threshold",
        "dropout",
        "features",
    )

    def __init__(self, seed: int = 0, hop_s: float = 0.1, **options: Any) -> None:
        super().__init__(seed, hop_s, **options)
        if self.architecture.get("max_delay", 0):
            self.name = "spiking-lif-delays"

    def network(self, n_channels: int, n_classes: int, bins: TimeBins) -> torch.nn.Module:
        """Return a :class:`LifNetwork`."""
        from .lif_net import LifNetwork

        return LifNetwork(n_channels, n_classes, bins, **self.architecture)

    def stream(self, network: torch.nn.Module) -> torch.nn.Module:
        """Return a :class:`LifStream`."""
        from .lif_net import LifStream

        return LifStream(network)


class SpikingRwkvDecoder(SpikingDecoder):
    """SpikeGPT-style spiking RWKV (:class:`~decoders.spiking.rwkv.SpikingRwkv`).

    Parameters
    ----------
    width, n_blocks, expansion, dropout, features
        Architecture.
    """

    name = "spiking-rwkv"
    description = "SpikeGPT-style spiking RWKV with O(1)-state recurrence"
    architecture_options = ("width", "n_blocks", "expansion", "dropout", "features")

    def network(self, n_channels: int, n_classes: int, bins: TimeBins) -> torch.nn.Module:
        """Return a :class:`SpikingRwkv`."""
        from .rwkv import SpikingRwkv

        return SpikingRwkv(n_channels, n_classes, bins, **self.architecture)

    def stream(self, network: torch.nn.Module) -> torch.nn.Module:
        """Return a :class:`RwkvStream`."""
        from .rwkv import RwkvStream

        return RwkvStream(network)
