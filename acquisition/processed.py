"""A stream run through a preprocessing pipeline into a ring buffer of its own, on demand."""

from __future__ import annotations

from .cursor import SampleCursor
from .preprocessing.pipeline import Pipeline
from .ringbuffer import RingBuffer


class ProcessedBuffer:
    """The output of a :class:`Pipeline` fed with every new sample of a source buffer.

    The work happens in the thread that calls :meth:`update` (the consumer's, never the
    acquisition thread), so a slow pipeline delays only its own consumer. When the consumer
    falls more than the source buffer's length behind, the skipped samples are counted in
    :attr:`lost`, the pipeline restarts and a gap is marked in the output.

    Parameters
    ----------
    source : RingBuffer
        The raw stream.
    pipeline : Pipeline
        Built for the source's channels and rate.
    seconds : float, optional
        Length of the output buffer (default: the source's).
    """

    def __init__(self, source: RingBuffer, pipeline: Pipeline, *, seconds: float | None = None):
        if pipeline.in_names != source.ch_names or pipeline.in_sfreq != source.sfreq:
            raise ValueError(
                "the pipeline was built for other channels or another rate than the stream's"
            )
        self.source = source
        self.pipeline = pipeline
        self.buffer = RingBuffer(
            pipeline.ch_names,
            pipeline.ch_types,
            pipeline.sfreq,
            seconds if seconds is not None else source.seconds,
            dtype=source.dtype.type,
        )
        self._cursor = SampleCursor(source)

    @property
    def lost(self) -> int:
        """Return the source samples skipped because the consumer fell behind."""
        return self._cursor.lost

    def update(self) -> int:
        """Process every source sample not yet processed; return the output samples added."""
        lost_before = self._cursor.lost
        chunk = self._cursor.read()
        if self._cursor.lost > lost_before and self.buffer.total:
            last = self.buffer.latest(n_times=1).timestamps
            self.pipeline.reset()
            after = float(chunk.timestamps[0]) if chunk.n_times else float(last[-1])
            self.buffer.mark_gap(float(last[-1]), after, "consumer fell behind")
        if chunk.n_times == 0:
            return 0
        out = self.pipeline.process_chunk(chunk)
        if out.n_times:
            self.buffer.write(out.data, out.timestamps, out.arrivals)
        return out.n_times

    def wait(self, timeout: float) -> bool:
        """Block until the source has samples not yet processed, or ``timeout`` passes."""
        return self._cursor.wait(timeout)
