"""Files of a pretraining run: the resumable training state, and the pretrained model.

A run folder holds ``state.pt`` (everything needed to continue after an interruption, written
atomically every N steps), and, once finished, ``pretrained.pt`` (the model's weights only,
apart from any fine-tuned head) with its card ``pretrained.json``. Every file is read with
``weights_only=True``: a file holding pickled objects is refused, never executed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from decoders.datasets.errors import DataError
from decoders.datasets.fetch import sha256_of

STATE_NAME = "state.pt"
WEIGHTS_NAME = "pretrained.pt"
CARD_NAME = "pretrained.json"
CARD_FORMAT = 1


def save_atomic(content: dict[str, Any], path: Path) -> None:
    """Write ``content`` (tensors and plain values) with torch, atomically."""
    import torch

    temporary = Path(path).with_name(f".{Path(path).name}.tmp")
    torch.save(content, temporary)
    temporary.replace(path)


def load_weights_only(path: Path) -> dict[str, Any]:
    """Return the content of a torch file holding tensors and plain values only.

    Raises
    ------
    DataError
        When the file is missing, damaged, or holds pickled objects (refused, not run).
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise DataError(
            path,
            "is not a weights-only file (it holds pickled objects, which bci-app never "
            f"unpickles): {str(error).splitlines()[0]}",
        ) from error
    except (RuntimeError, EOFError, OSError) as error:
        raise DataError(path, f"cannot be read as a torch file (damaged?): {error}") from error


@dataclass(frozen=True)
class Pretrained:
    """A pretrained model read from disk: its name, configuration, weights and card."""

    model: str
    config: dict[str, Any]
    state: dict[str, Any]
    card: dict[str, Any]
    path: Path
    sha256: str


def save_pretrained(folder: Path, state: dict[str, Any], card: dict[str, Any]) -> Path:
    """Write ``pretrained.pt`` (weights only) and ``pretrained.json`` (its card, with the hash)."""
    folder = Path(folder)
    weights = folder / WEIGHTS_NAME
    save_atomic({key: value.detach().cpu() for key, value in state.items()}, weights)
    card = {**card, "format": CARD_FORMAT, "weights_sha256": sha256_of(weights)}
    temporary = folder / f".{CARD_NAME}.tmp"
    temporary.write_text(json.dumps(card, indent=1))
    temporary.replace(folder / CARD_NAME)
    return weights


def load_pretrained(path: Path) -> Pretrained:
    """Read a pretrained model from its folder or its ``pretrained.pt`` (card beside it).

    Raises
    ------
    DataError
        When the card is missing or unreadable, the weights are not weights-only, or their
        hash is not the card's (the file changed after pretraining).
    """
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    weights = folder / WEIGHTS_NAME if path.is_dir() else path
    card_path = folder / CARD_NAME
    if not card_path.is_file():
        raise DataError(
            folder,
            f"holds no {CARD_NAME}: give the output folder of `bci-app pretrain` (a "
            f"pretrained model is {WEIGHTS_NAME} with its card)",
        )
    try:
        card = json.loads(card_path.read_text())
        model, config = str(card["model"]), dict(card["config"])
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(card_path, f"is not a pretraining card ({error!r})") from error
    if card.get("format") != CARD_FORMAT:
        raise DataError(card_path, f"card format {card.get('format')!r}, not {CARD_FORMAT}")
    digest = sha256_of(weights) if weights.is_file() else ""
    state = load_weights_only(weights)
    if digest != card.get("weights_sha256"):
        raise DataError(
            weights,
            "its sha256 differs from the one its card recorded: the weights changed after "
            "pretraining; refusing them",
        )
    return Pretrained(model, config, state, card, weights, digest)


def implied_architecture(
    pretrained: Pretrained, sizes: dict[str, dict[str, Any]], keys: tuple[str, ...]
) -> dict[str, Any]:
    """Return the decoder options a pretrained model implies: its size and differing settings.

    ``{"size": SIZE, "architecture": {KEY: VALUE}}`` for the settings of ``keys`` where the
    model differs from its size's (None when it does not); empty when its size is unknown.
    """
    size = pretrained.card.get("size") or "small"
    if size not in sizes:
        return {}
    differing = {
        key: pretrained.config[key]
        for key in keys
        if key in pretrained.config and pretrained.config[key] != sizes[size][key]
    }
    return {"size": size, "architecture": differing or None}
