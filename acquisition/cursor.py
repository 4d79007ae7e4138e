"""Following a ring buffer: every new sample once, in order, with overruns counted."""

from __future__ import annotations

from .ringbuffer import BufferRangeError, Chunk, RingBuffer


class SampleCursor:
    """A reader's position in a :class:`RingBuffer`; each call returns the samples since the last.

    Not shared between threads: give each consumer its own cursor.

    Parameters
    ----------
    buffer : RingBuffer
        The stream to follow.
    from_start : bool
        Start at the oldest sample held instead of the newest.
    """

    def __init__(self, buffer: RingBuffer, *, from_start: bool = False) -> None:
        self.buffer = buffer
        self.position = buffer.oldest if from_start else buffer.total
        self.lost = 0  # samples overwritten before this reader got them

    def read(self, max_samples: int | None = None) -> Chunk:
        """Return the samples written since the last call (at most ``max_samples``).

        When the reader fell more than the buffer's length behind, the overwritten samples
        are skipped and counted in :attr:`lost`; the returned chunk starts at the oldest.
        """
        while True:
            total = self.buffer.total
            oldest = max(0, total - self.buffer.capacity)
            if self.position < oldest:
                self.lost += oldest - self.position
                self.position = oldest
            stop = total if max_samples is None else min(total, self.position + max_samples)
            try:
                chunk = self.buffer.read(self.position, stop)
            except BufferRangeError:  # overwritten between the two calls: skip ahead again
                continue
            self.position = stop
            return chunk

    def wait(self, timeout: float) -> bool:
        """Block until a sample newer than the position exists or ``timeout`` passes."""
        return self.buffer.wait(self.position, timeout)
