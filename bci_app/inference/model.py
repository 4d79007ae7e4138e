"""One exported model in ONNX Runtime, configured for the lowest batch-1 latency.

One intra-op thread, sequential execution, graph optimisations on. The blocked-layout
(NCHWc) rewrites of the highest optimisation level speed some graphs up and slow others
down (EEGNet's long temporal kernels run 1.7x slower with them here), so both the
extended and the full level are built at load time and the faster on a few timed runs is
kept. The input and output arrays are allocated once and bound to the session, so a
prediction copies the window in and runs, nothing more.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

import numpy as np

from bci_app.errors import IncompatibleModelError

from .card import ModelCard

if TYPE_CHECKING:
    import onnxruntime

MIN_OPSET = 7
"""Oldest ONNX opset accepted (ONNX Runtime guarantees nothing below)."""


def highest_opset() -> int:
    """Return the newest released ONNX opset this installation knows."""
    import onnx

    return int(onnx.defs.onnx_opset_version())


OPTIMIZATION_LEVELS = ("extended", "all")
"""Graph optimisation levels tried at load time (ONNX Runtime's ``ORT_ENABLE_*``)."""

TIMED_RUNS = 15
"""Runs per level when choosing the faster one."""


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


def check_opset(data: bytes, source: str) -> int:
    """Return the model's ONNX opset, or raise when this runtime cannot run it."""
    import onnx

    try:
        proto = onnx.load_model_from_string(data)
    except Exception as error:
        raise IncompatibleModelError(source, f"is not a readable ONNX file ({error})") from error
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


class OnnxModel:
    """A verified model file loaded into ONNX Runtime for batch-1 live inference.

    Parameters
    ----------
    data : bytes
        The .onnx file's content (already checked against the registry's manifest).
    source : str
        How to name the model in messages (``name:version`` or a file name).

    Attributes
    ----------
    card : ModelCard
        Channels, rate, window, hop, preprocessing and outputs.
    sha256 : str
        Hash of ``data``.
    opset : int
        ONNX opset of the graph.
    optimization : str
        The graph optimisation level kept (``extended`` or ``all``).
    """

    def __init__(self, data: bytes, source: str) -> None:
        import onnxruntime

        self.source = source
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.opset = check_opset(data, source)
        try:
            sessions = {
                level: onnxruntime.InferenceSession(
                    data, session_options(level), providers=["CPUExecutionProvider"]
                )
                for level in OPTIMIZATION_LEVELS
            }
        except Exception as error:
            raise IncompatibleModelError(
                source, f"ONNX Runtime {onnxruntime.__version__} cannot load it: {error}"
            ) from error
        metadata = sessions["all"].get_modelmeta().custom_metadata_map
        self.card = ModelCard.from_metadata(metadata, source)
        if self.card.graph != "window":
            raise IncompatibleModelError(
                source, f"is a {self.card.graph} graph; the engine runs whole-window graphs"
            )
        n_channels = len(self.card.ch_names)
        self.input = np.zeros((1, n_channels, self.card.n_times), dtype=np.float32)
        self.optimization = _fastest(sessions, {self.card.input_name: self.input})
        self.session = sessions[self.optimization]
        first = self.session.run(None, {self.card.input_name: self.input})[0]
        self.output = np.zeros(first.shape, dtype=np.float32)
        self._binding = self.session.io_binding()
        self._binding.bind_cpu_input(self.card.input_name, self.input)
        self._binding.bind_output(
            self.card.output_name,
            "cpu",
            0,
            np.float32,
            list(self.output.shape),
            self.output.ctypes.data,
        )

    def predict(self, window: np.ndarray) -> np.ndarray:
        """Return the outputs for one window (n_channels, n_times) in the model's order."""
        np.copyto(self.input[0], window, casting="same_kind")
        self.session.run_with_iobinding(self._binding)
        return self.output[0].copy()

    def __repr__(self) -> str:
        card = self.card
        return (
            f"OnnxModel({self.source}: {card.decoder}, {len(card.ch_names)} ch @ {card.sfreq:g}"
            f" Hz, {card.n_times} samples, outputs {list(card.output_names)})"
        )


def _fastest(sessions: dict, feeds: dict[str, np.ndarray]) -> str:
    """Return the level whose session runs ``feeds`` fastest (median of interleaved runs)."""
    times: dict[str, list[float]] = {level: [] for level in sessions}
    for _ in range(TIMED_RUNS):
        for level, session in sessions.items():
            start = time.perf_counter()
            session.run(None, feeds)
            times[level].append(time.perf_counter() - start)
    return min(times, key=lambda level: float(np.median(times[level])))
