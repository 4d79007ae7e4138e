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
        Registry key, as typed on the command line; the name of every decoder it creates.
    target : str or type
        ``"module:Class"`` of the :class:`~decoders.contract.Decoder` subclass (imported
        when first used, so listing the registry stays light), or the class itself.
    family : str
        What kind of decoder it is (``classical``, ``braindecode``, ``spiking``, ...).
    summary : str
        One line for listings.
    defaults : dict
        Options passed to the class unless overridden.
    tiny : dict
        Options giving a small, fast instance (used by tests that cover every decoder).
    licence : str
        Licence of the model's code where it is not the project's own (SPDX-style, lower
        case, e.g. ``cc-by-nc-4.0``).
    export_failure : str
        Why the decoder trains but does not export to ONNX or run at batch 1 (checked by the
        registry-wide export test); empty when it exports.
    """

    name: str
    target: str | type[Decoder]
    family: str
    summary: str
    defaults: dict[str, Any] = field(default_factory=dict)
    tiny: dict[str, Any] = field(default_factory=dict)
    licence: str = ""
    export_failure: str = ""

    @property
    def non_commercial(self) -> bool:
        """Return True when the model's licence forbids commercial use (``-nc`` licences)."""
        return "-nc" in self.licence.lower()

    @property
    def exports(self) -> bool:
        """Return True when the decoder exports to ONNX with parity at every batch size."""
        return not self.export_failure

    def load_class(self) -> type[Decoder]:
        """Import and return the decoder class."""
        if not isinstance(self.target, str):
            return self.target
        module_name, _, class_name = self.target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)

    def create(self, seed: int = 0, **options: Any) -> Decoder:
        """Return a new, unfitted decoder with the defaults updated by ``options``.

        Raises
        ------
        TypeError
            When an option is not one the decoder takes (the message lists them).
        """
        cls = self.load_class()
        known = cls.option_names()
        unknown = [key for key in options if key not in known]
        if unknown:
            raise TypeError(
                f"{self.name} has no option {', '.join(unknown)} (options: {', '.join(known)})"
            )
        decoder = cls(seed=seed, **{**self.defaults, **options})
        decoder.name = self.name
        return decoder


REGISTRY: dict[str, DecoderEntry] = {}


def register(entry: DecoderEntry) -> DecoderEntry:
    """Add ``entry`` to the registry (a name can be registered once)."""
    if entry.name in REGISTRY:
        raise ValueError(f"decoder {entry.name} is already registered")
    REGISTRY[entry.name] = entry
    return entry


def unregister(name: str) -> DecoderEntry:
    """Remove and return the entry called ``name`` (a decoder added for a session or a test)."""
    entry = get(name)
    del REGISTRY[name]
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


def licence_note(entry: DecoderEntry) -> str:
    """Return the licence column of a listing: the licence, flagged when non-commercial."""
    if not entry.licence:
        return ""
    return f"{entry.licence} (NON-COMMERCIAL)" if entry.non_commercial else entry.licence


def markdown_table() -> str:
    """Return the registered decoders as the README's markdown table.

    Columns: name, family, the model code's licence where it is not the project's own
    (non-commercial ones flagged), and what it is.
    """
    rows = ["| name | family | licence | what it is |", "|---|---|---|---|"]
    rows += [
        f"| `{e.name}` | {e.family} | {licence_note(e)} | {e.summary} |" for e in REGISTRY.values()
    ]
    return "\n".join(rows)


_TRAINING_TINY = {"max_epochs": 2, "patience": 2}
_SPIKING_TRAINING = {"max_epochs": 100, "patience": 20, "lr": 3e-3, "weight_decay": 1e-4}

for _entry in (
    DecoderEntry(
        "csp-lda",
        "decoders.models.classical.csp_lda:CspLda",
        "classical",
        "common spatial patterns, log-variance, shrinkage LDA",
        tiny={"n_components": 2},
    ),
    DecoderEntry(
        "cov-ts-lr",
        "decoders.models.classical.riemann:TangentSpaceLR",
        "classical",
        "covariances in the Riemannian tangent space, logistic regression",
    ),
    DecoderEntry(
        "xdawncov-ts-lr",
        "decoders.models.classical.riemann:TangentSpaceLR",
        "classical",
        "Xdawn covariances in the tangent space, logistic regression",
        defaults={"xdawn": True},
        tiny={"n_filters": 1},
    ),
    DecoderEntry(
        "minirocket",
        "decoders.models.classical.rocket:RocketDecoder",
        "classical",
        "MiniRocket (aeon): 10,000 random dilated convolutions, proportion of positive values, "
        "ridge classifier; exported as a graph of its convolutions and pooling",
        defaults={"kind": "minirocket"},
        tiny={"n_kernels": 168, "max_dilations_per_kernel": 4},
    ),
    DecoderEntry(
        "multirocket",
        "decoders.models.classical.rocket:RocketDecoder",
        "classical",
        "MultiRocket (aeon): MiniRocket's convolutions on the signal and its first difference, "
        "four pooling operators, ridge classifier; exported as a graph",
        defaults={"kind": "multirocket"},
        tiny={"n_kernels": 168, "max_dilations_per_kernel": 4},
    ),
    DecoderEntry(
        "eegnet",
        "decoders.models.braindecode_zoo.nets:BraindecodeClassifier",
        "braindecode",
        "EEGNet v4, early stopping on validation",
        defaults={"architecture": "EEGNet"},
        tiny=_TRAINING_TINY,
        licence="bsd-3-clause",
    ),
    DecoderEntry(
        "shallow-fbcsp",
        "decoders.models.braindecode_zoo.nets:BraindecodeClassifier",
        "braindecode",
        "ShallowFBCSPNet, early stopping on validation",
        defaults={"architecture": "ShallowFBCSPNet"},
        tiny=_TRAINING_TINY,
        licence="bsd-3-clause",
    ),
    DecoderEntry(
        "rleegnet",
        "decoders.models.rl.rleegnet:RLEEGNet",
        "reinforcement learning",
        "one-vs-rest CSP keeping the time axis, 1D-CNN-LSTM Q-network trained by DQN (replay, "
        "target network, epsilon-greedy); online `partial_fit` with a drift bound and rollback",
        tiny={"episodes": 2, "patience": 2, "conv_channels": 4, "hidden": 4, "lstm_steps": 4},
    ),
    DecoderEntry(
        "spiking-lif",
        "decoders.models.spiking.decoders:SpikingLif",
        "spiking",
        "leaky integrate-and-fire network trained with surrogate gradients; SynOps and 45 nm "
        "energy in the card",
        defaults=_SPIKING_TRAINING,
        tiny={**_TRAINING_TINY, "hidden": 8, "max_steps": 8},
    ),
    DecoderEntry(
        "spiking-lif-delays",
        "decoders.models.spiking.decoders:SpikingLif",
        "spiking",
        "leaky integrate-and-fire network with learnable synaptic delays (DCLS-style)",
        defaults={**_SPIKING_TRAINING, "max_delay": 8},
        tiny={**_TRAINING_TINY, "hidden": 8, "max_steps": 8, "max_delay": 2},
    ),
    DecoderEntry(
        "spiking-rwkv",
        "decoders.models.spiking.decoders:SpikingRwkvDecoder",
        "spiking",
        "SpikeGPT-style spiking RWKV whose recurrence steps with O(1) state, for streams",
        defaults=_SPIKING_TRAINING,
        tiny={**_TRAINING_TINY, "width": 8, "n_blocks": 1, "max_steps": 8},
    ),
    DecoderEntry(
        "spiking-lif-1step",
        "decoders.models.spiking.onestep:OneStepLif",
        "spiking",
        "leaky integrate-and-fire network that answers in one time step, trained by gradual "
        "reduction of its time steps (16, 8, 4, 2, 1), each stage fine-tuned on the last",
        defaults=_SPIKING_TRAINING,
        tiny={**_TRAINING_TINY, "hidden": 8, "start_steps": 4},
    ),
    DecoderEntry(
        "nalsm",
        "decoders.models.spiking.nalsm:Nalsm",
        "spiking",
        "liquid state machine: recurrent LIF reservoir tuned without gradients by "
        "astrocyte-gated STDP towards a branching factor of 1, linear readout of its spikes",
        tiny={"n_neurons": 32, "max_steps": 8, "plasticity_epochs": 1},
    ),
    DecoderEntry(
        "eegformer",
        "decoders.models.eegformer.classifier:EEGFormer",
        "foundation",
        "EEGFormer: spectral tokens per channel, Transformer encoder and VQ codebook "
        "pretrained on unlabelled EEG (`bci-app pretrain`), linear head fine-tuned "
        "(`--init`); explains decisions by its tokens",
        tiny={**_TRAINING_TINY, "size": "tiny"},
    ),
    DecoderEntry(
        "bandpower-lr",
        "decoders.models.classical.bandpower:BandPowerLR",
        "classical",
        "log band power (delta to low gamma) per channel, class-balanced logistic regression; "
        "the classical seizure forecaster",
    ),
    DecoderEntry(
        "stan",
        "decoders.models.forecasting.stan:Stan",
        "forecasting",
        "STAN: cascaded spatial/temporal attention over channel x patch tokens, trained with "
        "a WGAN-GP critic on (representation, label) pairs; seizure alarms from its "
        "preictal probability (k of n windows, refractory period)",
        defaults={"max_epochs": 40, "patience": 8, "batch_size": 64, "weight_decay": 1e-2},
        tiny={**_TRAINING_TINY, "dim": 8, "heads": 2, "depth": 1, "n_filters": 2},
    ),
    DecoderEntry(
        "duin",
        "decoders.models.duin.classifier:DuIN",
        "foundation",
        "Du-IN for sEEG/ECoG: contacts ranked on training trials, per-patient layer, "
        "spatial-fusion tokenizer, Transformer; pretrained across subjects (`bci-app pretrain "
        "duin --stage vqvae`, then `--stage mae`), fine-tuned per patient (`--init`)",
        defaults={"lr": 5e-4, "weight_decay": 0.01, "max_epochs": 100, "patience": 15},
        tiny={**_TRAINING_TINY, "size": "tiny", "n_select": 4},
    ),
    DecoderEntry(
        "brain-speech",
        "decoders.models.speech.decoder:BrainSpeechDecoder",
        "speech",
        "brain module after Défossez et al. 2023 (spatial attention over sensor positions, "
        "subject layers, dilated convolutions): maps M/EEG into speech features, contrastive "
        "loss, ranked by retrieval; classifies labelled trials (sEEG words)",
        defaults={"lr": 3e-4, "batch_size": 64, "max_epochs": 100, "patience": 10},
        tiny={
            **_TRAINING_TINY,
            "spatial_attention": False,
            "n_virtual": 8,
            "hidden": 8,
            "n_blocks": 1,
        },
    ),
    DecoderEntry(
        "auto",
        "decoders.models.selection.auto:AutoDecoder",
        "selection",
        "picks among registered decoders (default: CSP+LDA, tangent space, Xdawn tangent space, "
        "MiniRocket, MultiRocket, EEGNet) by cross-validation inside the training part, refits "
        "the winner; the card records every candidate's score; exports and runs as the winner",
        tiny={
            "candidates": ["csp-lda"],
            "candidate_options": {"csp-lda": {"n_components": 2}},
            "folds": 2,
        },
    ),
    DecoderEntry(
        "fleeg-convnet",
        "decoders.models.fleeg.fleeg:FleegConvNet",
        "federated",
        "FLEEG-style network: site-local spatial layers, shared trunk and head",
        defaults={"weight_decay": 1e-2},
        tiny={**_TRAINING_TINY, "n_spatial": 4, "filters": [8]},
    ),
):
    register(_entry)

# Every other braindecode classifier, from the catalog generated from the installed braindecode.
from decoders.models.braindecode_zoo.catalog import zoo_entries  # noqa: E402

for _entry in zoo_entries():
    register(_entry)
