"""Epochs cut around the markers of a separate marker stream, on the signal's clock."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from .markers import Marker, MarkerBuffer
from .preprocessing.pipeline import Pipeline
from .processed import ProcessedBuffer
from .ringbuffer import BufferRangeError, RingBuffer


@dataclass(frozen=True)
class Epoch:
    """Signal around one marker.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        The samples.
    timestamps : ndarray, shape (n_times,)
        LSL time of each sample.
    marker : Marker
        The event; ``timestamps - marker.timestamp`` gives the time relative to it.
    """

    data: np.ndarray
    timestamps: np.ndarray
    marker: Marker


class EpochStream:
    """Epochs from ``tmin`` to ``tmax`` seconds around each new marker.

    Markers and samples come from different streams and may arrive in either order: a
    marker that arrives before its samples waits for them; one that arrives after them is
    cut at once as long as its samples are still in the ring buffer. Markers whose samples
    are gone (overwritten, or from before the stream started) are listed in :attr:`missed`.
    Both streams' timestamps are on this machine's clock (the inlets correct offsets).

    Parameters
    ----------
    buffer : RingBuffer
        The signal stream.
    markers : MarkerBuffer or sequence of MarkerBuffer
        The marker stream(s).
    tmin, tmax : float
        Epoch limits in seconds relative to the marker (``tmax`` excluded).
    values : collection of str, optional
        Only markers with these values are epoched.
    pipeline : Pipeline, optional
        Causal preprocessing applied to the continuous signal before cutting.
    """

    def __init__(
        self,
        buffer: RingBuffer,
        markers: MarkerBuffer | Sequence[MarkerBuffer],
        *,
        tmin: float,
        tmax: float,
        values: Collection[str] | None = None,
        pipeline: Pipeline | None = None,
    ) -> None:
        if tmax <= tmin:
            raise ValueError(f"tmax ({tmax}) must be after tmin ({tmin})")
        self._processed = ProcessedBuffer(buffer, pipeline) if pipeline is not None else None
        self.buffer = self._processed.buffer if self._processed else buffer
        self.n_times = max(1, round((tmax - tmin) * self.buffer.sfreq))
        if self.n_times > self.buffer.capacity:
            raise BufferRangeError(
                f"epochs of {tmax - tmin:g} s do not fit in a buffer of {self.buffer.seconds:g} s"
            )
        self.tmin, self.tmax = tmin, tmax
        self.values = None if values is None else set(values)
        self.markers = [markers] if isinstance(markers, MarkerBuffer) else list(markers)
        self._positions = [m.next_seq for m in self.markers]
        self._pending: list[Marker] = []
        self.missed: list[Marker] = []

    def read(self) -> list[Epoch]:
        """Return the epochs whose samples all arrived since the last call, in marker order."""
        if self._processed is not None:
            self._processed.update()
        for index, source in enumerate(self.markers):
            new = source.since(self._positions[index])
            if new:
                self._positions[index] = new[-1].seq + 1
            self._pending.extend(m for m in new if self.values is None or m.value in self.values)
        self._pending.sort(key=lambda m: m.timestamp)
        epochs, waiting = [], []
        for marker in self._pending:
            outcome = self._cut(marker)
            if isinstance(outcome, Epoch):
                epochs.append(outcome)
            elif outcome == "wait":
                waiting.append(marker)
            else:
                self.missed.append(marker)
        self._pending = waiting
        return epochs

    def _cut(self, marker: Marker) -> Epoch | str:
        half_period = 0.5 / self.buffer.sfreq
        first_time = marker.timestamp + self.tmin - half_period
        newest = self.buffer.latest(n_times=1)
        if newest.n_times == 0 or newest.timestamps[-1] < first_time:
            return "wait"
        start = self.buffer.index_of(first_time)
        stop = start + self.n_times
        if stop > self.buffer.total:
            return "wait"
        try:
            chunk = self.buffer.read(start, stop)
        except BufferRangeError:
            return "missed"
        if chunk.timestamps[0] > first_time + 2 * half_period:
            return "missed"  # its first samples are gone: overwritten, in a gap, or never sent
        return Epoch(chunk.data, chunk.timestamps, marker)
