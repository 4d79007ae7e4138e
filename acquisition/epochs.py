"""Windows locked to the markers of a separate marker stream, on the signal's clock."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

from .markers import Marker, MarkerBuffer
from .preprocessing.pipeline import Pipeline
from .processed import ProcessedBuffer
from .ringbuffer import BufferRangeError, RingBuffer
from .windows import Window


class EpochStream:
    """The window from ``tmin`` to ``tmax`` seconds around each new marker.

    Markers and samples come from different streams and may arrive in either order: a
    marker that arrives before its samples waits for them; one that arrives after them is
    cut at once as long as its samples are still in the ring buffer. Markers whose samples
    are gone (overwritten, lost in a gap, or from before the stream started) are listed in
    :attr:`missed`. Both streams' timestamps are on this machine's clock (the inlets correct
    offsets).

    Each window starts at the first sample at the marker's time plus ``tmin`` (found by
    time, so a gap earlier in the stream shifts nothing) and holds the ``n_times``
    consecutive samples from there, as every :class:`~acquisition.windows.Window` does. When
    a gap (stream loss, timestamp jump, reconnection) lies inside, the samples after it are
    later than the marker would say: the window is handed out flagged ``gap=True``, like a
    hop window across a gap, for the consumer to count and decide.

    Parameters
    ----------
    buffer : RingBuffer
        The signal stream.
    markers : MarkerBuffer or sequence of MarkerBuffer
        The marker stream(s).
    tmin, tmax : float
        Window limits in seconds relative to the marker (``tmax`` excluded).
    values : collection of str, optional
        Only markers with these values are cut.
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

    @property
    def dropped(self) -> int:
        """Return the markers whose samples were gone before they could be cut."""
        return len(self.missed)

    def read(self) -> list[Window]:
        """Return the windows whose samples all arrived since the last call, in marker order."""
        if self._processed is not None:
            self._processed.update()
        for index, source in enumerate(self.markers):
            new = source.since(self._positions[index])
            if new:
                self._positions[index] = new[-1].seq + 1
            self._pending.extend(m for m in new if self.values is None or m.value in self.values)
        self._pending.sort(key=lambda m: m.timestamp)
        windows, waiting = [], []
        for marker in self._pending:
            outcome = self._cut(marker)
            if isinstance(outcome, Window):
                windows.append(outcome)
            elif outcome == "wait":
                waiting.append(marker)
            else:
                self.missed.append(marker)
        self._pending = waiting
        return windows

    def _cut(self, marker: Marker) -> Window | Literal["wait", "missed"]:
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
            window = Window.read(self.buffer, start, stop, marker)
        except BufferRangeError:
            return "missed"
        if window.first_time > first_time + 2 * half_period:
            return "missed"  # its first samples are gone: overwritten, in a gap, or never sent
        return window
