"""EEGFormer's self-supervised objective: reconstruct each channel's spectra through the codebook.

Sizes follow the paper (embedding 128, a 3-block decoder; 6/8/12 encoder blocks with 512/1024/
2048 codes for small/base/large, 12 s segments at 250 Hz); ``tiny`` is for tests. Patches
are 0.2 s with a 0.1 s step (5 Hz spectral resolution, so that the 0.5 s windows of common
BCI tasks still hold several tokens).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from decoders.datasets.errors import DataError
from decoders.pretraining.model import Losses, PretrainingModel
from decoders.pretraining.segments import SegmentSpec
from decoders.pretraining.vq import VectorQuantizer

from .backbone import EEGFormerBackbone

SFREQ = 250.0
CH_TYPES = ("eeg",)

_PAPER = {
    "sfreq": SFREQ,
    "segment_s": 12.0,
    "patch": 50,
    "stride": 25,
    "dim": 128,
    "heads": 4,
    "decoder_depth": 3,
    "code_dim": 64,
    "cosine": False,
    "beta": 0.25,
    "dropout": 0.1,
    "seed": 0,
}
SIZES = {
    "tiny": {
        **_PAPER,
        "segment_s": 2.0,
        "patch": 25,
        "stride": 25,
        "dim": 16,
        "heads": 2,
        "depth": 1,
        "decoder_depth": 1,
        "n_codes": 16,
        "code_dim": 8,
        "dropout": 0.0,
    },
    "small": {**_PAPER, "depth": 6, "n_codes": 512},
    "base": {**_PAPER, "depth": 8, "n_codes": 1024},
    "large": {**_PAPER, "depth": 12, "n_codes": 2048},
}
ARCHITECTURE_KEYS = (
    "patch",
    "stride",
    "dim",
    "depth",
    "decoder_depth",
    "heads",
    "n_codes",
    "code_dim",
    "cosine",
    "beta",
    "dropout",
    "seed",
)

WEIGHT_KEYS = tuple(key for key in ARCHITECTURE_KEYS if key not in ("beta", "dropout", "seed"))
"""Settings that shape the weights: a pretrained model fits a decoder that agrees on them."""


def backbone_of(config: dict[str, Any]) -> EEGFormerBackbone:
    """Return an untrained backbone for a configuration."""
    return EEGFormerBackbone(**{key: config[key] for key in ARCHITECTURE_KEYS})


class EEGFormerPretraining(PretrainingModel):
    """The backbone trained to reconstruct spectra: MSE + commitment loss."""

    sizes: ClassVar[dict[str, dict[str, Any]]] = SIZES

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.config = dict(config)
        self.backbone = backbone_of(config)

    @classmethod
    def check(cls, config: dict[str, Any]) -> None:
        """Refuse segments shorter than one patch, and widths the heads cannot split."""
        n_times = round(config["segment_s"] * config["sfreq"])
        if n_times < config["patch"]:
            raise DataError(
                "eegformer",
                f"segments of {config['segment_s']:g} s ({n_times} samples at "
                f"{config['sfreq']:g} Hz) are shorter than one patch of {config['patch']} "
                "samples: lengthen segment_s or shorten patch",
            )
        if config["dim"] % config["heads"]:
            raise DataError(
                "eegformer",
                f"a width of {config['dim']} does not split into {config['heads']} heads",
            )

    @staticmethod
    def segment_spec(config: dict[str, Any]) -> SegmentSpec:
        """Return ``segment_s`` of EEG at 250 Hz."""
        return SegmentSpec(config["sfreq"], round(config["segment_s"] * config["sfreq"]), CH_TYPES)

    def losses(self, data: torch.Tensor, weight: torch.Tensor, source: torch.Tensor) -> Losses:
        """Return reconstruction + commitment losses of single-channel sequences ``data``."""
        reconstruction, commitment = self.backbone.reconstruction_loss(data, weight)
        total = reconstruction + commitment
        return Losses(
            total,
            {
                "reconstruction_loss": float(reconstruction.detach()),
                "commitment_loss": float(commitment.detach()),
            },
        )

    def quantizers(self) -> list[VectorQuantizer]:
        """Return the codebook."""
        return [self.backbone.quantizer]
