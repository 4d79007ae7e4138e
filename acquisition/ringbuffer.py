"""A thread-safe ring buffer of one regular stream: samples, timestamps, arrival times, marks."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class BufferRangeError(ValueError):
    """A request a ring buffer cannot serve: more than it holds, or data already overwritten."""


@dataclass(frozen=True)
class Chunk:
    """Consecutive samples of a stream.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Values in SI units.
    timestamps : ndarray, shape (n_times,)
        LSL time of each sample on this machine's clock (clock-corrected, dejittered).
    arrivals : ndarray, shape (n_times,)
        LSL local time at which each sample reached this process.
    start : int
        Index of the first sample in the stream (counted from the first sample received).
    gap : bool
        True when a gap marked in the stream lies between two of its samples.
    non_finite : bool
        True when one of its samples lies in a stretch marked non-finite.
    """

    data: np.ndarray
    timestamps: np.ndarray
    arrivals: np.ndarray
    start: int
    gap: bool = False
    non_finite: bool = False

    @property
    def n_times(self) -> int:
        """Return the number of samples."""
        return int(self.timestamps.size)

    @property
    def stop(self) -> int:
        """Return the index after the last sample."""
        return self.start + self.n_times


@dataclass(frozen=True)
class Gap:
    """Missing data between two samples of a stream (stream loss, or a timestamp jump).

    Parameters
    ----------
    index : int
        Index of the first sample after the gap.
    before, after : float
        LSL times of the last sample before and the first sample after the gap.
    reason : str
        Why the data are missing.
    """

    index: int
    before: float
    after: float
    reason: str

    @property
    def duration(self) -> float:
        """Return the length of the gap in seconds (beyond one sampling period)."""
        return self.after - self.before


def non_finite_runs(data: np.ndarray) -> list[tuple[int, int]]:
    """Return the ``(start, stop)`` runs of samples (columns) with a NaN or infinite value."""
    bad = ~np.isfinite(data).all(axis=0)
    if not bad.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], bad.astype(np.int8), [0]))))
    return [(int(start), int(stop)) for start, stop in zip(edges[::2], edges[1::2], strict=True)]


class RingBuffer:
    """The most recent samples of one regular stream, for any number of reader threads.

    Writes come from one acquisition thread; reads copy out under a lock and never block
    for long. Samples are counted from the first one written, so readers can follow the
    stream with absolute indices (see :class:`~acquisition.cursor.SampleCursor`).

    Two kinds of marks say what is wrong with the samples, and every read carries them
    (:attr:`Chunk.gap`, :attr:`Chunk.non_finite`): gaps (data missing between two samples,
    marked by the writer with :meth:`mark_gap`) and non-finite stretches (times at which a
    sample had a NaN or infinite value: marked by :meth:`write` itself, or by the writer with
    :meth:`mark_non_finite` when it cleaned them). Marks are kept while their samples are.

    Parameters
    ----------
    ch_names, ch_types : sequence of str
        Channel names and MNE channel types.
    sfreq : float
        Sampling rate in Hz.
    seconds : float
        How much signal the buffer holds.
    dtype : numpy dtype
        Storage type of the samples.
    """

    def __init__(
        self,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
        seconds: float,
        *,
        dtype: type = np.float32,
    ) -> None:
        if sfreq <= 0:
            raise ValueError(f"a ring buffer needs a regular stream, got {sfreq} Hz")
        if seconds <= 0:
            raise ValueError(f"buffer length must be positive, got {seconds} s")
        self.ch_names = tuple(ch_names)
        self.ch_types = tuple(ch_types)
        if len(self.ch_names) != len(self.ch_types):
            raise ValueError("one channel type per channel name is needed")
        self.sfreq = float(sfreq)
        self.capacity = max(1, round(seconds * sfreq))
        self.dtype = np.dtype(dtype)
        self._data = np.zeros((len(self.ch_names), self.capacity), dtype=self.dtype)
        self._stamps = np.zeros(self.capacity)
        self._arrivals = np.zeros(self.capacity)
        self._total = 0
        self._gaps: list[Gap] = []
        self._non_finite: list[tuple[float, float]] = []  # (first, last) LSL times
        self._condition = threading.Condition()

    @property
    def n_channels(self) -> int:
        """Return the channel count."""
        return len(self.ch_names)

    @property
    def seconds(self) -> float:
        """Return the buffer length in seconds."""
        return self.capacity / self.sfreq

    @property
    def total(self) -> int:
        """Return the number of samples written since the start."""
        with self._condition:
            return self._total

    @property
    def oldest(self) -> int:
        """Return the index of the oldest sample still held."""
        with self._condition:
            return max(0, self._total - self.capacity)

    def write(self, data: np.ndarray, timestamps: np.ndarray, arrival: float | np.ndarray) -> None:
        """Append samples (n_channels, n_times) with their timestamps and arrival time(s).

        Stretches of samples with a NaN or infinite value on any channel are marked.
        """
        n_times = data.shape[1]
        if data.shape[0] != self.n_channels or timestamps.shape != (n_times,):
            raise ValueError(
                f"expected ({self.n_channels}, n) samples with n timestamps, "
                f"got {data.shape} and {timestamps.shape}"
            )
        arrivals = np.broadcast_to(np.asarray(arrival, dtype=float), (n_times,))
        skipped = max(0, n_times - self.capacity)
        if skipped:
            data, timestamps, arrivals = (
                data[:, skipped:],
                timestamps[skipped:],
                arrivals[skipped:],
            )
            n_times = self.capacity
        runs = non_finite_runs(data)
        with self._condition:
            self._total += skipped
            start = self._total % self.capacity
            first = min(n_times, self.capacity - start)
            rest = n_times - first
            self._data[:, start : start + first] = data[:, :first]
            self._stamps[start : start + first] = timestamps[:first]
            self._arrivals[start : start + first] = arrivals[:first]
            if rest:
                self._data[:, :rest] = data[:, first:]
                self._stamps[:rest] = timestamps[first:]
                self._arrivals[:rest] = arrivals[first:]
            self._total += n_times
            for run_start, run_stop in runs:
                self._non_finite.append(
                    (float(timestamps[run_start]), float(timestamps[run_stop - 1]))
                )
            self._drop_old_marks()
            self._condition.notify_all()

    def mark_gap(self, before: float, after: float, reason: str) -> Gap:
        """Record that data are missing before the next sample to be written."""
        with self._condition:
            gap = Gap(self._total, before, after, reason)
            self._gaps.append(gap)
            return gap

    def mark_non_finite(self, first: float, last: float) -> None:
        """Record that samples from LSL time ``first`` to ``last`` (included) are not to be trusted.

        For a writer that replaced NaN or infinite values (a preprocessing pipeline): reads
        of samples in that span say so (:attr:`Chunk.non_finite`).
        """
        with self._condition:
            self._non_finite.append((float(first), float(last)))

    def gaps(self, since: int = 0) -> list[Gap]:
        """Return the gaps whose following sample is at index ``since`` or later."""
        with self._condition:
            return [gap for gap in self._gaps if gap.index >= since]

    def read(self, start: int, stop: int) -> Chunk:
        """Return the samples with indices ``start`` to ``stop`` (excluded).

        Raises
        ------
        BufferRangeError
            When part of the range is already overwritten or not yet written.
        """
        with self._condition:
            oldest = max(0, self._total - self.capacity)
            if start < oldest:
                raise BufferRangeError(
                    f"samples from index {start} were overwritten (oldest held: {oldest}; "
                    f"the buffer holds {self.seconds:g} s)"
                )
            if stop > self._total or stop < start:
                raise BufferRangeError(
                    f"samples {start}:{stop} not available (written: {self._total})"
                )
            return self._copy(start, stop)

    def latest(self, seconds: float | None = None, *, n_times: int | None = None) -> Chunk:
        """Return the most recent samples: ``seconds`` of signal or ``n_times`` samples.

        Fewer samples come back while the stream has not yet delivered that many.

        Raises
        ------
        BufferRangeError
            When more is asked for than the buffer can hold.
        """
        if n_times is None:
            if seconds is None:
                raise ValueError("give seconds or n_times")
            n_times = round(seconds * self.sfreq)
        if n_times > self.capacity:
            raise BufferRangeError(
                f"asked for {n_times / self.sfreq:g} s of signal but the buffer holds "
                f"{self.seconds:g} s; create it with more seconds"
            )
        with self._condition:
            stop = self._total
            return self._copy(max(0, stop - n_times), stop)

    def index_of(self, time: float) -> int:
        """Return the index of the first held sample at or after LSL time ``time``.

        Samples are found by their timestamps (which only increase), so across gaps too.
        Returns the index after the newest sample when ``time`` is later than all.
        """
        with self._condition:
            oldest = max(0, self._total - self.capacity)
            stamps = self._take(self._stamps, oldest, self._total)
        return oldest + int(np.searchsorted(stamps, time, side="left"))

    def wait(self, index: int, timeout: float) -> bool:
        """Block until sample ``index`` is written or ``timeout`` passes; return if it was."""
        with self._condition:
            return self._condition.wait_for(lambda: self._total > index, timeout)

    def _copy(self, start: int, stop: int) -> Chunk:
        """Copy samples ``start:stop`` with their marks (under the lock)."""
        stamps = self._take(self._stamps, start, stop)
        gap = non_finite = False
        if stamps.size:
            gap = any(start < mark.index < stop for mark in self._gaps)
            first, last = stamps[0], stamps[-1]
            non_finite = any(low <= last and high >= first for low, high in self._non_finite)
        return Chunk(
            self._take(self._data, start, stop),
            stamps,
            self._take(self._arrivals, start, stop),
            start,
            gap,
            non_finite,
        )

    def _take(self, array: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Copy samples ``start:stop`` of a storage array (time on its last axis)."""
        first, last = start % self.capacity, stop % self.capacity
        if stop - start == 0:
            return array[..., :0].copy()
        if first < last:
            return array[..., first:last].copy()
        return np.concatenate((array[..., first:], array[..., :last]), axis=-1)

    def _drop_old_marks(self) -> None:
        oldest = self._total - self.capacity
        if self._gaps and self._gaps[0].index < oldest:
            self._gaps = [gap for gap in self._gaps if gap.index >= oldest]
        if self._non_finite and oldest > 0:
            oldest_time = self._stamps[oldest % self.capacity]
            self._non_finite = [span for span in self._non_finite if span[1] >= oldest_time]
