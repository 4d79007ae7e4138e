"""Where a decoder's windows come from: every hop, or locked to markers.

Both sources run the stream through the model's pipeline (in the engine's thread, never the
acquisition thread) and hand out :class:`Cut` windows. A :class:`NonFiniteTracker` follows
the raw stream, because the pipeline replaces NaN samples by zeros to keep its filters
alive: a window is only trusted when none of its raw samples was NaN or infinite.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from acquisition.cursor import SampleCursor
from acquisition.epochs import EpochStream
from acquisition.markers import MarkerBuffer
from acquisition.preprocessing.pipeline import Pipeline
from acquisition.ringbuffer import BufferRangeError, RingBuffer
from acquisition.windows import WindowStream


@dataclass(frozen=True)
class Cut:
    """A window ready for the model.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        The model's channels at the model's rate, preprocessed.
    first_time, last_time : float
        LSL times of its first and last samples.
    arrival : float
        LSL local time at which its last sample reached this process.
    marker : str, optional
        The marker it is locked to.
    marker_time : float, optional
        That marker's LSL time.
    gap : bool
        True when samples are missing inside it.
    """

    data: np.ndarray
    first_time: float
    last_time: float
    arrival: float
    marker: str | None = None
    marker_time: float | None = None
    gap: bool = False


class HopSource:
    """A window of ``n_times`` samples every ``hop`` samples, only the newest when late.

    When decoding falls behind, the windows it missed are skipped and counted in
    :attr:`dropped` so that no backlog builds up.
    """

    def __init__(
        self, buffer: RingBuffer, n_times: int, hop: int, pipeline: Pipeline | None
    ) -> None:
        self.raw = buffer
        self._stream = WindowStream(buffer, n_times, hop, pipeline=pipeline, drop_to_newest=True)
        self._period = 1.0 / self._stream.sfreq

    @property
    def dropped(self) -> int:
        """Return the windows skipped so far."""
        return self._stream.dropped

    def read(self) -> list[Cut]:
        """Process the new samples and return the newest completed window, if any."""
        n_times = self._stream.n_times
        return [
            Cut(
                window.data,
                window.timestamp - (n_times - 1) * self._period,
                window.timestamp,
                window.arrival,
                gap=window.gap,
            )
            for window in self._stream.read()
        ]


class MarkerSource:
    """The window starting ``offset_s`` after each marker (every marker, none dropped).

    Parameters
    ----------
    buffer : RingBuffer
        The signal stream.
    markers : MarkerBuffer or sequence of MarkerBuffer
        The marker stream(s).
    n_times : int
        Window length at the pipeline's output rate.
    sfreq : float
        That rate.
    pipeline : Pipeline, optional
        Causal preprocessing applied to the continuous stream before cutting.
    offset_s : float
        Start of the window relative to the marker (negative: the window ends near it).
    values : collection of str, optional
        Only markers with these values are decoded.
    """

    def __init__(
        self,
        buffer: RingBuffer,
        markers: MarkerBuffer | Sequence[MarkerBuffer],
        n_times: int,
        sfreq: float,
        pipeline: Pipeline | None,
        *,
        offset_s: float = 0.0,
        values: Collection[str] | None = None,
    ) -> None:
        self.raw = buffer
        self._stream = EpochStream(
            buffer,
            markers,
            tmin=offset_s,
            tmax=offset_s + n_times / sfreq,
            values=values,
            pipeline=pipeline,
        )

    @property
    def dropped(self) -> int:
        """Return the markers whose samples were gone before they could be cut."""
        return len(self._stream.missed)

    def read(self) -> list[Cut]:
        """Process the new samples and return the windows of the markers now complete."""
        cuts = []
        for epoch in self._stream.read():
            cuts.append(
                Cut(
                    epoch.data,
                    float(epoch.timestamps[0]),
                    float(epoch.timestamps[-1]),
                    self._arrival(float(epoch.timestamps[-1])),
                    epoch.marker.value,
                    epoch.marker.timestamp,
                )
            )
        return cuts

    def _arrival(self, time: float) -> float:
        buffer = self._stream.buffer
        index = buffer.index_of(time)
        try:
            return float(buffer.read(index, index + 1).arrivals[0])
        except BufferRangeError:
            return float(buffer.latest(n_times=1).arrivals[-1])


class NonFiniteTracker:
    """Times at which a raw stream carried NaN or infinite values on some channels.

    Parameters
    ----------
    buffer : RingBuffer
        The raw stream.
    channels : sequence of int
        Indices of the channels that matter (those the model reads).
    from_start : bool
        Also scan the samples already held (for windows that reach into the past).
    """

    def __init__(
        self, buffer: RingBuffer, channels: Sequence[int], *, from_start: bool = False
    ) -> None:
        self._cursor = SampleCursor(buffer, from_start=from_start)
        self._channels = np.asarray(channels, dtype=int)
        self._spans: deque[tuple[float, float]] = deque(maxlen=10_000)
        self._period = 1.0 / buffer.sfreq

    def update(self) -> None:
        """Scan the samples written since the last call."""
        chunk = self._cursor.read()
        if chunk.n_times == 0:
            return
        bad = ~np.isfinite(chunk.data[self._channels]).all(axis=0)
        if not bad.any():
            return
        edges = np.flatnonzero(np.diff(np.concatenate(([0], bad.astype(int), [0]))))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            self._spans.append((chunk.timestamps[start], chunk.timestamps[stop - 1]))

    def touches(self, first_time: float, last_time: float) -> bool:
        """Return True when a non-finite sample lies within a sample period of the window."""
        low, high = first_time - self._period, last_time + self._period
        return any(start <= high and stop >= low for start, stop in self._spans)
