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

import numpy as np

from bci_app.errors import IncompatibleModelError
from bci_app.models.format import OPTIMIZATION_LEVELS, live_session, read_card

TIMED_RUNS = 15
"""Runs per level when choosing the faster one."""


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
        self.source = source
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.card = read_card(data, source)
        self.opset = self.card.opset
        if self.card.graph != "window":
            raise IncompatibleModelError(
                source, f"is a {self.card.graph} graph; the engine runs whole-window graphs"
            )
        sessions = {level: live_session(data, level, source) for level in OPTIMIZATION_LEVELS}
        n_channels = len(self.card.ch_names)
        self.input = np.zeros((1, n_channels, self.card.n_times), dtype=np.float32)
        self.optimization = _fastest(sessions, {self.card.input_name: self.input})
        self.session = sessions[self.optimization]
        first = dict(
            zip(
                [output.name for output in self.session.get_outputs()],
                self.session.run(None, {self.card.input_name: self.input}),
                strict=True,
            )
        )
        self._binding = self.session.io_binding()
        self._binding.bind_cpu_input(self.card.input_name, self.input)
        self.output = self._bound(self.card.output_name, first)
        self.explanation = (
            self._bound(self.card.explanation["output"], first)
            if self.card.explanation is not None
            else None
        )

    def _bound(self, name: str, first: dict[str, np.ndarray]) -> np.ndarray:
        """Return an array bound to the graph's output ``name`` (filled by every run)."""
        array = np.zeros(first[name].shape, dtype=np.float32)
        self._binding.bind_output(name, "cpu", 0, np.float32, list(array.shape), array.ctypes.data)
        return array

    def predict(self, window: np.ndarray) -> np.ndarray:
        """Return the outputs for one window (n_channels, n_times) in the model's order.

        For a model that explains its decisions, :meth:`explain` then returns this window's
        explanation.
        """
        np.copyto(self.input[0], window, casting="same_kind")
        self.session.run_with_iobinding(self._binding)
        return self.output[0].copy()

    def explain(self) -> np.ndarray | None:
        """Return the explanation of the last window predicted (None for other models)."""
        return None if self.explanation is None else self.explanation[0].copy()

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
