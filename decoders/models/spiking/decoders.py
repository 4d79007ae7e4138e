"""The spiking decoders under the decoder contract: ``spiking-lif`` and ``spiking-rwkv``."""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.trials import TrialSet
from decoders.network import NetworkDecoder

if TYPE_CHECKING:
    import torch

    from .binning import TimeBins
    from .synops import OperationCount


class SpikingDecoder(NetworkDecoder):
    """A spiking network trained with surrogate gradients by the shared early-stopping loop.

    After training, synaptic operations are counted on the validation windows (never the
    test ones) and reported by :meth:`card_extra`.

    Parameters
    ----------
    max_steps : int
        Most time steps per window; windows are binned into at most this many steps.
    baseline : bool or "auto"
        Refer each window to its first step's mean (removes DC offsets); ``auto`` (default)
        does when the training trials' offsets dwarf their signal
        (:func:`~decoders.training.standardize.offsets_dominate`); the card records the
        choice made.
    **options
        Options of the network class (``architecture_options``), then the band and
        training settings of :class:`~decoders.network.NetworkDecoder`.
    """

    architecture_options: tuple[str, ...] = ()
    conditioning_option = "baseline"
    sub_bins = 1
    """Parts of each step whose features all enter the step (see :class:`.binning.TimeBins`)."""

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        max_steps: int = 64,
        baseline: bool | str = "auto",
        **options: Any,
    ) -> None:
        self.architecture = {
            key: options.pop(key) for key in self.architecture_options if key in options
        }
        super().__init__(seed, hop_s, **options)
        self.max_steps = max_steps
        self.baseline = baseline

    @abstractmethod
    def network(self, n_channels: int, n_classes: int, bins: TimeBins) -> torch.nn.Module:
        """Return the untrained network."""

    @abstractmethod
    def stream(self, network: torch.nn.Module) -> torch.nn.Module:
        """Return the streaming step module of a network."""

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the network for windows of ``spec.n_times`` samples."""
        from .binning import TimeBins

        bins = TimeBins.for_window(spec.n_times, self.max_steps, self.name, self.sub_bins)
        network = self.network(len(spec.ch_names), len(output.names), bins)
        network.input.use_baseline = self.baseline is True
        return network

    def prepare(self, module: torch.nn.Module, train: TrialSet) -> None:
        """Fit the input standardisation on the training trials."""
        module.input.fit(train.data)

    def trained(self, module: torch.nn.Module, valid: TrialSet) -> None:
        """Count synaptic operations on the validation trials."""
        from .synops import count_operations

        self.operations_ = count_operations(module, valid.data)

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

    def window_conditioning(self) -> dict[str, str]:
        """Return the window baseline and the standardisations fitted on training trials."""
        baseline = {
            True: "each window's per-channel mean over its first step removed (a baseline, "
            "kept in the state of a stream)",
            False: "training mean subtracted (the trials' offsets carry signal)",
            "auto": "decided on the training trials: each window referred to its first step's "
            "mean when their offsets dwarf their signal (an amplifier's DC), else kept",
        }[self.baseline]
        return {
            "dc_and_drift": baseline,
            "scale": "per-channel sd, then per-feature mean and sd, of the training trials",
        }

    def card_extra(self) -> dict[str, Any]:
        """Return the input conditioning, and SynOps and energy counted on validation windows."""
        operations = getattr(self, "operations_", None)
        counted = operations.to_card_extra() if operations is not None else {}
        return {**super().card_extra(), **counted}

    def streaming_module(self) -> torch.nn.Module:
        """Return the one-step module (block, *state) -> (logits, *state) of the network."""
        self._require_fitted()
        return self.stream(self.module_).eval()


class SpikingLif(SpikingDecoder):
    """Feed-forward LIF network (:class:`~decoders.models.spiking.lif_net.LifNetwork`).

    Parameters
    ----------
    hidden, encoding, per_channel, max_delay, beta, threshold, dropout, features
        Architecture; ``max_delay > 0`` adds learnable synaptic delays (in steps).
    """

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

    def network(self, n_channels: int, n_classes: int, bins: TimeBins) -> torch.nn.Module:
        """Return a :class:`LifNetwork`."""
        from .lif_net import LifNetwork

        return LifNetwork(n_channels, n_classes, bins, **self.architecture)

    def stream(self, network: torch.nn.Module) -> torch.nn.Module:
        """Return a :class:`LifStream`."""
        from .lif_net import LifStream

        return LifStream(network)


class SpikingRwkvDecoder(SpikingDecoder):
    """SpikeGPT-style spiking RWKV (:class:`~decoders.models.spiking.rwkv.SpikingRwkv`).

    Parameters
    ----------
    width, n_blocks, expansion, dropout, features
        Architecture.
    """

    architecture_options = ("width", "n_blocks", "expansion", "dropout", "features")

    def network(self, n_channels: int, n_classes: int, bins: TimeBins) -> torch.nn.Module:
        """Return a :class:`SpikingRwkv`."""
        from .rwkv import SpikingRwkv

        return SpikingRwkv(n_channels, n_classes, bins, **self.architecture)

    def stream(self, network: torch.nn.Module) -> torch.nn.Module:
        """Return a :class:`RwkvStream`."""
        from .rwkv import RwkvStream

        return RwkvStream(network)
