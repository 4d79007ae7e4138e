"""The decoder contract: what a decoder needs, what it produces, how it fits and predicts.

Every decoder subclasses :class:`Decoder`. Its inference is one torch module taking windows
(batch, n_channels, n_times) in SI units and returning the decoder's raw outputs (class
logits, regression values or embedding coordinates); probabilities are their softmax. That
module is what is checkpointed (weights only) and exported to ONNX for the live path.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from decoders.datasets.errors import DataError, DataWarning
from decoders.datasets.trials import TrialSet
from decoders.history import History, TrainingRun
from decoders.preprocessing import apply_to_trials, band_steps

if TYPE_CHECKING:
    import torch

OUTPUT_KINDS = ("probabilities", "regression", "embedding")


@dataclass(frozen=True)
class InputSpec:
    """What a fitted decoder needs of its input windows.

    Parameters
    ----------
    ch_names, ch_types : tuple of str
        Channels in the order the model expects, with MNE channel types.
    sfreq : float
        Sampling rate in Hz.
    n_times : int
        Window length in samples.
    hop_s : float
        Time between successive windows when decoding a stream.
    preprocessing : tuple of dict
        Declared causal steps applied to the stream before windows reach the model, each a
        mapping with a ``step`` name and its parameters (see :mod:`decoders.preprocessing`).
    """

    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    sfreq: float
    n_times: int
    hop_s: float
    preprocessing: tuple[dict[str, Any], ...] = ()

    @property
    def window_s(self) -> float:
        """Return the window length in seconds."""
        return self.n_times / self.sfreq

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-serialisable data."""
        data = asdict(self)
        data["ch_names"], data["ch_types"] = list(self.ch_names), list(self.ch_types)
        data["preprocessing"] = [dict(step) for step in self.preprocessing]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputSpec:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            ch_names=tuple(data["ch_names"]),
            ch_types=tuple(data["ch_types"]),
            sfreq=float(data["sfreq"]),
            n_times=int(data["n_times"]),
            hop_s=float(data["hop_s"]),
            preprocessing=tuple(dict(step) for step in data.get("preprocessing", ())),
        )

    def check_channels(self, available: tuple[str, ...] | list[str], source: str) -> None:
        """Raise :class:`DataError` naming the model's channels missing from ``available``."""
        missing = [name for name in self.ch_names if name not in set(available)]
        if missing:
            raise DataError(
                source,
                f"lacks {len(missing)} of the decoder's {len(self.ch_names)} channels: "
                f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}",
            )

    def check_trials(self, trials: TrialSet) -> None:
        """Raise :class:`DataError` when ``trials`` do not match channels, rate or length."""
        self.check_channels(trials.ch_names, trials.name)
        if list(trials.ch_names) != list(self.ch_names):
            raise DataError(trials.name, "channels are in another order than the decoder's")
        if not np.isclose(trials.sfreq, self.sfreq):
            raise DataError(
                trials.name, f"sampled at {trials.sfreq} Hz, the decoder at {self.sfreq} Hz"
            )
        if trials.n_times != self.n_times:
            raise DataError(
                trials.name,
                f"windows of {trials.n_times} samples, the decoder needs {self.n_times}",
            )


@dataclass(frozen=True)
class OutputSpec:
    """What a decoder produces: its kind and the name of each output."""

    kind: str
    names: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind not in OUTPUT_KINDS:
            raise ValueError(f"unknown output kind {self.kind} (known: {OUTPUT_KINDS})")

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-serialisable data."""
        return {"kind": self.kind, "names": list(self.names)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutputSpec:
        """Rebuild from :meth:`to_dict` output."""
        return cls(data["kind"], tuple(data["names"]))


class Decoder(ABC):
    """Base class of every decoder.

    Subclasses set ``output_kind`` and implement :meth:`build` (the untrained inference
    module for an input/output spec) and :meth:`train_module` (fit it). Every argument of a
    subclass's ``__init__`` is an option: the base records the values each constructor in
    the chain received, once (:meth:`config`), so options must be JSON-serialisable; they
    are written to the card so the decoder can be rebuilt from a checkpoint. A decoder's
    name is its registry key, given by :func:`decoders.registry.create`.

    Parameters
    ----------
    seed : int
        Seeds every random choice the decoder makes.
    hop_s : float
        Time between windows when the decoder runs on a stream.
    """

    output_kind: ClassVar[str] = "probabilities"
    architecture_options: ClassVar[tuple[str, ...]] = ()
    """Options a subclass collects through ``**kwargs`` for its network class."""
    predict_batch_size: ClassVar[int] = 256
    """Windows per forward pass in :meth:`predict_proba` (smaller for memory-hungry graphs)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording_options(cls.__dict__["__init__"])

    def __init__(self, seed: int = 0, hop_s: float = 0.1) -> None:
        self.seed = seed
        self.hop_s = hop_s
        self.history_: History | None = None

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Return every option the constructors of this class accept, seed and hop included."""
        names = dict.fromkeys(cls.architecture_options)
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None or not issubclass(klass, Decoder):
                continue
            for parameter in list(inspect.signature(init).parameters.values())[1:]:
                if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                    names[parameter.name] = None
        return tuple(names)

    @property
    def name(self) -> str:
        """Return the registry key this decoder was created under."""
        try:
            return self._registry_name
        except AttributeError:
            raise RuntimeError(
                f"this {type(self).__name__} was not created through the decoder registry "
                "(decoders.registry.create), so it has no name to save or export it under"
            ) from None

    @name.setter
    def name(self, value: str) -> None:
        self._registry_name = value

    # ----------------------------------------------------------------- subclass hooks
    @abstractmethod
    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the untrained inference module for this input and output."""

    @abstractmethod
    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> History | None:
        """Fit ``module`` on ``train``; ``valid`` is the only data selection may look at.

        Decoders trained over epochs report each epoch to ``run`` and write their training
        state to ``run.checkpoint`` after each one, resuming from it when it exists.
        """

    @classmethod
    def options_from(cls, source: Path) -> dict[str, Any]:
        """Return the options a pretrained ``source`` implies (its architecture); none here.

        ``bci-app train --init`` creates the decoder with these, then the user's options; a
        conflict between them is caught by :meth:`initialize`.
        """
        return {}

    def initialize(self, module: torch.nn.Module, source: Path) -> dict[str, Any]:
        """Load pretrained weights from ``source`` into the untrained ``module``.

        Returns the provenance written to the card (origin, sha256, licence, what was
        loaded). Decoders that can start from pretrained weights override it; the others
        refuse.

        Raises
        ------
        DataError
            Here always; in overrides, when ``source`` does not fit the module.
        """
        raise DataError(str(source), f"{self.name} does not start from pretrained weights")

    def preprocessing(self) -> tuple[dict[str, Any], ...]:
        """Return the declared causal steps: the band-pass of a ``band`` option, if any.

        A decoder taking ``band=[low, high]`` (Hz) declares that causal band-pass; the live
        path runs the same steps on the stream.
        """
        return band_steps(self.config().get("band"))

    def card_extra(self) -> dict[str, Any]:
        """Return decoder-specific facts for the card (e.g. synaptic operations, energy)."""
        return {}

    def explanation(self) -> dict[str, Any] | None:
        """Return what the exported graph's ``explanation`` output holds (None: no such output).

        A decoder that explains each decision returns the output's description (its
        ``kind``, ``axes`` and what the live path needs to draw it) and implements
        :meth:`explaining_module`.
        """
        return None

    def explaining_module(self) -> torch.nn.Module:
        """Return a module of (decision outputs, explanation): the graph's two outputs."""
        raise NotImplementedError(f"{self.name} does not explain its decisions")

    def save_figures(self, folder: Path) -> list[Path]:
        """Write decoder-specific figures of the fitted decoder into ``folder``; none here."""
        return []

    def streaming_module(self) -> torch.nn.Module | None:
        """Return a step module with explicit state for recurrent decoders, else None."""
        return None

    # ----------------------------------------------------------------- the contract
    def fit(
        self,
        train: TrialSet,
        valid: TrialSet,
        *,
        progress: bool = False,
        on_epoch: Callable[[int, History], None] | None = None,
        checkpoint: Path | None = None,
        init: Path | None = None,
    ) -> Decoder:
        """Fit on ``train`` with ``valid`` for early stopping and selection; return self.

        ``checkpoint`` (a file) makes an interrupted training resumable; ``init`` (pretrained
        weights, see :meth:`initialize`) is where the module starts from.
        """
        import torch

        train.require_classes()
        if valid.ch_names != train.ch_names or valid.n_times != train.n_times:
            raise DataError(
                valid.name, "validation trials differ in channels or length from training"
            )
        self.input_spec_ = self.spec_for(train)
        self.output_spec_ = self.output_for(train)
        raw_valid = valid
        train, valid = self._preprocessed(train), self._preprocessed(valid)
        torch.manual_seed(self.seed)
        self.module_ = self.build(self.input_spec_, self.output_spec_)
        self.initialization_ = {} if init is None else self.initialize(self.module_, Path(init))
        self.history_ = self.train_module(
            self.module_, train, valid, TrainingRun(progress, on_epoch, checkpoint)
        )
        self.module_.eval()
        self.warnings_ = self._validation_warnings(raw_valid)
        return self

    def _validation_warnings(self, valid: TrialSet) -> list[str]:
        """Warn (and return the text) when every validation trial gets the same class."""
        if self.output_kind != "probabilities" or np.unique(valid.labels).size < 2:
            return []
        predicted = np.unique(self.predict_proba(valid.data).argmax(axis=1))
        if predicted.size > 1:
            return []
        message = (
            f"predictions on the {valid.n_trials} validation trials collapse to one class "
            f"('{self.output_spec_.names[predicted[0]]}'): the decoder separates nothing; "
            "check the input's scale and DC offsets, the labels and the window"
        )
        warnings.warn(
            DataWarning(getattr(self, "_registry_name", type(self).__name__), message),
            stacklevel=3,
        )
        return [message]

    def spec_for(self, trials: TrialSet) -> InputSpec:
        """Return the input spec this decoder has once fitted on ``trials``."""
        return InputSpec(
            ch_names=trials.ch_names,
            ch_types=trials.ch_types,
            sfreq=trials.sfreq,
            n_times=trials.n_times,
            hop_s=self.hop_s,
            preprocessing=self.preprocessing(),
        )

    def output_for(self, train: TrialSet) -> OutputSpec:
        """Return what this decoder produces once fitted on ``train``: its kind, its classes."""
        return OutputSpec(self.output_kind, train.classes)

    def restore(self, spec: InputSpec, output: OutputSpec, state: dict[str, Any]) -> Decoder:
        """Rebuild the fitted decoder from its specs and a weights-only state dict."""
        self.input_spec_, self.output_spec_ = spec, output
        self.module_ = self.build(spec, output)
        self.module_.load_state_dict(state)
        self.module_.eval()
        return self

    @property
    def is_fitted(self) -> bool:
        """Return True once :meth:`fit` or :meth:`restore` ran."""
        return hasattr(self, "module_")

    def inference_module(self) -> torch.nn.Module:
        """Return the module the live path runs: raw outputs, then softmax for probabilities."""
        import torch

        self._require_fitted()
        if self.output_spec_.kind != "probabilities":
            return self.module_
        return torch.nn.Sequential(self.module_, torch.nn.Softmax(dim=1)).eval()

    def export_module(self) -> torch.nn.Module:
        """Return the module exported to ONNX: :meth:`inference_module` by default.

        A decoder may return an exact rewrite of it that runs faster; the export checks the
        rewrite's graph against :meth:`inference_module` (parity), never against itself.
        """
        return self.inference_module()

    def predict_proba(self, data: np.ndarray) -> np.ndarray:
        """Return outputs (class probabilities for classifiers) for raw trials ``data``.

        The declared preprocessing runs first, as it does on the stream in the live path.
        """
        import torch

        module = self.inference_module()
        spec = self.input_spec_
        expected = (len(spec.ch_names), spec.n_times)
        if np.ndim(data) != 3 or np.shape(data)[1:] != expected:
            raise DataError(
                self.name,
                f"windows must be (n, {expected[0]}, {expected[1]}), got {np.shape(data)}",
            )
        data = apply_to_trials(
            spec.preprocessing, np.asarray(data), spec.sfreq, spec.ch_names, spec.ch_types
        ).astype(np.float32)
        outputs = []
        with torch.no_grad():
            step = self.predict_batch_size
            for start in range(0, len(data), step):
                outputs.append(module(torch.from_numpy(data[start : start + step])))
        return torch.cat(outputs).numpy().astype(float)

    def config(self) -> dict[str, Any]:
        """Return the constructor arguments (seed, hop and options), JSON-serialisable."""
        return {"seed": self.seed, "hop_s": self.hop_s, **self.__dict__.get("_options", {})}

    def _preprocessed(self, trials: TrialSet) -> TrialSet:
        steps = self.input_spec_.preprocessing
        if not steps:
            return trials
        data = apply_to_trials(steps, trials.data, trials.sfreq, trials.ch_names, trials.ch_types)
        return replace(trials, data=data)

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(f"decoder {self.name} is not fitted")


def _recording_options(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a decoder's ``__init__`` so the arguments it receives are recorded as options.

    The outermost constructor records first; each parent records only the options its
    children did not (the values it actually received, defaults included). Keyword
    arguments collected by ``**kwargs`` are recorded as given.
    """
    signature = inspect.signature(init)

    @functools.wraps(init)
    def recording(self: Decoder, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        options = self.__dict__.setdefault("_options", {})
        for name, value in list(bound.arguments.items())[1:]:
            kind = signature.parameters[name].kind
            received = value if kind is inspect.Parameter.VAR_KEYWORD else {name: value}
            for key, item in received.items():
                if key not in ("seed", "hop_s"):
                    options.setdefault(key, item)
        init(self, *args, **kwargs)

    return recording
