"""The models ``bci-app pretrain`` knows, by name (their classes load on first use)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import PretrainingModel


@dataclass(frozen=True)
class PretrainableEntry:
    """A model ``bci-app pretrain`` knows: its name, class and one-line summary."""

    name: str
    target: str
    summary: str

    def load_class(self) -> type[PretrainingModel]:
        """Import and return the model class."""
        module_name, _, class_name = self.target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


PRETRAINABLE: dict[str, PretrainableEntry] = {
    entry.name: entry
    for entry in (
        PretrainableEntry(
            "eegformer",
            "decoders.models.eegformer.pretraining:EEGFormerPretraining",
            "EEGFormer: spectral patches per channel, Transformer encoder, VQ codebook, "
            "Transformer decoder reconstructing the spectra",
        ),
        PretrainableEntry(
            "duin",
            "decoders.models.duin.pretraining:DuINPretraining",
            "Du-IN: per-subject input layers, spatial-fusion tokenizer, Transformer encoder; "
            "--stage vqvae (cosine codebook, signal reconstruction) then --stage mae --init "
            "STAGE1 (masked code prediction), on sEEG/ECoG",
        ),
    )
}


def pretrainable(name: str) -> PretrainableEntry:
    """Return the entry ``name`` or raise a ``KeyError`` listing the known ones."""
    try:
        return PRETRAINABLE[name]
    except KeyError:
        known = ", ".join(sorted(PRETRAINABLE))
        raise KeyError(f"no pretrainable model '{name}' (known: {known})") from None
