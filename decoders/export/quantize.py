"""Optional dynamic int8 quantization of an exported graph, with its accuracy cost measured.

Weights of matrix products and convolutions become int8 (activations are quantized on the
fly), after ONNX Runtime's pre-processing (shape inference, constant folding). The float
and the int8 graphs are both scored on the decoder's validation trials, preprocessed as in
training, and the change is written into the int8 file's metadata.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bci_app.models import format as model_format
from decoders.datasets.trials import TrialSet
from decoders.preprocessing import apply_to_trials


@dataclass(frozen=True)
class QuantizationReport:
    """Float versus int8 on the validation trials.

    Parameters
    ----------
    path : str
        The int8 graph.
    validation : str
        Name of the validation trials.
    n_trials : int
        How many.
    float_accuracy, int8_accuracy : float
        Accuracy of each graph (classifiers; NaN for other outputs).
    max_abs_change : float
        Largest absolute difference between the two graphs' outputs.
    float_bytes, int8_bytes : int
        File sizes.
    """

    path: str
    validation: str
    n_trials: int
    float_accuracy: float
    int8_accuracy: float
    max_abs_change: float
    float_bytes: int
    int8_bytes: int

    @property
    def accuracy_change(self) -> float:
        """Return int8 minus float accuracy."""
        return self.int8_accuracy - self.float_accuracy

    def summary(self) -> str:
        """Return one line for the user."""
        return (
            f"{self.path}: int8, {self.int8_bytes / 1e3:.0f} kB (float {self.float_bytes / 1e3:.0f}"
            f" kB); accuracy on {self.n_trials} validation trials of {self.validation}: "
            f"{self.float_accuracy:.3f} -> {self.int8_accuracy:.3f} "
            f"({self.accuracy_change:+.3f}); max output change {self.max_abs_change:.2e}"
        )


def quantize_int8(onnx_path: Path, out_path: Path, validation: TrialSet) -> QuantizationReport:
    """Write the dynamic int8 version of ``onnx_path`` to ``out_path`` and score both.

    Raises
    ------
    ValueError
        When the validation trials do not match the model's channels, rate or length.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    onnx_path, out_path = Path(onnx_path), Path(out_path)
    model = model_format.read_card(onnx_path, str(onnx_path))
    data = _model_inputs(validation, model, onnx_path)
    with tempfile.TemporaryDirectory() as folder:
        prepared = Path(folder) / "prepared.onnx"
        quant_pre_process(str(onnx_path), str(prepared))
        quantize_dynamic(str(prepared), str(out_path), weight_type=QuantType.QInt8)
    float_out = _run(onnx_path, model.input_name, data)
    int8_out = _run(out_path, model.input_name, data)
    classifier = model.output_kind == "probabilities"
    report = QuantizationReport(
        path=str(out_path),
        validation=validation.name,
        n_trials=validation.n_trials,
        float_accuracy=_accuracy(float_out, validation.labels) if classifier else np.nan,
        int8_accuracy=_accuracy(int8_out, validation.labels) if classifier else np.nan,
        max_abs_change=float(np.max(np.abs(float_out - int8_out))),
        float_bytes=os.path.getsize(onnx_path),
        int8_bytes=os.path.getsize(out_path),
    )
    export = {**model.export, "quantization": {"kind": "dynamic int8", **asdict(report)}}
    entries = model_format.read_metadata(onnx_path)
    entries[model_format.KEY_EXPORT] = json.dumps(export, allow_nan=True)
    model_format.write_metadata(out_path, entries)
    return report


def _model_inputs(trials: TrialSet, model: model_format.ModelCard, source: Path) -> np.ndarray:
    """Return the trials as the model sees them (declared preprocessing applied)."""
    if trials.ch_names != model.ch_names or trials.n_times != model.n_times:
        raise ValueError(
            f"{trials.name}: validation trials ({trials.n_channels} ch x {trials.n_times}) do "
            f"not match the model {source} ({len(model.ch_names)} ch x {model.n_times})"
        )
    if not np.isclose(trials.sfreq, model.sfreq):
        raise ValueError(
            f"{trials.name}: sampled at {trials.sfreq} Hz, the model {source} at {model.sfreq}"
        )
    data = trials.data
    if model.pipeline:
        data = apply_to_trials(model.pipeline, data, trials.sfreq, trials.ch_names, trials.ch_types)
    return np.asarray(data, dtype=np.float32)


def _run(path: Path, input_name: str, data: np.ndarray) -> np.ndarray:
    session = model_format.live_session(path)
    outputs = [
        session.run(None, {input_name: data[i : i + 64]})[0] for i in range(0, len(data), 64)
    ]
    return np.concatenate(outputs).astype(float)


def _accuracy(proba: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(proba.argmax(axis=1) == labels))
