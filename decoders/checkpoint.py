"""Saving and loading fitted decoders: weights only (never pickled objects) plus a JSON card."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from decoders.card import DecoderCard
from decoders.contract import InputSpec, OutputSpec
from decoders.datasets.errors import DataError

if TYPE_CHECKING:
    from decoders.contract import Decoder

WEIGHTS_NAME = "weights.pt"
CARD_NAME = "card.json"


def save_decoder(decoder: Decoder, card: DecoderCard, folder: Path) -> Path:
    """Write ``folder/weights.pt`` (tensors only) and ``folder/card.json``; return ``folder``."""
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu() for key, value in decoder.module_.state_dict().items()}
    temporary = folder / f".{WEIGHTS_NAME}.tmp"
    torch.save(state, temporary)
    temporary.replace(folder / WEIGHTS_NAME)
    card.save(folder / CARD_NAME)
    return folder


def load_decoder(folder: Path) -> tuple[Decoder, DecoderCard]:
    """Rebuild a fitted decoder from a checkpoint folder (weights loaded with weights_only)."""
    import torch

    from decoders.registry import get

    folder = Path(folder)
    card = DecoderCard.load(folder / CARD_NAME)
    state = torch.load(folder / WEIGHTS_NAME, map_location="cpu", weights_only=True)
    decoder = get(card.decoder).create(**card.config)
    try:
        decoder.restore(InputSpec.from_dict(card.input), OutputSpec.from_dict(card.output), state)
    except RuntimeError as error:
        lines = str(error).strip().splitlines()
        detail = lines[-1].strip() if lines else type(error).__name__
        raise DataError(
            folder,
            f"its weights do not fit the {card.decoder} network its card describes (saved by "
            f"another version of bci-app? retrain it): {detail}",
        ) from error
    return decoder, card
