"""A prediction as the engine hands it out: outputs, the window's time, its latency trace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bci_app.models.alarm import AlarmStatus

from .ranking import Ranking
from .tracing import LatencyTrace


@dataclass(frozen=True)
class Prediction:
    """One decoded window.

    Parameters
    ----------
    runner : str
        The decoder-on-stream that produced it (its prediction stream's suffix).
    model : str
        ``name:version`` of the model that ran.
    timestamp : float
        LSL time of the window's last sample.
    outputs : ndarray
        Class probabilities, regression values or embedding coordinates.
    output_names : tuple of str
        Name of each output.
    trace : LatencyTrace
        Milliseconds per stage.
    marker : str, optional
        The marker the window is locked to (marker-locked decoding).
    marker_time : float, optional
        LSL time of that marker.
    gap : bool
        True when samples were missing inside the window (stream loss).
    explanation : dict, optional
        Why the model decided so, for models that say: ``values`` (an array) and the card's
        description of them (``kind``, ``axes``, ``rows``, ``step_s``, ``unit``).
    alarm : AlarmStatus, optional
        The seizure alarm after this window, for models that carry an alarm policy.
    ranking : Ranking, optional
        The best speech candidates, for a speech model run with a candidate set.
    """

    runner: str
    model: str
    timestamp: float
    outputs: np.ndarray
    output_names: tuple[str, ...]
    trace: LatencyTrace
    marker: str | None = None
    marker_time: float | None = None
    gap: bool = False
    explanation: dict[str, Any] | None = None
    alarm: AlarmStatus | None = None
    ranking: Ranking | None = None

    def _explanation(self) -> dict[str, Any]:
        values = np.round(np.asarray(self.explanation["values"], dtype=float), 4)
        return {**self.explanation, "values": values.tolist()}

    @property
    def label(self) -> str:
        """Return the name of the largest output (the decided class of a classifier)."""
        return self.output_names[int(np.argmax(self.outputs))]

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-serialisable data."""
        return {
            "runner": self.runner,
            "model": self.model,
            "timestamp": self.timestamp,
            "outputs": [float(v) for v in self.outputs],
            "output_names": list(self.output_names),
            "label": self.label,
            "marker": self.marker,
            "marker_time": self.marker_time,
            "gap": self.gap,
            "latency_ms": self.trace.to_dict(),
            **({"explanation": self._explanation()} if self.explanation is not None else {}),
            **({"alarm": self.alarm.to_dict()} if self.alarm is not None else {}),
            **({"ranking": self.ranking.to_dict()} if self.ranking is not None else {}),
        }
