"""A model decoding a stream live, as the desktop and a headless calibration run hold it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bci_app.inference.engine import InferenceEngine
    from bci_app.inference.prediction import Prediction
    from bci_app.inference.runner import DecoderRunner


@dataclass
class LiveDecoder:
    """One model decoding one stream: its engine, runner and the predictions not yet drawn.

    Parameters
    ----------
    name : str
        Runner name (suffix of the prediction stream).
    engine : InferenceEngine
        The engine running it.
    runner : DecoderRunner
        The runner (card, counts, latency).
    locked : bool
        Whether it decodes the window after each marker instead of every hop.
    predictions : deque of Prediction
        Filled by the engine's thread, emptied by the one reader that draws them.
    """

    name: str
    engine: InferenceEngine
    runner: DecoderRunner
    locked: bool = False
    predictions: deque[Prediction] = field(default_factory=lambda: deque(maxlen=5000))

    def subscribe(self) -> deque[Prediction]:
        """Return a further queue the engine fills with every later prediction (another reader)."""
        queue: deque[Prediction] = deque(maxlen=5000)
        self.engine.subscribe(queue.append)
        return queue
