"""Crash-safe recording of every open stream to XDF, with a standard FIF copy on a clean stop."""

from __future__ import annotations

import contextlib
import errno
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .events import EventKind, EventLog, StreamEvent
from .export import export_bids, export_fif
from .inlet import Inlet
from .xdf_writer import XdfWriter, marker_header

_BOUNDARY_INTERVAL = 10.0  # seconds between two boundary chunks


@dataclass
class RecordingResult:
    """What a recording left on disk.

    Parameters
    ----------
    xdf : Path
        The XDF file (always there; readable up to the last flush even after a crash).
    fif : list of Path
        One FIF file per signal stream, written on a clean stop.
    bids : list of Path
        The recordings written into a BIDS data set on a clean stop, when asked.
    stop_reason : str
        ``"stopped"`` after :meth:`Recorder.stop`, else why the recording ended early.
    bytes_written : int
        Size of the XDF file.
    samples : dict
        Samples written per stream name.
    """

    xdf: Path
    fif: list[Path] = field(default_factory=list)
    bids: list[Path] = field(default_factory=list)
    stop_reason: str = "stopped"
    bytes_written: int = 0
    samples: dict[str, int] = field(default_factory=dict)


@dataclass
class _Track:
    """One stream in the file."""

    stream_id: int
    name: str
    channel_format: str
    first: float | None = None
    last: float | None = None
    count: int = 0
    offsets: list[tuple[float, float]] = field(default_factory=list)
    stamps: list[np.ndarray] = field(default_factory=list)
    values: list = field(default_factory=list)


class Recorder:
    """Records the samples of inlets (signals and markers), their clock offsets and events.

    Samples are written exactly as they arrive (values in the stream's units, sender
    timestamps) with periodic clock-offset readings, like LabRecorder, so readers such as
    pyxdf synchronise and dejitter them. Everything is flushed to the operating system (and
    fsynced) every ``flush_interval`` seconds, so a killed process leaves a file readable up
    to the last flush. Stream losses, reconnections and warnings go into a marker stream
    ``bci-app events``; operator markers (:meth:`add_marker`) into ``bci-app markers``.

    When the disk is full (or ``max_bytes`` would be exceeded) the recording stops cleanly:
    the file is cut back to its last complete flush, an event says why, and the acquisition
    goes on.

    Parameters
    ----------
    path : str or Path
        The ``.xdf`` file to create.
    inlets : sequence of Inlet
        The streams to record (signal and marker inlets, started or not).
    events : EventLog, optional
        The log the inlets report to; its events about the recorded streams are recorded,
        and the recorder's own events go there.
    flush_interval : float
        Seconds between two writes to disk (at most 1).
    max_bytes : int, optional
        Size limit of the XDF file.
    fif : bool
        On a clean stop, also write each signal stream as ``<stem>_<stream>_raw.fif``.
    bids : dict, optional
        On a clean stop, also write the signal streams into a BIDS data set: the keyword
        arguments of :func:`~acquisition.export.export_bids` (``root``, ``subject``, and
        optionally ``session`` and ``task``).
    opener : callable, optional
        Opens the file for writing (default: ``open(path, "xb")``); tests inject failures.
    """

    def __init__(
        self,
        path: str | Path,
        inlets: Sequence[Inlet],
        *,
        events: EventLog | None = None,
        flush_interval: float = 0.5,
        max_bytes: int | None = None,
        fif: bool = True,
        bids: dict | None = None,
        opener: Callable[[Path], BinaryIO] | None = None,
    ) -> None:
        if not 0 < flush_interval <= 1.0:
            raise ValueError(f"flush_interval must be in (0, 1] s, got {flush_interval}")
        self.path = Path(path)
        if self.path.suffix.lower() != ".xdf":
            raise ValueError(f"{self.path}: recordings are written as .xdf files")
        self.inlets = list(inlets)
        names = [inlet.name for inlet in self.inlets]
        if len(set(names)) != len(names):
            raise ValueError(f"two recorded streams share a name: {names}")
        self.events = events if events is not None else EventLog()
        self.flush_interval = flush_interval
        self.max_bytes = max_bytes
        self.fif = fif
        self.bids = bids
        self.stop_reason: str | None = None
        self.started_at: datetime | None = None
        self._opener = opener or (lambda p: open(p, "xb"))  # noqa: SIM115 (closed in _close)
        self._queue: queue.Queue = queue.Queue()
        self._tracks: dict[int, _Track] = {}
        self._by_inlet: dict[int, int] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._file: BinaryIO | None = None
        self._writer: XdfWriter | None = None
        self._event_seq = self.events.next_seq
        self._recorded_names = set(names)
        self._markers_id = len(self.inlets) + 1
        self._events_id = len(self.inlets) + 2

    @property
    def recording(self) -> bool:
        """Return True while samples are being written."""
        return self._thread is not None and self._thread.is_alive() and self.stop_reason is None

    @property
    def bytes_written(self) -> int:
        """Return the bytes on disk so far."""
        return self._writer.bytes_written if self._writer else 0

    @property
    def samples_written(self) -> dict[str, int]:
        """Return the samples written so far per recorded stream."""
        return {
            track.name: track.count
            for sid, track in self._tracks.items()
            if sid <= len(self.inlets)
        }

    def start(self) -> Recorder:
        """Create the file, write the stream headers and start recording."""
        self._file = self._opener(self.path)
        self._writer = XdfWriter(self._file)
        self.started_at = datetime.now(UTC)
        for index, inlet in enumerate(self.inlets, start=1):
            stream = inlet.description
            header = stream.header or marker_header(stream.name, stream.stype, stream.source_id)
            self._writer.stream_header(index, header)
            self._tracks[index] = _Track(index, inlet.name, stream.channel_format)
            self._by_inlet[id(inlet)] = index
        self._writer.stream_header(
            self._markers_id, marker_header("bci-app markers", "Markers", "bci-app-markers")
        )
        self._tracks[self._markers_id] = _Track(self._markers_id, "bci-app markers", "string")
        self._writer.stream_header(
            self._events_id, marker_header("bci-app events", "Events", "bci-app-events")
        )
        self._tracks[self._events_id] = _Track(self._events_id, "bci-app events", "string")
        self._write()
        for inlet in self.inlets:
            inlet.add_sink(self)
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()
        self.events.add(str(self.path), EventKind.RECORDING, "recording started")
        return self

    def add_marker(self, text: str, timestamp: float | None = None) -> None:
        """Record an operator marker (LSL local time; now by default)."""
        import pylsl

        stamp = pylsl.local_clock() if timestamp is None else timestamp
        self._queue.put(("samples", self._markers_id, np.array([stamp]), [[text]]))

    def stop(self, timeout: float = 10.0) -> RecordingResult:
        """Write what is left, the footers, close the file and (clean stop) export FIF."""
        for inlet in self.inlets:
            inlet.remove_sink(self)
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        result = RecordingResult(
            self.path,
            stop_reason=self.stop_reason or "stopped",
            bytes_written=self.bytes_written,
            samples=self.samples_written,
        )
        if self.stop_reason is None:
            self.stop_reason = "stopped"
            if self.fif:
                result.fif = self._export("FIF", export_fif, meas_date=self.started_at)
            if self.bids:
                result.bids = self._export(
                    "BIDS", export_bids, meas_date=self.started_at, **self.bids
                )
        return result

    # -- InletSink --------------------------------------------------------------------------

    def samples(self, inlet: Inlet, values: np.ndarray | list, timestamps: np.ndarray) -> None:
        """Queue samples of a recorded inlet (called from its thread)."""
        if self.stop_reason is None:
            self._queue.put(("samples", self._by_inlet[id(inlet)], timestamps, values))

    def clock_offset(self, inlet: Inlet, time: float, offset: float) -> None:
        """Queue a clock-offset reading of a recorded inlet (called from its thread)."""
        if self.stop_reason is None:
            self._queue.put(("offset", self._by_inlet[id(inlet)], time, offset))

    # -- the writing thread -------------------------------------------------------------------

    def _run(self) -> None:
        last_flush = last_boundary = time.monotonic()
        while self.stop_reason is None:
            stopping = self._stopping.is_set()
            try:
                self._take(self._queue.get(timeout=0.05))
                while True:
                    self._take(self._queue.get_nowait())
            except queue.Empty:
                pass
            except Exception as error:  # a malformed item must not end the recording
                self.events.add(str(self.path), EventKind.ERROR, f"recording error: {error!r}")
            self._record_events()
            now = time.monotonic()
            if now - last_boundary >= _BOUNDARY_INTERVAL:
                self._writer.boundary()
                last_boundary = now
            if stopping or now - last_flush >= self.flush_interval:
                self._write()
                last_flush = now
            if stopping:
                break
        if self.stop_reason is None:
            self._write_footers()
        self._close()

    def _take(self, item: tuple) -> None:
        kind, stream_id = item[0], item[1]
        track = self._tracks[stream_id]
        if kind == "samples":
            stamps, values = np.asarray(item[2], dtype=float), item[3]
            track.stamps.append(stamps)
            track.values.append(values)
        else:
            track.offsets.append((item[2], item[3]))
            self._writer.clock_offset(stream_id, item[2], item[3])

    def _record_events(self) -> None:
        events: list[StreamEvent] = self.events.since(self._event_seq)
        if not events:
            return
        self._event_seq = events[-1].seq + 1
        mine = [e for e in events if e.stream in self._recorded_names]
        if mine:
            stamps = np.array([e.time for e in mine])
            texts = [[f"{e.kind.value}: {e.stream}: {e.message}"] for e in mine]
            self._take(("samples", self._events_id, stamps, texts))

    def _write(self) -> None:
        """Encode the queued samples and write them, or stop cleanly if the disk is full."""
        for track in self._tracks.values():
            if not track.stamps:
                continue
            stamps = np.concatenate(track.stamps)
            if track.channel_format == "string":
                values = [row for part in track.values for row in part]
            else:
                values = np.concatenate(track.values)
            self._writer.samples(track.stream_id, track.channel_format, stamps, values)
            track.first = float(stamps[0]) if track.first is None else track.first
            track.last = float(stamps[-1])
            track.count += stamps.size
            track.stamps.clear()
            track.values.clear()
        size = self._writer.bytes_written + self._writer.pending
        if self.max_bytes is not None and size > self.max_bytes:
            self._fail(f"size limit of {self.max_bytes} bytes reached")
            return
        try:
            self._writer.flush()
        except OSError as error:
            full = error.errno in (errno.ENOSPC, errno.EDQUOT)
            self._fail(f"disk full ({error})" if full else f"write failed ({error})")

    def _fail(self, reason: str) -> None:
        """Stop recording early, keeping the file as it was after the last complete write."""
        self.stop_reason = reason
        for inlet in self.inlets:
            inlet.remove_sink(self)
        self._writer.discard_pending()
        # Nothing more can be done on a failing disk; readers skip a partial last chunk.
        with contextlib.suppress(OSError):
            self._file.truncate(self._writer.bytes_written)
        self.events.add(
            str(self.path),
            EventKind.ERROR,
            f"recording stopped: {reason}; the {self._writer.bytes_written} bytes written "
            "before are kept",
        )

    def _write_footers(self) -> None:
        for track in self._tracks.values():
            if track.count:
                self._writer.stream_footer(
                    track.stream_id,
                    first=track.first,
                    last=track.last,
                    count=track.count,
                    offsets=track.offsets,
                )
        self._write()

    def _close(self) -> None:
        try:
            self._file.close()
        except OSError as error:
            self.events.add(str(self.path), EventKind.ERROR, f"closing failed: {error}")

    def _export(
        self, label: str, export: Callable[..., list[Path]], **kwargs: object
    ) -> list[Path]:
        try:
            paths = export(self.path, **kwargs)
        except Exception as error:  # the XDF file stays the record; say what went wrong
            self.events.add(str(self.path), EventKind.ERROR, f"{label} export failed: {error!r}")
            return []
        self.events.add(
            str(self.path), EventKind.RECORDING, f"saved {', '.join(p.name for p in paths)}"
        )
        return paths
