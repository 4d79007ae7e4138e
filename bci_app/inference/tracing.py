"""Latency per stage of each prediction, and rolling percentiles of them.

Every instant is on the LSL local clock, the clock of the samples' (corrected) timestamps:

- acquisition: last sample's timestamp -> its arrival in this process (sender, network,
  inlet thread);
- buffering: arrival -> the engine picking up the new samples;
- preprocessing: pick-up -> window ready (causal filters, resampling, cutting);
- inference: window ready -> model outputs;
- publication: outputs (or their ranking) -> pushed to the prediction stream;
- ranking: outputs -> candidates ranked (speech models run with a candidate set; else 0).

``e2e`` is the sum: last sample's timestamp -> publication.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass

import numpy as np

STAGES = ("acquisition", "buffering", "preprocessing", "inference", "ranking", "publication", "e2e")


@dataclass(frozen=True)
class LatencyTrace:
    """Milliseconds spent in each stage by one prediction (see the module docstring)."""

    acquisition: float
    buffering: float
    preprocessing: float
    inference: float
    publication: float
    e2e: float
    ranking: float = 0.0

    @classmethod
    def from_instants(
        cls,
        sample_time: float,
        arrival: float,
        picked: float,
        ready: float,
        inferred: float,
        published: float,
        ranked: float | None = None,
    ) -> LatencyTrace:
        """Build a trace from the instants (seconds, LSL local clock); ``ranked`` if ranking."""
        ranked = inferred if ranked is None else ranked
        return cls(
            1e3 * (arrival - sample_time),
            1e3 * (picked - arrival),
            1e3 * (ready - picked),
            1e3 * (inferred - ready),
            1e3 * (published - ranked),
            1e3 * (published - sample_time),
            1e3 * (ranked - inferred),
        )

    @property
    def overhead(self) -> float:
        """Return the pipeline's own delay: end to end minus the model's compute (ms)."""
        return self.e2e - self.inference

    def to_dict(self) -> dict[str, float]:
        """Return the stage durations in ms."""
        return asdict(self)


class LatencyTracker:
    """The most recent traces and their percentiles; safe to read from another thread.

    Parameters
    ----------
    size : int
        Number of most recent predictions summarised.
    """

    def __init__(self, size: int = 1000) -> None:
        self._traces: deque[LatencyTrace] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, trace: LatencyTrace) -> None:
        """Record one prediction's trace."""
        with self._lock:
            self._traces.append(trace)

    def __len__(self) -> int:
        with self._lock:
            return len(self._traces)

    def summary(self) -> dict[str, dict[str, float]]:
        """Return ``{stage: {"p50", "p95", "p99"}}`` in ms, plus ``overhead`` (e2e - inference).

        Empty when no prediction was made yet.
        """
        with self._lock:
            traces = list(self._traces)
        if not traces:
            return {}
        table = np.array([[getattr(t, s) for s in STAGES] + [t.overhead] for t in traces])
        percentiles = np.percentile(table, [50, 95, 99], axis=0)
        return {
            stage: {"p50": float(p50), "p95": float(p95), "p99": float(p99)}
            for stage, p50, p95, p99 in zip((*STAGES, "overhead"), *percentiles, strict=True)
        }


def format_summary(summary: dict[str, dict[str, float]], title: str) -> str:
    """Return a markdown table of a :meth:`LatencyTracker.summary`."""
    lines = [f"| {title} | p50 ms | p95 ms | p99 ms |", "| --- | ---: | ---: | ---: |"]
    for stage, values in summary.items():
        lines.append(
            f"| {stage} | {values['p50']:.2f} | {values['p95']:.2f} | {values['p99']:.2f} |"
        )
    return "\n".join(lines)
