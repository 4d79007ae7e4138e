"""Fixed-length sequences of a corpus, streamed from disk with bounded memory.

A :class:`SegmentSpec` says what a model takes: sequences of ``n_times`` samples at
``sfreq`` from channels of some types, one item per channel (channel-independent models) or
one item per segment with ``n_channels`` rows (the file's channels, zero-padded or cut). :func:`plan_corpus` keeps the files that can feed
it (the others are reported with the reason) and cuts each into non-overlapping segments.

Every epoch has one global order of segments, drawn from the seed and the epoch alone:
files in a random order, segments shuffled within pools of ``pool_files`` consecutive files
(so that a few files are open at a time). Segment ``j`` of that order belongs to data slot
``j mod n_slots``; a slot turns its segments into one sequence per channel and hands them
out in micro-batches. An optimisation step takes one micro-batch from every slot, so the
global batch is fixed by the number of slots, whatever the number of processes: a single
process accumulating gradients over slots 0 and 1 sees exactly what two processes see with
one slot each. Nothing is read ahead of the micro-batch being built, except by the optional
prefetch thread, which holds at most a few steps.

Samples that cannot be used (NaN/Inf, a flat channel, a file that became unreadable after it
was indexed) are replaced by zeros with weight 0, so the order, and the resumption of a run,
never depend on what a file holds; they are counted in :class:`StreamReport`.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from decoders.datasets.errors import DataError
from decoders.datasets.readers import read_recording

from .corpus import CorpusFile, CorpusIndex, SkippedFile

if TYPE_CHECKING:
    import mne


@dataclass(frozen=True)
class SegmentSpec:
    """The sequences a model takes.

    Parameters
    ----------
    sfreq : float
        The model's sampling rate (segments are resampled to it).
    n_times : int
        Samples per sequence at that rate.
    ch_types : tuple of str
        MNE channel types the model takes (other channels are dropped, and said so).
    n_channels : int, optional
        None: every channel is an item of its own. Else each segment is one item of
        ``n_channels`` rows: the file's first ``n_channels`` kept channels, zero-padded.
    """

    sfreq: float
    n_times: int
    ch_types: tuple[str, ...]
    n_channels: int | None = None

    def items(self, n_picks: int) -> int:
        """Return the items a segment of ``n_picks`` kept channels gives."""
        return n_picks if self.n_channels is None else 1

    @property
    def item_shape(self) -> tuple[int, ...]:
        """Return the shape of one item."""
        if self.n_channels is None:
            return (self.n_times,)
        return (self.n_channels, self.n_times)

    @property
    def seconds(self) -> float:
        """Return the length of a segment in seconds."""
        return self.n_times / self.sfreq


@dataclass(frozen=True)
class PlannedFile:
    """A corpus file cut into segments: the channels kept and the samples per segment."""

    file: CorpusFile
    picks: tuple[int, ...]
    source_times: int
    n_segments: int


@dataclass
class CorpusPlan:
    """The files of a corpus that feed a model, and what was left out.

    Attributes
    ----------
    files : list of PlannedFile
        Files with at least one segment of the wanted channel types.
    skipped : list of SkippedFile
        Files left out, with the reason (unreadable, too short, no channel of the types).
    dropped : dict of str to int
        Channels of other types left out, counted by type over all kept files.
    spec : SegmentSpec
        What the segments are.
    """

    files: list[PlannedFile]
    skipped: list[SkippedFile]
    dropped: dict[str, int]
    spec: SegmentSpec

    @property
    def n_segments(self) -> int:
        """Return the number of segments (each gives one sequence per kept channel)."""
        return sum(item.n_segments for item in self.files)

    @property
    def n_sequences(self) -> int:
        """Return the number of items (sequences) in one pass over the corpus."""
        return sum(item.n_segments * self.spec.items(len(item.picks)) for item in self.files)

    def hours_used(self) -> dict[str, float]:
        """Return the channel-hours per type that the segments cover."""
        hours: dict[str, float] = {}
        for item in self.files:
            seconds = item.n_segments * item.source_times / item.file.sfreq
            for index in item.picks:
                kind = item.file.ch_types[index]
                hours[kind] = hours.get(kind, 0.0) + seconds / 3600.0
        return dict(sorted(hours.items()))

    def describe_dropped(self) -> str:
        """Return one sentence on the channels left out, or an empty string."""
        if not self.dropped:
            return ""
        counted = ", ".join(f"{count} {kind}" for kind, count in sorted(self.dropped.items()))
        wanted = "/".join(self.spec.ch_types)
        return f"channels left out (the model takes {wanted} only): {counted}"


def plan_corpus(index: CorpusIndex, spec: SegmentSpec) -> CorpusPlan:
    """Keep the files of ``index`` that give at least one segment of ``spec``'s channels."""
    files, skipped, dropped = [], list(index.skipped), {}
    for item in index.files:
        picks = tuple(item.picks(spec.ch_types))
        if not picks:
            types = ", ".join(sorted(set(item.ch_types))) or "none"
            wanted = "/".join(spec.ch_types)
            skipped.append(SkippedFile(item.path, f"no {wanted} channel (has: {types})"))
            continue
        source_times = int(np.ceil(spec.seconds * item.sfreq))
        n_segments = item.n_times // source_times
        if n_segments == 0:
            skipped.append(
                SkippedFile(
                    item.path,
                    f"{item.duration_s:.1f} s long, shorter than one {spec.seconds:g} s segment",
                )
            )
            continue
        for index_, kind in enumerate(item.ch_types):
            if index_ not in picks:
                dropped[kind] = dropped.get(kind, 0) + 1
        files.append(PlannedFile(item, picks, source_times, n_segments))
    if not files:
        raise DataError(
            "corpus",
            f"no file gives a {spec.seconds:g} s segment of {'/'.join(spec.ch_types)} channels "
            f"({len(skipped)} file(s) left out{': ' + skipped[0].reason if skipped else ''})",
        )
    return CorpusPlan(files, skipped, dropped, spec)


@dataclass(frozen=True)
class SegmentOrder:
    """The global order of one epoch's segments: file and segment number of each."""

    file: np.ndarray
    segment: np.ndarray

    @classmethod
    def draw(cls, plan: CorpusPlan, seed: int, epoch: int, pool_files: int) -> SegmentOrder:
        """Return the order of ``epoch``: shuffled files, segments shuffled within pools."""
        rng = np.random.default_rng([seed, epoch])
        counts = np.array([item.n_segments for item in plan.files])
        files, segments = [], []
        order = rng.permutation(len(plan.files))
        for start in range(0, len(order), pool_files):
            pool = order[start : start + pool_files]
            pool_file = np.repeat(pool, counts[pool])
            pool_segment = np.concatenate([np.arange(counts[f]) for f in pool])
            shuffle = rng.permutation(len(pool_file))
            files.append(pool_file[shuffle])
            segments.append(pool_segment[shuffle])
        return cls(np.concatenate(files), np.concatenate(segments))

    def slot_sequences(self, plan: CorpusPlan, slot: int, n_slots: int) -> int:
        """Return how many items slot ``slot`` of ``n_slots`` holds."""
        items = np.array([plan.spec.items(len(item.picks)) for item in plan.files])
        return int(items[self.file[slot::n_slots]].sum())


@dataclass(frozen=True)
class MicroBatch:
    """Items (n, *item_shape) in SI units, their weights (0: unusable) and source files.

    ``source`` holds each item's index into the plan's files (a model that keeps per-subject
    layers finds the subject there).
    """

    data: np.ndarray
    weight: np.ndarray
    source: np.ndarray


@dataclass
class StreamReport:
    """What a stream left out while reading, for the end-of-run report."""

    unusable_sequences: int = 0
    broken_files: dict[str, str] = field(default_factory=dict)

    def merge(self, other: StreamReport) -> None:
        """Add ``other``'s counts to this report."""
        self.unusable_sequences += other.unusable_sequences
        self.broken_files.update(other.broken_files)


class SlotStream:
    """The micro-batches of one data slot, from a given step of an epoch's order.

    Parameters
    ----------
    plan : CorpusPlan
        The corpus.
    order : SegmentOrder
        The epoch's order.
    slot, n_slots : int
        Which slot of how many.
    micro_batch : int
        Sequences per micro-batch.
    first_step : int
        Micro-batches to skip (resuming a run); nothing is read for them.
    open_files : int
        Files kept open (lazily, without their samples) at a time.
    report : StreamReport
        Where unusable sequences and broken files are counted.
    """

    def __init__(
        self,
        plan: CorpusPlan,
        order: SegmentOrder,
        slot: int,
        n_slots: int,
        micro_batch: int,
        *,
        first_step: int = 0,
        open_files: int = 8,
        report: StreamReport | None = None,
    ) -> None:
        self.plan, self.micro_batch = plan, micro_batch
        self.files = order.file[slot::n_slots]
        self.segments = order.segment[slot::n_slots]
        self.report = report if report is not None else StreamReport()
        self._raws: OrderedDict[int, mne.io.BaseRaw | None] = OrderedDict()
        self._open_files = open_files
        self._skip = first_step * micro_batch

    def __iter__(self) -> Iterator[MicroBatch]:
        """Yield full micro-batches until the slot's segments run out."""
        spec = self.plan.spec
        data = np.zeros((self.micro_batch, *spec.item_shape), np.float32)
        weight = np.zeros(self.micro_batch, np.float32)
        source = np.zeros(self.micro_batch, np.int64)
        filled = 0
        skip = self._skip
        for file_index, segment in zip(self.files, self.segments, strict=True):
            n_items = spec.items(len(self.plan.files[file_index].picks))
            if skip >= n_items:
                skip -= n_items
                continue
            items, usable = self._items(int(file_index), int(segment))
            for row in range(skip, n_items):
                data[filled], weight[filled] = items[row], usable[row]
                source[filled] = file_index
                filled += 1
                if filled == self.micro_batch:
                    yield MicroBatch(data.copy(), weight.copy(), source.copy())
                    filled = 0
            skip = 0

    def _items(self, file_index: int, segment: int) -> tuple[np.ndarray, np.ndarray]:
        """Return a segment's items and their weights: one per channel, or the segment whole.

        A whole segment is usable when at least one of its channels is; its unusable
        channels are zeros.
        """
        sequences, usable = self._read(file_index, segment)
        rows = self.plan.spec.n_channels
        if rows is None:
            return sequences, usable
        whole = np.zeros((1, rows, sequences.shape[1]), np.float32)
        count = min(rows, len(sequences))
        whole[0, :count] = sequences[:count]
        return whole, np.array([float(usable[:count].any())])

    def _read(self, file_index: int, segment: int) -> tuple[np.ndarray, np.ndarray]:
        """Return a segment's sequences (channels, n_times) resampled, and their usability."""
        planned = self.plan.files[file_index]
        spec = self.plan.spec
        n_channels = len(planned.picks)
        raw = self._raw(file_index)
        if raw is None:
            self.report.unusable_sequences += n_channels
            return np.zeros((n_channels, spec.n_times), np.float32), np.zeros(n_channels)
        start = segment * planned.source_times
        try:
            samples = raw.get_data(
                picks=list(planned.picks), start=start, stop=start + planned.source_times
            )
        except Exception as error:  # a file damaged after it was indexed
            self._broken(file_index, f"unreadable at {start / planned.file.sfreq:.1f} s: {error}")
            self.report.unusable_sequences += n_channels
            return np.zeros((n_channels, spec.n_times), np.float32), np.zeros(n_channels)
        usable = np.isfinite(samples).all(axis=1)
        samples = np.where(np.isfinite(samples), samples, 0.0)
        samples = samples - samples.mean(axis=1, keepdims=True)
        usable &= samples.std(axis=1) > 0
        self.report.unusable_sequences += int((~usable).sum())
        resampled = resample(samples, planned.file.sfreq, spec.sfreq, spec.n_times)
        resampled[~usable] = 0.0
        return resampled.astype(np.float32), usable.astype(np.float32)

    def _raw(self, file_index: int) -> mne.io.BaseRaw | None:
        if file_index in self._raws:
            self._raws.move_to_end(file_index)
            return self._raws[file_index]
        path = self.plan.files[file_index].file.path
        try:
            raw = read_recording(Path(path), preload=False)
        except DataError as error:
            self._broken(file_index, error.problem)
            raw = None
        self._raws[file_index] = raw
        while len(self._raws) > self._open_files:
            self._raws.popitem(last=False)
        return raw

    def _broken(self, file_index: int, reason: str) -> None:
        self.report.broken_files[self.plan.files[file_index].file.path] = reason
        self._raws[file_index] = None


def resample(samples: np.ndarray, source: float, target: float, n_times: int) -> np.ndarray:
    """Return ``samples`` (channels, times) at rate ``target`` with exactly ``n_times`` samples."""
    from scipy.signal import resample_poly

    if source != target:
        ratio = Fraction(target / source).limit_denominator(1000)
        samples = resample_poly(samples, ratio.numerator, ratio.denominator, axis=1)
    out = np.zeros((samples.shape[0], n_times))
    length = min(n_times, samples.shape[1])
    out[:, :length] = samples[:, :length]
    return out


class StepStream:
    """The micro-batches of one process, step by step, across epochs.

    A process owns ``accumulation`` consecutive slots of ``n_slots = world_size *
    accumulation``: rank ``r`` owns slots ``r * accumulation`` to ``(r + 1) * accumulation
    - 1``. Each item is the list of this process's micro-batches of one step.

    Parameters
    ----------
    plan : CorpusPlan
        The corpus.
    seed : int
        Seeds the order of every epoch.
    micro_batch, accumulation : int
        Sequences per micro-batch; micro-batches per process and step.
    rank, world_size : int
        This process and the number of processes.
    pool_files : int
        Files whose segments are shuffled together.
    prefetch : int
        Steps read ahead by a background thread (0: read in the caller's thread).
    """

    def __init__(
        self,
        plan: CorpusPlan,
        *,
        seed: int,
        micro_batch: int,
        accumulation: int = 1,
        rank: int = 0,
        world_size: int = 1,
        pool_files: int = 16,
        prefetch: int = 2,
    ) -> None:
        self.plan, self.seed = plan, seed
        self.micro_batch, self.accumulation = micro_batch, accumulation
        self.n_slots = world_size * accumulation
        self.slots = range(rank * accumulation, (rank + 1) * accumulation)
        self.pool_files, self.prefetch = pool_files, prefetch
        self.report = StreamReport()

    def order(self, epoch: int) -> SegmentOrder:
        """Return the segment order of ``epoch``."""
        return SegmentOrder.draw(self.plan, self.seed, epoch, self.pool_files)

    def steps_in(self, order: SegmentOrder) -> int:
        """Return the steps of an epoch: the shortest slot's full micro-batches."""
        return min(
            order.slot_sequences(self.plan, slot, self.n_slots) // self.micro_batch
            for slot in range(self.n_slots)
        )

    def position(self, step: int) -> tuple[int, int]:
        """Return (epoch, step within the epoch) of global step ``step``."""
        epoch = 0
        while True:
            count = self.steps_in(self.order(epoch))
            if count == 0:
                raise DataError(
                    "corpus",
                    f"{self.plan.n_sequences} sequences cannot fill one step of "
                    f"{self.n_slots} x {self.micro_batch}: lower the global batch",
                )
            if step < count:
                return epoch, step
            step -= count
            epoch += 1

    def steps(self, first_step: int = 0) -> Iterator[tuple[int, list[MicroBatch]]]:
        """Yield ``(epoch, micro-batches)`` for every step from ``first_step`` on, forever."""
        items = self._steps(first_step)
        if self.prefetch <= 0:
            yield from items
            return
        yield from _prefetched(items, self.prefetch)

    def _steps(self, first_step: int) -> Iterator[tuple[int, list[MicroBatch]]]:
        epoch, within = self.position(first_step)
        while True:
            order = self.order(epoch)
            count = self.steps_in(order)
            streams = [
                iter(
                    SlotStream(
                        self.plan,
                        order,
                        slot,
                        self.n_slots,
                        self.micro_batch,
                        first_step=within,
                        report=self.report,
                    )
                )
                for slot in self.slots
            ]
            for _ in range(within, count):
                yield epoch, [next(stream) for stream in streams]
            epoch, within = epoch + 1, 0


def _prefetched(items: Iterator, depth: int) -> Iterator:
    """Yield ``items`` read ahead by a daemon thread into a queue of ``depth``.

    Closing the returned generator stops the thread (at its next item).
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def fill() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as error:  # handed to the consumer, raised there
            buffer.put(error)
        buffer.put(done)

    threading.Thread(target=fill, daemon=True).start()
    try:
        while True:
            item = buffer.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
