"""The one window type, and windows of a stream cut every hop for a consumer thread."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .markers import Marker
from .preprocessing.pipeline import Pipeline
from .processed import ProcessedBuffer
from .ringbuffer import BufferRangeError, RingBuffer


@dataclass(frozen=True)
class Window:
    """Consecutive samples of a stream, ready for a decoder.

    Every producer hands out this type: :class:`WindowStream` (a window every hop) and
    :class:`~acquisition.epochs.EpochStream` (a window locked to each marker).

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        The samples, in SI units (after the pipeline, when there is one).
    first_time, last_time : float
        LSL times of its first and last samples (clock-corrected, dejittered).
    arrival : float
        LSL local time at which its last sample reached this process (from the buffer).
    stop : int
        Index, in the (processed) stream, just after its last sample.
    gap : bool
        True when data are missing between two of its samples (stream loss, timestamp
        jump, reconnection, or a consumer that fell behind its pipeline).
    non_finite : bool
        True when one of its samples was NaN or infinite in the raw stream (on a channel
        the pipeline reads; the pipeline itself replaces such values by zeros).
    marker : Marker, optional
        The marker the window is locked to.
    """

    data: np.ndarray
    first_time: float
    last_time: float
    arrival: float
    stop: int
    gap: bool = False
    non_finite: bool = False
    marker: Marker | None = None

    @classmethod
    def read(
        cls, buffer: RingBuffer, start: int, stop: int, marker: Marker | None = None
    ) -> Window:
        """Return samples ``start`` to ``stop`` (excluded) of ``buffer`` with their marks.

        Raises
        ------
        BufferRangeError
            When part of the range is already overwritten or not yet written.
        """
        if stop <= start:
            raise BufferRangeError(f"a window needs samples, got {start}:{stop}")
        chunk = buffer.read(start, stop)
        return cls(
            chunk.data,
            float(chunk.timestamps[0]),
            float(chunk.timestamps[-1]),
            float(chunk.arrivals[-1]),
            chunk.stop,
            chunk.gap,
            chunk.non_finite,
            marker,
        )


class WindowStream:
    """Windows of ``n_times`` samples every ``hop`` samples, from the moment it is created.

    Each call to :meth:`read` returns every window completed since the last call, in order;
    :meth:`wait` blocks until at least one is ready. With ``drop_to_newest`` only the most
    recent window comes back and the skipped ones are counted in :attr:`dropped` (a decoder
    slower than the hop then never builds a backlog). Windows whose samples were already
    overwritten in the ring buffer are counted in :attr:`dropped` too. A window with a gap
    or a non-finite stretch inside is handed out flagged (:class:`Window`). One consumer per
    stream object; create several for several consumers.

    Parameters
    ----------
    buffer : RingBuffer
        The stream (a signal inlet's ``buffer``).
    n_times : int
        Window length in samples (at the output rate of the pipeline, if any).
    hop : int
        Samples between the ends of two consecutive windows.
    pipeline : Pipeline, optional
        Causal preprocessing applied to the continuous stream before cutting (in the
        consumer's thread).
    drop_to_newest : bool
        Hand out only the newest window of those ready.
    """

    def __init__(
        self,
        buffer: RingBuffer,
        n_times: int,
        hop: int,
        *,
        pipeline: Pipeline | None = None,
        drop_to_newest: bool = False,
    ) -> None:
        if n_times < 1 or hop < 1:
            raise ValueError(f"window length and hop must be at least 1 (got {n_times}, {hop})")
        self.source = buffer
        self.n_times, self.hop = int(n_times), int(hop)
        self.drop_to_newest = drop_to_newest
        self.dropped = 0
        self._processed = ProcessedBuffer(buffer, pipeline) if pipeline is not None else None
        self.buffer = self._processed.buffer if self._processed else buffer
        if self.n_times > self.buffer.capacity:
            raise BufferRangeError(
                f"windows of {self.n_times / self.buffer.sfreq:g} s do not fit in a buffer of "
                f"{self.buffer.seconds:g} s"
            )
        self._next_stop = self.buffer.total + self.n_times

    @property
    def ch_names(self) -> tuple[str, ...]:
        """Return the channel names of the windows."""
        return self.buffer.ch_names

    @property
    def ch_types(self) -> tuple[str, ...]:
        """Return the MNE channel types of the windows."""
        return self.buffer.ch_types

    @property
    def sfreq(self) -> float:
        """Return the sampling rate of the windows."""
        return self.buffer.sfreq

    def read(self) -> list[Window]:
        """Return the windows completed since the last call (never blocks for long)."""
        if self._processed is not None:
            self._processed.update()
        total = self.buffer.total
        if total < self._next_stop:
            return []
        stops = list(range(self._next_stop, total + 1, self.hop))
        self._next_stop = stops[-1] + self.hop
        if self.drop_to_newest and len(stops) > 1:
            self.dropped += len(stops) - 1
            stops = stops[-1:]
        windows = []
        for stop in stops:
            try:
                windows.append(Window.read(self.buffer, stop - self.n_times, stop))
            except BufferRangeError:
                self.dropped += 1
        return windows

    def wait(self, timeout: float) -> list[Window]:
        """Return the windows ready within ``timeout`` seconds (an empty list if none)."""
        deadline = time.monotonic() + timeout
        while True:
            windows = self.read()
            remaining = deadline - time.monotonic()
            if windows or remaining <= 0:
                return windows
            if self._processed is not None:
                self._processed.wait(remaining)
            else:
                self.buffer.wait(self._next_stop - 1, remaining)
