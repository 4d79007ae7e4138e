"""The exported model format, in one torch-free module used by the export and the live path.

An exported ``.onnx`` file carries, besides its graph, text entries in ``metadata_props``
(JSON where structured):

``bci_app.format``
    Format version of these keys (``1``).
``bci_app.card``
    The decoder card: channels, rate, window, hop, declared preprocessing, outputs,
    training data and provenance.
``bci_app.live``
    How the live path runs the graph: ``graph`` (``window`` or ``step``), input and output
    names, ``resample`` (may a stream at another rate be resampled to the model's),
    ``pipeline`` (the declared preprocessing: acquisition pipeline steps at the model's
    rate), for step graphs the state names and ``step_times``, and, for decoders that
    explain their decisions, ``explanation`` (the second output's name, kind and axes).
``bci_app.export``
    Provenance of the file: opset, versions, parity report, quantization report.
``bci_app.content_sha256``
    Content hash of the model: sha256 of its deterministic protobuf serialisation (graph,
    weights, opsets and every other metadata entry) without this entry. Written by
    :func:`write_metadata` whenever a bci-app tool writes a model (export, int8
    quantization), and checked by :func:`read_card`, so a file changed after export (one
    flipped weight byte, an edited card) is refused wherever it is read. It proves that
    the file is what the export wrote, not who wrote it (it is not a signature).

The same module fixes the ONNX Runtime settings of the live path (one intra-op thread,
sequential execution, the graph optimisation levels it may pick), which the export's parity
gate uses too, so "checked with the live path's settings" holds by construction. Cards are
read from the graph's protobuf without building an inference session.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bci_app.errors import IncompatibleModelError, ModelIntegrityError

if TYPE_CHECKING:
    import onnx
    import onnxruntime

FORMAT = "1"
KEY_FORMAT = "bci_app.format"
KEY_CARD = "bci_app.card"
KEY_LIVE = "bci_app.live"
KEY_EXPORT = "bci_app.export"
KEY_CONTENT = "bci_app.content_sha256"

WINDOW_INPUT = "window"
STEP_INPUT = "block"
OUTPUT = "output"
EXPLANATION = "explanation"

MIN_OPSET = 7
"""Oldest ONNX opset accepted (ONNX Runtime guarantees nothing below)."""

OPTIMIZATION_LEVELS = ("extended", "all")
"""Graph optimisation levels the live path may pick (``ORT_ENABLE_*``): export checks both."""


# ---------------------------------------------------------------------- writing the entries
def window_live(
    pipeline: list[dict[str, Any]],
    *,
    allow_resample: bool,
    explanation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the ``bci_app.live`` entry of a whole-window graph.

    ``explanation`` describes the graph's second output, ``explanation`` (its ``kind``,
    ``axes`` and labels), when the decoder explains each decision.
    """
    live = {
        "graph": "window",
        "input": WINDOW_INPUT,
        "output": OUTPUT,
        "resample": allow_resample,
        "pipeline": [dict(step) for step in pipeline],
    }
    if explanation is not None:
        live["explanation"] = {"output": EXPLANATION, **explanation}
    return live


def step_live(
    pipeline: list[dict[str, Any]], names: list[str], step_times: int, *, allow_resample: bool
) -> dict[str, Any]:
    """Return the ``bci_app.live`` entry of a streaming step graph with states ``names``."""
    return {
        "graph": "step",
        "input": STEP_INPUT,
        "output": OUTPUT,
        "state_inputs": list(names),
        "state_outputs": [f"{name}_out" for name in names],
        "step_times": step_times,
        "resample": allow_resample,
        "pipeline": [dict(step) for step in pipeline],
    }


def state_names(n_states: int) -> list[str]:
    """Return default graph names of ``n_states`` state tensors."""
    return [f"state_{index}" for index in range(n_states)]


def metadata_entries(card_json: str, live: dict, export: dict) -> dict[str, str]:
    """Return the text entries written to a file's ``metadata_props``."""
    return {
        KEY_FORMAT: FORMAT,
        KEY_CARD: card_json,
        KEY_LIVE: json.dumps(live),
        KEY_EXPORT: json.dumps(export, allow_nan=True),
    }


def write_metadata(path: Path, entries: dict[str, str]) -> None:
    """Replace the entries ``entries`` names in the file at ``path``, then seal its content.

    The content hash (``bci_app.content_sha256``) is computed last, over the graph and every
    entry, so the file written is the file :func:`read_card` accepts.
    """
    import onnx

    model = onnx.load(str(path))
    _set_entries(model, entries)
    _set_entries(model, {KEY_CONTENT: content_hash(model)})
    onnx.save(model, str(path))


def _set_entries(model: onnx.ModelProto, entries: dict[str, str]) -> None:
    kept = [p for p in model.metadata_props if p.key not in entries]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in entries.items():
        model.metadata_props.add(key=key, value=value)


def content_hash(proto: onnx.ModelProto) -> str:
    """Return the sha256 of ``proto`` serialised deterministically, without its content hash."""
    import onnx

    unsealed = onnx.ModelProto()
    unsealed.CopyFrom(proto)
    kept = [p for p in unsealed.metadata_props if p.key != KEY_CONTENT]
    del unsealed.metadata_props[:]
    unsealed.metadata_props.extend(kept)
    return hashlib.sha256(unsealed.SerializeToString(deterministic=True)).hexdigest()


def check_content(proto: onnx.ModelProto, source: str) -> str:
    """Return the model's content hash after checking it against the one written at export.

    Raises
    ------
    IncompatibleModelError
        When the file carries no content hash (not written by this version's export).
    ModelIntegrityError
        When the graph, its weights or its metadata changed after export.
    """
    written = next((p.value for p in proto.metadata_props if p.key == KEY_CONTENT), None)
    if written is None:
        raise IncompatibleModelError(
            source,
            f"carries no content hash ({KEY_CONTENT}): it was not written by this version "
            "of `bci-app export`; re-export the decoder",
        )
    actual = content_hash(proto)
    if actual != written:
        raise ModelIntegrityError(
            source,
            f"changed after export: its content hash {actual[:16]}... differs from the "
            f"{written[:16]}... written by `bci-app export` (graph, weights or card "
            "modified); refusing it: re-export the decoder",
        )
    return actual


# ---------------------------------------------------------------------- reading a file
def load_proto(model: bytes | Path, source: str) -> onnx.ModelProto:
    """Return the parsed graph (no external data, no session).

    Raises
    ------
    IncompatibleModelError
        When the bytes are not an ONNX file.
    """
    import onnx

    try:
        if isinstance(model, bytes):
            return onnx.load_model_from_string(model)
        return onnx.load(str(model), load_external_data=False)
    except FileNotFoundError:
        raise IncompatibleModelError(source, "no such model file") from None
    except Exception as error:
        raise IncompatibleModelError(source, f"is not a readable ONNX file ({error})") from error


def read_metadata(model: bytes | Path, source: str | None = None) -> dict[str, str]:
    """Return the ``metadata_props`` of a graph given as bytes or a path."""
    proto = load_proto(model, source or str(model))
    return {prop.key: prop.value for prop in proto.metadata_props}


def highest_opset() -> int:
    """Return the newest released ONNX opset this installation knows."""
    import onnx

    return int(onnx.defs.onnx_opset_version())


def opset_of(proto: onnx.ModelProto, source: str) -> int:
    """Return the graph's ONNX opset, or raise when this runtime cannot run it."""
    versions = [e.version for e in proto.opset_import if e.domain in ("", "ai.onnx")]
    highest = highest_opset()
    for version in versions:
        if not MIN_OPSET <= version <= highest:
            raise IncompatibleModelError(
                source,
                f"uses ONNX opset {version}; this runtime runs opsets {MIN_OPSET} to {highest}:"
                " re-export the decoder with `bci-app export` (opset 20)",
            )
    return versions[0] if versions else highest


def read_card(model: bytes | Path, source: str) -> ModelCard:
    """Return the card of an exported graph after checking its opset and content hash.

    No inference session is built.

    Raises
    ------
    IncompatibleModelError
        When the file is not an ONNX graph, its opset is out of range, or it carries no
        readable card or no content hash.
    ModelIntegrityError
        When the file changed after export (see :func:`check_content`).
    """
    proto = load_proto(model, source)
    opset = opset_of(proto, source)
    card = ModelCard.from_metadata({p.key: p.value for p in proto.metadata_props}, source)
    return replace(card, opset=opset, content_sha256=check_content(proto, source))


# ---------------------------------------------------------------------- ONNX Runtime
def session_options(level: str = "all") -> onnxruntime.SessionOptions:
    """Return the live settings: 1 intra-op thread, sequential, graph optimisation ``level``."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = getattr(
        onnxruntime.GraphOptimizationLevel, f"ORT_ENABLE_{level.upper()}"
    )
    options.log_severity_level = 3
    return options


def live_session(
    model: bytes | Path, level: str = "all", source: str | None = None
) -> onnxruntime.InferenceSession:
    """Return an ONNX Runtime session of ``model`` with the live settings at ``level``.

    Raises
    ------
    IncompatibleModelError
        When ONNX Runtime cannot load the graph.
    """
    import onnxruntime

    try:
        return onnxruntime.InferenceSession(
            model if isinstance(model, bytes) else str(model),
            session_options(level),
            providers=["CPUExecutionProvider"],
        )
    except Exception as error:
        raise IncompatibleModelError(
            source or str(model)[:80],
            f"ONNX Runtime {onnxruntime.__version__} cannot load it: {error}",
        ) from error


def check_loads(model: bytes | Path, source: str) -> None:
    """Raise :class:`IncompatibleModelError` unless ONNX Runtime can load the graph.

    One session with basic graph optimisations: enough to prove every operator and shape
    is supported, far cheaper than the live path's choice between two optimised sessions.
    """
    live_session(model, "basic", source)


# ---------------------------------------------------------------------- the card
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
    opset : int
        ONNX opset of the graph (0 when read from metadata alone).
    explanation : dict, optional
        The graph's explanation output (name, kind, axes), when it has one.
    content_sha256 : str
        The checked content hash ("" when read from metadata alone).
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
    opset: int = 0
    explanation: dict[str, Any] | None = None
    content_sha256: str = ""

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
                explanation=live.get("explanation"),
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
