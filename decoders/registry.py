"""Decoders by name. Entries name their class by import path, so nothing heavy loads early."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decoders.contract import Decoder


@dataclass(frozen=True)
class DecoderEntry:
    """A registered decoder.

    Parameters
    ----------
    name : str
        Registry key, as typed on the command line.
    target : str
        ``"module:Class"`` of the :class:`~decoders.contract.Decoder` subclass.
    summary : str
        One line for listings.
    defaults : dict
        Options passed to the class unless overridden.
    tiny : dict
        Options giving a small, fast instance (used by tests that cover every decoder).
    """

    name: str
    target: str
    summary: str
    defaults: dict[str, Any] = field(default_factory=dict)
    tiny: dict[str, Any] = field(default_factory=dict)

    def load_class(self) -> type[Decoder]:
        """Import and return the decoder class."""
        module_name, _, class_name = self.target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)

    def create(self, seed: int = 0, **options: Any) -> Decoder:
        """Return a new, unfitted decoder with the defaults updated by ``options``."""
        return self.load_class()(seed=seed, **{**self.defaults, **options})


REGISTRY: dict[str, DecoderEntry] = {}


def register(entry: DecoderEntry) -> DecoderEntry:
    """Add ``entry`` to the registry (a name can be registered once)."""
    if entry.name in REGISTRY:
        raise ValueError(f"decoder {entry.name} is already registered")
    REGISTRY[entry.name] = entry
    return entry


def get(name: str) -> DecoderEntry:
    """Return the entry called ``name`` or raise a ``KeyError`` listing the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown decoder '{name}' (known: {', '.join(sorted(REGISTRY))})") from None


def create(name: str, seed: int = 0, **options: Any) -> Decoder:
    """Return a new, unfitted decoder by name."""
    return get(name).create(seed=seed, **options)


_TRAINING_TINY = {"max_epochs": 2, "patience": 2}

for _entry in (
    DecoderEntry(
        "csp-lda",
        "decoders.baselines.csp_lda:CspLda",
        "common spatial patterns, log-variance, shrinkage LDA",
        tiny={"n_components": 2},
    ),
    DecoderEntry(
        "cov-ts-lr",
        "decoders.baselines.riemann:TangentSpaceLR",
        "covariances in the Riemannian tangent space, logistic regression",
    ),
    DecoderEntry(
        "xdawncov-ts-lr",
        "decoders.baselines.riemann:TangentSpaceLR",
        "Xdawn covariances in the tangent space, logistic regression",
        defaults={"xdawn": True},
        tiny={"n_filters": 1},
    ),
    DecoderEntry(
        "eegnet",
        "decoders.baselines.braindecode_nets:BraindecodeClassifier",
        "braindecode EEGNet (v4) with early stopping",
        defaults={"architecture": "EEGNet"},
        tiny=_TRAINING_TINY,
    ),
    DecoderEntry(
        "shallow-fbcsp",
        "decoders.baselines.braindecode_nets:BraindecodeClassifier",
        "braindecode ShallowFBCSPNet with early stopping",
        defaults={"architecture": "ShallowFBCSPNet"},
        tiny=_TRAINING_TINY,
    ),
    DecoderEntry(
        "fleeg-convnet",
        "decoders.federated_models.fleeg:FleegConvNet",
        "FLEEG-style: per-site spatial/temporal filter-bank layers, shared conv trunk (federated)",
        tiny={**_TRAINING_TINY, "n_spatial": 4, "depth": 1, "filters": [8]},
    ),
    DecoderEntry(
        "rleegnet",
        "decoders.rl.rleegnet:RLEEGNet",
        "OVR CSP in csp space + 1D-CNN-LSTM Q-network trained by DQN; online adaptation",
        tiny={"episodes": 2, "patience": 2, "conv_channels": 4, "hidden": 4, "lstm_steps": 4},
    ),
    DecoderEntry(
        "spiking-lif",
        "decoders.spiking.decoders:SpikingLif",
        "leaky integrate-and-fire network, surrogate gradients, direct input encoding",
        tiny={**_TRAINING_TINY, "hidden": 8, "max_steps": 8},
    ),
    DecoderEntry(
        "spiking-lif-delays",
        "decoders.spiking.decoders:SpikingLif",
        "leaky integrate-and-fire network with learnable synaptic delays (DCLS-style)",
        defaults={"max_delay": 8},
        tiny={**_TRAINING_TINY, "hidden": 8, "max_steps": 8, "max_delay": 2},
    ),
    DecoderEntry(
        "spiking-rwkv",
        "decoders.spiking.decoders:SpikingRwkvDecoder",
        "SpikeGPT-style spiking RWKV, O(1)-state recurrence, streams block by block",
        tiny={**_TRAINING_TINY, "width": 8, "n_blocks": 1, "max_steps": 8},
    ),
):
    register(_entry)
