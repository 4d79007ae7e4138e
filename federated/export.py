"""Final models into the model registry (ONNX, parity checked) so the GUI can use them at once.

Publishing is the decoders' export (:func:`decoders.export.publish.publish`), which writes
into the torch-free registry; this module only names the models of a federation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decoders.card import DecoderCard
    from decoders.contract import Decoder


def model_name(experiment: str, owner: str) -> str:
    """Return the registry name of ``owner``'s model (a site name or ``global``)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"fed-{experiment}-{owner}").strip("-")
    return name or "fed-model"


def publish_model(decoder: Decoder, card: DecoderCard, registry_dir: Path | None, name: str) -> str:
    """Export ``decoder`` to ONNX, register it under ``name``; return its ``name:version``."""
    from decoders.export.publish import publish

    return publish(decoder, registry_dir, name, card=card).ref
