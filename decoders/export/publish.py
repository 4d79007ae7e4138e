"""Publish a fitted decoder to a model registry: export to ONNX (parity checked), register it.

Training, calibration and federated runs publish their models here; an online adaptation,
such as RLEEGNet's, calls :func:`publish` after each update, and an engine following the
model's name swaps the new version in between two windows. The registry itself
(:mod:`bci_app.models.registry`) is torch-free and below every room that writes to it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bci_app.models.registry import ModelRecord, ModelRegistry

from .onnx_export import export_decoder

if TYPE_CHECKING:
    from decoders.card import DecoderCard
    from decoders.contract import Decoder


def publish(
    decoder: Decoder,
    registry_dir: Path | None,
    name: str,
    *,
    card: DecoderCard | None = None,
    allow_resample: bool = True,
) -> ModelRecord:
    """Export ``decoder`` and register it as the next version of ``name``.

    Parameters
    ----------
    decoder : Decoder
        A fitted decoder (its current weights are exported).
    registry_dir : Path, optional
        The registry (default: :func:`~bci_app.models.registry.default_registry_dir`).
    name : str
        Model name in the registry.
    card : DecoderCard, optional
        Card written into the file (default: the decoder's own).
    allow_resample : bool
        Whether the live path may resample a stream at another rate to the model's.

    Returns
    -------
    ModelRecord
        The new version.
    """
    with tempfile.TemporaryDirectory(prefix="bci-app-publish-") as folder:
        path = Path(folder) / f"{name}.onnx"
        export_decoder(decoder, path, card=card, allow_resample=allow_resample)
        return ModelRegistry(registry_dir).register(path, name)
