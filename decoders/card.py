"""The decoder card: what a fitted decoder needs, produces, and how it was trained."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from decoders.evaluation.records import software_versions

if TYPE_CHECKING:
    from decoders.contract import Decoder

CARD_FORMAT = 1


@dataclass
class DecoderCard:
    """Everything a user or the live path must know about a fitted decoder.

    Parameters
    ----------
    decoder : str
        Registry name.
    config : dict
        Constructor arguments (seed, hop and options) that rebuild it.
    input, output : dict
        :class:`~decoders.contract.InputSpec` and :class:`~decoders.contract.OutputSpec` data.
    data : dict
        What it was trained on (data set, files, label source, trial counts).
    evaluation : dict
        The result record of its evaluation (protocol, split sizes, seeds, metrics).
    history : dict
        Per-epoch training history of the kept model, when trained by gradient descent.
    extra : dict
        Decoder-specific facts (input conditioning of networks, synaptic operations and
        energy for spiking decoders, ...) and ``warnings`` raised by the fit (validation
        predictions that collapse to one class).
    initialization : dict
        Where the weights started from when not from scratch (pretrained weights: origin,
        sha256, licence).
    """

    decoder: str
    config: dict[str, Any]
    input: dict[str, Any]
    output: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    initialization: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=software_versions)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format: int = CARD_FORMAT

    @classmethod
    def for_decoder(cls, decoder: Decoder, **fields: Any) -> DecoderCard:
        """Return the card of a fitted ``decoder`` with extra ``fields`` filled in."""
        history = decoder.history_.to_dict() if decoder.history_ is not None else {}
        warnings = list(getattr(decoder, "warnings_", []))
        if warnings:
            fields["extra"] = {**fields.get("extra", {}), "warnings": warnings}
        return cls(
            decoder=decoder.name,
            config=decoder.config(),
            input=decoder.input_spec_.to_dict(),
            output=decoder.output_spec_.to_dict(),
            history=history,
            initialization=getattr(decoder, "initialization_", {}),
            **fields,
        )

    def to_json(self) -> str:
        """Return the card as JSON text."""
        return json.dumps(asdict(self), indent=1)

    def save(self, path: Path) -> None:
        """Write the card as JSON."""
        Path(path).write_text(self.to_json())

    @classmethod
    def from_json(cls, text: str) -> DecoderCard:
        """Parse a card written by :meth:`to_json`."""
        data = json.loads(text)
        if data.get("format") != CARD_FORMAT:
            raise ValueError(f"decoder card format {data.get('format')} is not {CARD_FORMAT}")
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> DecoderCard:
        """Read a card from a JSON file."""
        return cls.from_json(Path(path).read_text())
