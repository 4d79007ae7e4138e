"""The ``duin`` decoder: Du-IN's encoder fine-tuned to classify one patient's trials.

Of the patient's contacts, the ``n_select`` ranked best on the training trials alone are kept
(:func:`~decoders.datasets.ieeg.rank_channels`; the paper keeps about 10). A per-patient layer
mixes them into the encoder's virtual channels; the encoder's flattened tokens feed a linear
head. With ``--init`` (a ``bci-app pretrain duin`` folder) the encoder starts from the
pretrained one (stage ``mae`` by default, or ``vqvae``), and a patient who was in the
pretraining corpus keeps the layer learnt there (its columns for the kept contacts); a
patient unseen in pretraining, or ``subject=new``, gets a new layer, trained with the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.network import NetworkDecoder

if TYPE_CHECKING:
    import torch

NEW_SUBJECT = "new"


class DuIN(NetworkDecoder):
    """Du-IN fine-tuned for one patient's classification task.

    Parameters
    ----------
    size : str
        ``tiny``, ``small`` or ``base`` (with ``--init``: the pretrained model's).
    architecture : dict, optional
        Settings overriding the size's (with ``--init``: the pretrained model's).
    pretraining : str
        The stage an ``--init`` model must come from: ``mae`` (stage 2) or ``vqvae``.
    subject : str, optional
        The patient's subject label in the pretraining corpus (default: the ``sub-`` label of
        the trials' file name); ``new`` trains a new input layer whatever the corpus held.
    n_select : int
        Contacts kept, ranked on the training trials (0: all).
    head_dropout : float
        Dropout before the linear head.
    **training
        Band and training settings of :class:`~decoders.network.NetworkDecoder`.
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        size: str = "small",
        architecture: dict[str, Any] | None = None,
        pretraining: str = "mae",
        subject: str | None = None,
        n_select: int = 10,
        head_dropout: float = 0.5,
        **training: Any,
    ) -> None:
        from .pretraining import STAGES, DuINPretraining

        if pretraining not in STAGES:
            raise ValueError(f"unknown pretraining '{pretraining}' (known: {', '.join(STAGES)})")
        super().__init__(seed, hop_s, **training)
        self.architecture_config = DuINPretraining.configuration(size, **(architecture or {}))
        self.pretraining, self.subject = pretraining, subject
        self.n_select, self.head_dropout = n_select, head_dropout
        self._pretrained_layer: tuple[tuple[str, ...], Any, Any] | None = None

    @classmethod
    def options_from(cls, source: Path) -> dict[str, Any]:
        """Return the pretrained model's size and architecture settings."""
        from decoders.pretraining.checkpoint import implied_architecture, load_pretrained

        from .pretraining import SIZES, WEIGHT_KEYS

        return implied_architecture(load_pretrained(source), SIZES, WEIGHT_KEYS)

    def spec_for(self, trials: TrialSet) -> InputSpec:
        """Return the input spec, noting the patient the trials come from."""
        from .subjects import subject_of

        self.subject_ = self.subject or subject_of(trials.name)
        return super().spec_for(trials)

    def n_picks(self, n_channels: int) -> int:
        """Return the contacts kept of ``n_channels``."""
        return n_channels if self.n_select <= 0 else min(self.n_select, n_channels)

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return contact choice, resampling, patient layer, encoder and head for ``spec``."""
        from .network import DuINNet
        from .pretraining import encoder_of

        config = self.architecture_config
        resampled = round(spec.n_times * config["sfreq"] / spec.sfreq)
        if resampled < config["patch"]:
            raise DataError(
                self.name,
                f"windows of {spec.window_s:g} s give {resampled} samples at "
                f"{config['sfreq']:g} Hz, shorter than one token of {config['patch']} samples",
            )
        return DuINNet(
            encoder_of(config),
            n_picks=self.n_picks(len(spec.ch_names)),
            n_times=spec.n_times,
            resampled_times=resampled,
            n_classes=len(output.names),
            dropout=self.head_dropout,
        )

    def initialize(self, module: torch.nn.Module, source: Path) -> dict[str, Any]:
        """Load a pretrained Du-IN encoder and, for a patient it knows, the patient's layer."""
        from decoders.pretraining.checkpoint import load_pretrained

        from .pretraining import require_encoder_weights
        from .subjects import layer_key

        pretrained = load_pretrained(source)
        self._check_pretrained(pretrained)
        encoder = {
            key.removeprefix("encoder."): value
            for key, value in pretrained.state.items()
            if key.startswith("encoder.")
        }
        require_encoder_weights(module.encoder, encoder, pretrained.path)
        module.encoder.load_state_dict(encoder)
        known = pretrained.card.get("subjects", {})
        subject = getattr(self, "subject_", None)
        layer = "new"
        if subject != NEW_SUBJECT and subject in known:
            contacts = tuple(known[subject])
            self._check_contacts(subject, contacts, source)
            prefix = f"subject_in.layers.{layer_key(subject)}."
            weight = pretrained.state[prefix + "weight"]
            self._pretrained_layer = (contacts, weight, pretrained.state[prefix + "bias"])
            layer = f"pretrained (subject {subject})"
        return {
            "source": str(pretrained.path),
            "sha256": pretrained.sha256,
            "model": pretrained.model,
            "stage": pretrained.config["stage"],
            "config": pretrained.config,
            "corpus": pretrained.card.get("corpus", {}).get("fingerprint"),
            "corpus_files": pretrained.card.get("corpus", {}).get("n_files"),
            "pretraining_subjects": sorted(known),
            "subject": subject,
            "subject_layer": layer,
            "pretraining_steps": pretrained.card.get("steps"),
        }

    def _check_pretrained(self, pretrained) -> None:
        from .pretraining import require_architecture

        if pretrained.model != "duin":
            raise DataError(pretrained.path, f"is a pretrained {pretrained.model}, not a duin")
        stage = pretrained.config.get("stage")
        if stage != self.pretraining:
            hint = (
                "run stage 2 first (bci-app pretrain duin --stage mae --init THIS_FOLDER), or "
                "fine-tune the stage-1 encoder with --set pretraining=vqvae"
                if stage == "vqvae"
                else f"pass --set pretraining={stage} to fine-tune from it"
            )
            raise DataError(
                pretrained.path,
                f"is a stage-{STAGE_NUMBER.get(stage, '?')} ({stage}) Du-IN model where stage "
                f"{STAGE_NUMBER[self.pretraining]} ({self.pretraining}) is expected: {hint}",
            )
        require_architecture(
            pretrained,
            self.architecture_config,
            "its architecture does not fit the decoder asked for",
            "asked",
            "leave size and architecture unset to take the pretrained model's",
        )

    def _check_contacts(self, subject: str, contacts: tuple[str, ...], source: Path) -> None:
        here = self.input_spec_.ch_names
        only_there = [name for name in contacts if name not in here]
        only_here = [name for name in here if name not in contacts]
        if only_there or only_here:
            raise DataError(
                source,
                f"subject {subject}'s contacts differ between pretraining ({len(contacts)}) and "
                f"these trials ({len(here)}): only in pretraining: "
                f"{', '.join(only_there[:8]) or 'none'}; only here: "
                f"{', '.join(only_here[:8]) or 'none'}. Give the same contacts, or pass "
                f"--set subject={NEW_SUBJECT} to train a new input layer for these",
            )

    def prepare(self, module: torch.nn.Module, train: TrialSet) -> None:
        """Choose the contacts on the training trials; take their pretrained layer columns."""
        import torch

        from decoders.datasets.ieeg import rank_channels

        order = np.argsort(-rank_channels(train), kind="stable")
        picks = np.sort(order[: self.n_picks(train.n_channels)])
        module.picks.copy_(torch.as_tensor(picks))
        if self._pretrained_layer is not None:
            contacts, weight, bias = self._pretrained_layer
            columns = [contacts.index(train.ch_names[pick]) for pick in picks]
            with torch.no_grad():
                module.subject.weight.copy_(weight[:, columns])
                module.subject.bias.copy_(bias)

    def window_conditioning(self) -> dict[str, str]:
        """Return the network's own conditioning: each contact z-scored per window."""
        return {
            "dc_and_drift": "each contact's window mean removed",
            "scale": "each contact's window divided by its sd (insensitive to the input's gain)",
        }

    def card_extra(self) -> dict[str, Any]:
        """Return the input conditioning, the patient and the contacts the decoder uses."""
        self._require_fitted()
        names = self.input_spec_.ch_names
        return {
            **super().card_extra(),
            "subject": getattr(self, "subject_", self.subject),
            "contacts_used": [names[int(i)] for i in self.module_.picks],
        }


STAGE_NUMBER = {"vqvae": 1, "mae": 2}
