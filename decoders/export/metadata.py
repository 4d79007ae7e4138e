"""What an exported .onnx file carries besides its graph: the card and the live settings.

Keys of the ONNX ``metadata_props`` (every value is text, JSON where structured):

``bci_app.format``
    Format version of these keys (``1``).
``bci_app.card``
    The decoder card (JSON): channels, rate, window, hop, declared preprocessing, outputs,
    training data and provenance.
``bci_app.live``
    How the live path runs the graph (JSON): ``graph`` (``window`` or ``step``), input and
    output names, ``resample`` (may a stream at another rate be resampled to the model's),
    ``pipeline`` (the declared preprocessing: acquisition pipeline steps at the model's rate,
    the very spec offline training ran through) and, for step graphs, the state names and
    ``step_times``.
``bci_app.export``
    Provenance of the file (JSON): opset, versions, parity report, quantization report.

The live path (``bci_app.inference``) reads these keys without importing this package.
"""

from __future__ import annotations

import json
from typing import Any

from decoders.contract import InputSpec

FORMAT = "1"
KEY_FORMAT = "bci_app.format"
KEY_CARD = "bci_app.card"
KEY_LIVE = "bci_app.live"
KEY_EXPORT = "bci_app.export"

WINDOW_INPUT = "window"
STEP_INPUT = "block"
OUTPUT = "output"


def live_pipeline(spec: InputSpec) -> list[dict[str, Any]]:
    """Return the declared preprocessing (acquisition pipeline steps at the model's rate)."""
    return [dict(step) for step in spec.preprocessing]


def window_live(spec: InputSpec, *, allow_resample: bool) -> dict[str, Any]:
    """Return the ``bci_app.live`` entry of a whole-window graph."""
    return {
        "graph": "window",
        "input": WINDOW_INPUT,
        "output": OUTPUT,
        "resample": allow_resample,
        "pipeline": live_pipeline(spec),
    }


def step_live(
    spec: InputSpec, names: list[str], step_times: int, *, allow_resample: bool
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
        "pipeline": live_pipeline(spec),
    }


def state_names(n_states: int) -> list[str]:
    """Return default graph names of ``n_states`` state tensors."""
    return [f"state_{index}" for index in range(n_states)]


def metadata_entries(card_json: str, live: dict, export: dict) -> dict[str, str]:
    """Return the text entries written to the file's ``metadata_props``."""
    return {
        KEY_FORMAT: FORMAT,
        KEY_CARD: card_json,
        KEY_LIVE: json.dumps(live),
        KEY_EXPORT: json.dumps(export),
    }


def write_metadata(path: str, entries: dict[str, str]) -> None:
    """Replace the ``metadata_props`` of the ONNX file at ``path`` by ``entries``."""
    import onnx

    model = onnx.load(path)
    kept = [p for p in model.metadata_props if p.key not in entries]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in entries.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, path)


def read_metadata(path: str) -> dict[str, str]:
    """Return the ``metadata_props`` of the ONNX file at ``path``."""
    import onnx

    model = onnx.load(path, load_external_data=False)
    return {prop.key: prop.value for prop in model.metadata_props}
