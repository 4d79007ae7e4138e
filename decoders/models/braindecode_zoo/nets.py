"""braindecode's EEGNet and ShallowFBCSPNet, trained by the shared early-stopping loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.trials import TrialSet
from decoders.network import NetworkDecoder
from decoders.training.standardize import InputScaling

if TYPE_CHECKING:
    import torch

ARCHITECTURES = ("EEGNet", "ShallowFBCSPNet")


def architecture_options(architecture: str, sfreq: float, n_times: int) -> dict[str, int]:
    """Return kernel and pooling lengths scaled from the designs' own sampling rates.

    EEGNet's temporal kernel is half a second (64 samples at 128 Hz); ShallowFBCSPNet's
    temporal filter, pooling window and stride are 100, 300 and 60 ms (at 250 Hz).
    """
    if architecture == "EEGNet":
        return {"kernel_length": max(4, round(0.5 * sfreq))}
    filter_length = max(3, round(0.1 * sfreq))
    pool_length = min(max(3, round(0.3 * sfreq)), n_times - filter_length + 1)
    return {
        "filter_time_length": filter_length,
        "pool_time_length": pool_length,
        "pool_time_stride": max(1, round(0.06 * sfreq)),
    }


class BraindecodeClassifier(NetworkDecoder):
    """A braindecode architecture behind an input conditioning fitted on training data.

    The conditioning (:class:`~decoders.training.standardize.InputScaling`, the module's
    first layer, exported with it) removes each window's DC offset and slow drift and
    divides each channel by its training sd.

    Parameters
    ----------
    architecture : str
        ``EEGNet`` or ``ShallowFBCSPNet``.
    detrend : bool or "auto"
        Remove each window's per-channel line (offset and drift) before scaling; ``auto``
        (default) does when the training trials' offsets dwarf their signal
        (:func:`~decoders.training.standardize.offsets_dominate`); the card records the
        choice made.
    **training
        Band and training settings of :class:`~decoders.network.NetworkDecoder`; early
        stopping uses the validation trials only.
    """

    conditioning_option = "detrend"

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        architecture: str = "EEGNet",
        detrend: bool | str = "auto",
        **training: Any,
    ) -> None:
        if architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {architecture} (known: {list(ARCHITECTURES)})")
        super().__init__(seed, hop_s, **training)
        self.architecture = architecture
        self.detrend = detrend

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the input conditioning (identity scale until fitted), then the network."""
        import braindecode.models
        import torch

        network = getattr(braindecode.models, self.architecture)(
            n_chans=len(spec.ch_names),
            n_outputs=len(output.names),
            n_times=spec.n_times,
            sfreq=spec.sfreq,
            **architecture_options(self.architecture, spec.sfreq, spec.n_times),
        )
        conditioning = InputScaling(len(spec.ch_names), spec.n_times, detrend=self.detrend is True)
        return torch.nn.Sequential(conditioning, network)

    def export_module(self) -> torch.nn.Module:
        """Return EEGNet with its spatial filters before its temporal ones (exact, faster).

        See :mod:`decoders.models.braindecode_zoo.eegnet_rewrite`; other architectures export as trained.
        """
        import torch

        from .eegnet_rewrite import spatial_first_eegnet

        if self.architecture != "EEGNet":
            return super().export_module()
        self._require_fitted()
        standardize, network = self.module_
        rewritten = spatial_first_eegnet(network)
        return torch.nn.Sequential(standardize, rewritten, torch.nn.Softmax(dim=1)).eval()

    def prepare(self, module: torch.nn.Module, train: TrialSet) -> None:
        """Fit the input conditioning's scale on the training trials."""
        module[0].fit(train.data)

    def input_conditioning(self) -> dict[str, str]:
        """Return the conditioning layer's description (DC and drift, scale)."""
        return InputScaling.conditioning(self.detrend)
