"""The model card as the live path reads it from an exported .onnx file's metadata.

The metadata keys are written by ``decoders.export.metadata``; this reader needs neither
torch nor the ``decoders`` package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bci_app.errors import IncompatibleModelError

FORMAT = "1"
KEY_FORMAT = "bci_app.format"
KEY_CARD = "bci_app.card"
KEY_LIVE = "bci_app.live"
KEY_EXPORT = "bci_app.export"


@dataclass(frozen=True)
class ModelCard:
    """What the live path needs to know about an exported model.

    Parameters
    ----------
    decoder : str
        Registry name of the decoder that was exported.
    ch_names, ch_types : tuple of str
        Channels in the model's order, with MNE types.
    sfreq : float
        The model's sampling rate in Hz.
    n_times : int
        Window length in samples (at ``sfreq``).
    hop_s : float
        Seconds between two windows on a stream.
    output_kind : str
        ``probabilities``, ``regression`` or ``embedding``.
    output_names : tuple of str
        Class or output names.
    graph : str
        ``window`` or ``step``.
    input_name, output_name : str
        Names of the graph's signal input and main output.
    resample : bool
        Whether a stream at another rate may be resampled to ``sfreq``.
    pipeline : list of dict
        Causal preprocessing at ``sfreq`` (acquisition pipeline steps).
    card : dict
        The whole decoder card (training data, evaluation, provenance).
    export : dict
        Export provenance (opset, parity, quantization).
    """

    decoder: str
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    sfreq: float
    n_times: int
    hop_s: float
    output_kind: str
    output_names: tuple[str, ...]
    graph: str
    input_name: str
    output_name: str
    resample: bool
    pipeline: list[dict[str, Any]] = field(default_factory=list)
    card: dict[str, Any] = field(default_factory=dict, repr=False)
    export: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def hop(self) -> int:
        """Return the hop in samples at the model's rate (at least 1)."""
        return max(1, round(self.hop_s * self.sfreq))

    @property
    def window_s(self) -> float:
        """Return the window length in seconds."""
        return self.n_times / self.sfreq

    @classmethod
    def from_metadata(cls, entries: dict[str, str], source: str) -> ModelCard:
        """Parse the metadata of an exported file; ``source`` names it in errors.

        Raises
        ------
        IncompatibleModelError
            When the file is not a bci-app export or its metadata format is unknown.
        """
        if KEY_CARD not in entries or KEY_LIVE not in entries:
            raise IncompatibleModelError(
                source,
                "carries no decoder card in its metadata: not exported by `bci-app export`",
            )
        if entries.get(KEY_FORMAT) != FORMAT:
            raise IncompatibleModelError(
                source,
                f"metadata format {entries.get(KEY_FORMAT)!r}, this version reads {FORMAT!r}; "
                "re-export the model with this version of bci-app",
            )
        try:
            card = json.loads(entries[KEY_CARD])
            live = json.loads(entries[KEY_LIVE])
            export = json.loads(entries.get(KEY_EXPORT, "{}"))
            spec, output = card["input"], card["output"]
            return cls(
                decoder=str(card["decoder"]),
                ch_names=tuple(spec["ch_names"]),
                ch_types=tuple(spec["ch_types"]),
                sfreq=float(spec["sfreq"]),
                n_times=int(spec["n_times"]),
                hop_s=float(spec["hop_s"]),
                output_kind=str(output["kind"]),
                output_names=tuple(output["names"]),
                graph=str(live["graph"]),
                input_name=str(live["input"]),
                output_name=str(live["output"]),
                resample=bool(live["resample"]),
                pipeline=list(live["pipeline"]),
                card=card,
                export=export,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise IncompatibleModelError(
                source, f"its metadata is incomplete or malformed ({error!r})"
            ) from error

    def input_differences(self, other: ModelCard) -> list[str]:
        """Return how ``other`` differs in what it takes and gives (empty: interchangeable)."""
        differences = []
        for what in ("ch_names", "sfreq", "n_times", "hop_s", "pipeline", "output_names"):
            if getattr(self, what) != getattr(other, what):
                differences.append(what)
        return differences
