"""A stream run through a preprocessing pipeline into a ring buffer of its own, on demand."""

from __future__ import annotations

import numpy as np

from .cursor import SampleCursor
from .preprocessing.channels import Pick
from .preprocessing.pipeline import Pipeline
from .ringbuffer import Chunk, RingBuffer, non_finite_runs


class ProcessedBuffer:
    """The output of a :class:`Pipeline` fed with every new sample of a source buffer.

    The work happens in the thread that calls :meth:`update` (the consumer's, never the
    acquisition thread), so a slow pipeline delays only its own consumer. The output buffer
    carries the source's marks, so that windows cut from it know what happened upstream:

    - each gap of the source is marked in the output between the outputs of the samples
      before and after it;
    - the pipeline replaces NaN and infinite values by zeros (to keep its filters alive), so
      each stretch of such values in the source, on the channels the pipeline reads, is
      marked non-finite in the output, widened by one source sampling period (a resampled
      output sample depends on its input neighbours);
    - when the consumer falls more than the source buffer's length behind, the skipped
      samples are counted in :attr:`lost`, the pipeline restarts and a gap is marked.

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
        self._read = _read_channels(pipeline)
        self._margin = 1.01 / source.sfreq  # one period, rounding errors of timestamps aside

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
        for start, stop in non_finite_runs(chunk.data[self._read]):
            self.buffer.mark_non_finite(
                chunk.timestamps[start] - self._margin, chunk.timestamps[stop - 1] + self._margin
            )
        added, position = 0, chunk.start
        for gap in self.source.gaps(chunk.start):
            if gap.index >= chunk.stop:
                break
            added += self._process(chunk, position, gap.index)
            if self.buffer.total:
                self.buffer.mark_gap(gap.before, gap.after, gap.reason)
            position = gap.index
        return added + self._process(chunk, position, chunk.stop)

    def wait(self, timeout: float) -> bool:
        """Block until the source has samples not yet processed, or ``timeout`` passes."""
        return self._cursor.wait(timeout)

    def _process(self, chunk: Chunk, start: int, stop: int) -> int:
        """Run source samples ``start:stop`` (indices in the stream) of ``chunk`` through."""
        if stop <= start:
            return 0
        first, last = start - chunk.start, stop - chunk.start
        piece = Chunk(
            chunk.data[:, first:last],
            chunk.timestamps[first:last],
            chunk.arrivals[first:last],
            start,
        )
        out = self.pipeline.process_chunk(piece)
        if out.n_times:
            self.buffer.write(out.data, out.timestamps, out.arrivals)
        return out.n_times


def _read_channels(pipeline: Pipeline) -> np.ndarray:
    """Return the indices of the input channels the pipeline's output is computed from.

    Those of a first ``pick`` step (how the live path starts a model's pipeline), else all.
    """
    first = pipeline.steps[0] if pipeline.steps else None
    names = first.ch_names if isinstance(first, Pick) else pipeline.in_names
    return np.array([pipeline.in_names.index(name) for name in names], dtype=int)
