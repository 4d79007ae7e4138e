"""Every braindecode classifier behind one decoder, trained by the shared early-stopping loop.

:class:`BraindecodeClassifier` builds any braindecode model class from the contract's input
spec (channels, classes, window length, sampling rate, and the channels' names and positions
where the model needs them), behind a per-channel standardisation fitted on the training
trials. The registry holds one entry per braindecode classifier
(:mod:`decoders.models.braindecode_zoo.catalog`).
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.network import NetworkDecoder
from decoders.training.standardize import InputScaling

from .catalog import model_record
from .channels import DEFAULT_MONTAGE, channel_positions, chs_info, electrode_of

if TYPE_CHECKING:
    import torch

SIGNAL_PARAMETERS = ("n_chans", "n_outputs", "n_times", "sfreq", "chs_info")
"""What the contract gives a braindecode model; the rest of its arguments are options."""

POSITIONS_BUFFER = "channel_positions"
"""State-dict key of the channel positions a model was built with (to rebuild it)."""


def architecture_options(architecture: str, sfreq: float, n_times: int) -> dict[str, int]:
    """Return kernel and pooling lengths scaled from the designs' own sampling rates.

    EEGNet's temporal kernel is half a second (64 samples at 128 Hz); ShallowFBCSPNet's
    temporal filter, pooling window and stride are 100, 300 and 60 ms (at 250 Hz). Other
    architectures take braindecode's defaults.
    """
    if architecture == "EEGNet":
        return {"kernel_length": max(4, round(0.5 * sfreq))}
    if architecture != "ShallowFBCSPNet":
        return {}
    filter_length = max(3, round(0.1 * sfreq))
    pool_length = min(max(3, round(0.3 * sfreq)), n_times - filter_length + 1)
    return {
        "filter_time_length": filter_length,
        "pool_time_length": pool_length,
        "pool_time_stride": max(1, round(0.06 * sfreq)),
    }


class BraindecodeClassifier(NetworkDecoder):
    """A braindecode model behind an input conditioning fitted on training data.

    The conditioning (:class:`~decoders.training.standardize.InputScaling`, the module's
    first layer, exported with it) removes each window's DC offset and slow drift and
    divides each channel by its training sd.

    Parameters
    ----------
    architecture : str
        braindecode model class (``EEGNet``, ``ATCNet``, ``Labram``, ...).
    network : dict, optional
        Keyword arguments of the model class beyond the signal ones (``n_chans``,
        ``n_outputs``, ``n_times``, ``sfreq``, ``chs_info``, which come from the data), e.g.
        ``{"num_layers": 2}``; activation classes may be given as dotted paths.
    montage : str, optional
        MNE standard montage placing channels by name for models that need positions, when
        the data carry none (None: only the data's positions).
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
        network: dict[str, Any] | None = None,
        montage: str | None = DEFAULT_MONTAGE,
        detrend: bool | str = "auto",
        **training: Any,
    ) -> None:
        model_record(architecture)  # refuses unknown architectures, listing the known ones
        super().__init__(seed, hop_s, **training)
        self.architecture = architecture
        self.network = dict(network or {})
        self.montage = montage
        self.detrend = detrend
        self._data_positions: dict[str, np.ndarray] | None = None

    def spec_for(self, trials: TrialSet) -> InputSpec:
        """Return the input spec, keeping the trials' channel positions for :meth:`build`."""
        self._data_positions = trials.ch_pos
        return super().spec_for(trials)

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return standardisation (identity until fitted) followed by the network.

        Raises
        ------
        DataError
            When the model cannot be built for this input (the message says why), needs
            channel positions the data and montage do not give, or does not output one
            score per class.
        """
        import torch

        n_channels = len(spec.ch_names)
        positions = None
        if model_record(self.architecture)["needs_positions"]:
            positions = channel_positions(spec.ch_names, self._data_positions, self.montage)
        network = self.make_network(spec, len(output.names), positions, self.network)
        conditioning = InputScaling(n_channels, spec.n_times, detrend=self.detrend is True)
        module = torch.nn.Sequential(conditioning, network)
        if positions is not None:
            module.register_buffer(POSITIONS_BUFFER, torch.as_tensor(positions))
        return module

    def make_network(
        self,
        spec: InputSpec,
        n_outputs: int,
        positions: np.ndarray | None,
        options: dict[str, Any],
    ) -> torch.nn.Module:
        """Return the braindecode model for ``spec`` with ``options`` (checked)."""
        import torch
        from braindecode.models.util import resolve_type_kwargs

        cls = model_class(self.architecture)
        accepted = _parameters(cls)
        unknown = sorted(set(options) - set(accepted) - set(SIGNAL_PARAMETERS))
        if unknown:
            raise DataError(
                self.name,
                f"braindecode's {self.architecture} has no option {', '.join(unknown)} "
                f"(network options: {', '.join(p for p in accepted if p not in SIGNAL_PARAMETERS)})",
            )
        signal: dict[str, Any] = {
            "n_chans": len(spec.ch_names),
            "n_outputs": n_outputs,
            "n_times": spec.n_times,
            "sfreq": spec.sfreq,
        }
        if positions is not None:
            signal["chs_info"] = chs_info(
                spec.ch_names, spec.ch_types, positions, model=self.name, montage=self.montage
            )
        kwargs = {key: value for key, value in signal.items() if key in accepted}
        kwargs |= architecture_options(self.architecture, spec.sfreq, spec.n_times)
        extra = dict(options)
        resolve_type_kwargs(cls, extra)
        kwargs |= extra
        shape = f"{len(spec.ch_names)} channels x {spec.n_times} samples at {spec.sfreq:g} Hz"
        try:
            with hub_offline():
                network = cls(**kwargs)
                if "ch_names" in inspect.signature(cls.forward).parameters:
                    network = named_channels(network, spec.ch_names)
                network.eval()
                with torch.no_grad():
                    outputs = network(torch.zeros(2, len(spec.ch_names), spec.n_times))
        except Exception as error:
            raise DataError(
                self.name,
                f"braindecode's {self.architecture} cannot be built for {shape}: "
                f"{_first_line(error)}",
            ) from error
        if not isinstance(outputs, torch.Tensor) or tuple(outputs.shape) != (2, n_outputs):
            found = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else type(outputs)
            raise DataError(
                self.name,
                f"braindecode's {self.architecture} outputs {found} for 2 windows of {shape}, "
                f"not one score per class ({n_outputs})",
            )
        return network

    def restore(self, spec: InputSpec, output: OutputSpec, state: dict[str, Any]) -> NetworkDecoder:
        """Rebuild from a weights-only state dict (positions the model was built with included)."""
        if POSITIONS_BUFFER in state:
            positions = np.asarray(state[POSITIONS_BUFFER], dtype=float)
            self._data_positions = dict(zip(spec.ch_names, positions, strict=True))
        return super().restore(spec, output, state)

    @classmethod
    def options_from(cls, source: Path) -> dict[str, Any]:
        """Return the pretrained folder's architecture as the ``network`` option.

        None when ``source`` is not a braindecode folder (:meth:`initialize` then says why).
        """
        from .pretrained import architecture_of

        return architecture_of(Path(source))

    def initialize(self, module: torch.nn.Module, source: Path) -> dict[str, Any]:
        """Start from braindecode pretrained weights in the local folder ``source``.

        See :func:`decoders.models.braindecode_zoo.pretrained.load_pretrained`.
        """
        from .pretrained import load_pretrained

        return load_pretrained(self, module, Path(source))

    def card_extra(self) -> dict[str, Any]:
        """Return the input conditioning, the model's origin and licence (non-commercial flagged)."""
        licence = model_record(self.architecture)["licence"]
        return {
            **super().card_extra(),
            "model": f"braindecode.models.{self.architecture}",
            "licence": licence,
            "non_commercial": "-nc" in licence,
        }

    def export_module(self) -> torch.nn.Module:
        """Return an exact rewrite of the network that runs faster in ONNX Runtime, if any.

        EEGNet applies its spatial filters before its temporal ones
        (:mod:`~decoders.models.braindecode_zoo.eegnet_rewrite`); FIR filter banks (FBCNet,
        FBLightConvNet, FBMSNet, IFNet) filter by a matrix product instead of FFTs
        (:mod:`~decoders.models.braindecode_zoo.filterbank_rewrite`); other architectures
        export as trained.
        """
        import torch

        from .eegnet_rewrite import spatial_first_eegnet
        from .filterbank_rewrite import linear_filter_banks

        self._require_fitted()
        standardize, network = self.module_
        if self.architecture == "EEGNet":
            rewritten = spatial_first_eegnet(network)
        else:
            rewritten = linear_filter_banks(network)
            if rewritten is None:
                return super().export_module()
        return torch.nn.Sequential(standardize, rewritten, torch.nn.Softmax(dim=1)).eval()

    def prepare(self, module: torch.nn.Module, train: TrialSet) -> None:
        """Fit the input conditioning's scale on the training trials."""
        module[0].fit(train.data)

    def window_conditioning(self) -> dict[str, str]:
        """Return the conditioning layer's description (DC and drift, scale)."""
        return InputScaling.conditioning(self.detrend)


def named_channels(network: torch.nn.Module, ch_names: tuple[str, ...]) -> torch.nn.Module:
    """Return ``network`` called with the channels' names at every call.

    LaBraM picks its channel embeddings by name; referential labels (TUH's ``EEG FP1-REF``)
    are given as their electrode (:func:`~.channels.electrode_of`).
    """
    import torch

    class NamedChannels(torch.nn.Module):
        """``network(x, ch_names=...)`` with the names fixed at build time."""

        def __init__(self) -> None:
            super().__init__()
            self.network = network
            self.ch_names = [electrode_of(name) for name in ch_names]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.network(x, ch_names=self.ch_names)

    return NamedChannels()


def braindecode_network(module: torch.nn.Module) -> torch.nn.Module:
    """Return the braindecode model inside a built module (standardisation, network)."""
    network = module[1]
    return getattr(network, "network", network)


def model_class(architecture: str) -> type:
    """Return the braindecode model class called ``architecture``."""
    import braindecode.models

    return getattr(braindecode.models, architecture)


@contextlib.contextmanager
def hub_offline() -> Iterator[None]:
    """Forbid Hugging Face Hub calls while braindecode builds or loads a model."""
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import huggingface_hub.constants as hub_constants
    except ImportError:  # no hub client: nothing can call the hub
        hub_constants = None
    was_offline = getattr(hub_constants, "HF_HUB_OFFLINE", None)
    if hub_constants is not None:
        hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        if hub_constants is not None:
            hub_constants.HF_HUB_OFFLINE = was_offline
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous


def _parameters(cls: type) -> tuple[str, ...]:
    """Return the keyword arguments a model class takes (its constructors' along its bases)."""
    names: dict[str, None] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for name, parameter in inspect.signature(init).parameters.items():
            if name != "self" and parameter.kind not in (
                parameter.VAR_POSITIONAL,
                parameter.VAR_KEYWORD,
            ):
                names[name] = None
    return tuple(names)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
