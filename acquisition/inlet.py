"""LSL inlets: one background thread per stream, loss detection and reconnection by source id.

An :class:`Inlet` pulls its stream without blocking anyone: the thread waits inside liblsl for
the first new sample (``min_samples=1``, so no polling delay and no 100 % core), takes what
else is queued, and hands it on. When the outlet disappears the inlet says so at once
(liblsl's lost error) or after ``stall_timeout`` without data, then keeps resolving the same
source id and resumes when the source returns, marking the gap. Nothing the thread meets
stops it: errors become events in the :class:`~acquisition.events.EventLog`.
"""

from __future__ import annotations

import socket
import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .clock import ClockOffset, Dejitter
from .events import EventKind, EventLog, StreamStatus
from .markers import MarkerBuffer
from .quality import QualityReport, QualitySettings, QualityTracker
from .quality_summary import artifact_text
from .ringbuffer import RingBuffer
from .streaminfo import StreamDescription, describe

if TYPE_CHECKING:
    import pylsl

_PULL_TIMEOUT = 0.1  # seconds the thread waits inside liblsl before checking stop/stall
_RESOLVE_TIMEOUT = 1.0  # resolve returns at the first answer; answers can take 0.5 s
_RETRY_PAUSE = 0.2
_OFFSET_INTERVAL = 1.0
_WARNING_INTERVAL = 5.0  # seconds between two warnings of the same kind for one stream


class InletSink(Protocol):
    """Receives everything an inlet pulls, exactly as it arrived (a recorder is one).

    Methods are called from the inlet's thread and must return quickly.
    """

    def samples(self, inlet: Inlet, values: np.ndarray | list, timestamps: np.ndarray) -> None:
        """Take samples ``(n_times, n_channels)`` in the stream's format with sender times."""

    def clock_offset(self, inlet: Inlet, time: float, offset: float) -> None:
        """Take one clock-offset reading (local time of the reading, offset to add)."""


class Inlet(ABC):
    """A stream followed in a background thread, surviving losses of its source.

    Parameters
    ----------
    stream : StreamDescription
        The stream to open (from :func:`~acquisition.discovery.find_streams`).
    events : EventLog, optional
        Where losses, reconnections and warnings go (a new log by default).
    stall_timeout : float
        Seconds without samples after which a regular stream is reported stalled.
    max_buflen : float
        Seconds liblsl may queue for this inlet while the thread is busy.

    Attributes
    ----------
    reference : StreamDescription
        The stream as first opened; a returning source must match its rate, channel count
        and format.
    description : StreamDescription
        The stream as currently connected (a returning source has a new ``uid``).
    status : StreamStatus
        Where the inlet stands (read it from any thread).
    samples_received : int
        Samples pulled since the start.
    """

    def __init__(
        self,
        stream: StreamDescription,
        *,
        events: EventLog | None = None,
        stall_timeout: float = 0.5,
        max_buflen: float = 30.0,
    ) -> None:
        self.reference = stream
        self.description = stream
        self.events = events if events is not None else EventLog()
        self.status = StreamStatus.CONNECTING
        self.clock = ClockOffset()
        self.stall_timeout = stall_timeout
        self.samples_received = 0
        self._max_buflen = max_buflen
        self._sinks: list[InletSink] = []
        self._sinks_lock = threading.Lock()
        self._lsl: pylsl.StreamInlet | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_activity = 0.0
        self._last_offset_check = 0.0
        self._last_stamp: float | None = None  # last clock-corrected sample time
        self._gap_reason: str | None = None  # set while the stream is lost or stalled
        self._handle = stream.info  # the resolved handle, used for the first connection
        self._ever_connected = False
        self._remote = False  # the source runs on another machine (its clock offset applies)
        self._reported: dict[str, float] = {}
        self._refused_uids: set[str] = set()

    @property
    def name(self) -> str:
        """Return the stream name."""
        return self.reference.name

    def start(self) -> Inlet:
        """Start the acquisition thread and return the inlet."""
        if self._thread is not None:
            raise RuntimeError(f"inlet of {self.reference.label} already started")
        self._thread = threading.Thread(
            target=self._run, name=f"inlet-{self.reference.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread; it closes its connection as it ends.

        Only the inlet's thread touches its LSL connection, so a stop that comes while the
        thread is inside a pull or a connection attempt never closes the stream under it.
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._report(
                    EventKind.WARNING,
                    f"inlet thread still busy {timeout:g} s after stop; it closes its "
                    "connection when it ends",
                )
        self.status = StreamStatus.STOPPED

    def __enter__(self) -> Inlet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_sink(self, sink: InletSink) -> None:
        """Send every future chunk and clock-offset reading to ``sink`` too."""
        with self._sinks_lock:
            self._sinks.append(sink)

    def remove_sink(self, sink: InletSink) -> None:
        """Stop sending to ``sink``."""
        with self._sinks_lock:
            if sink in self._sinks:
                self._sinks.remove(sink)

    # -- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        import pylsl

        while not self._stop.is_set():
            try:
                if self._lsl is None:
                    self._connect()
                else:
                    self._pull()
                    self._housekeeping(pylsl.local_clock())
            except pylsl.util.LostError:
                self._on_lost("the outlet is gone")
            except Exception as error:  # the thread must survive anything
                self._report(EventKind.ERROR, f"acquisition error, reconnecting: {error!r}")
                self._drop_connection()
                self.status = StreamStatus.LOST
                self._stop.wait(_RETRY_PAUSE)
        self._drop_connection()
        self.status = StreamStatus.STOPPED

    def _connect(self) -> None:
        import pylsl

        info = self._find_source()
        if info is None:
            return
        candidate = pylsl.StreamInlet(info, max_buflen=round(self._max_buflen), recover=False)
        try:
            full = describe(candidate.info(timeout=1.0))
            problem = self.reference.compatible_with(full)
            if problem is not None:
                if full.uid not in self._refused_uids:
                    self._refused_uids.add(full.uid)
                    self._report(
                        EventKind.ERROR,
                        f"source came back changed ({problem}); not resumed, still waiting "
                        "for a compatible source",
                    )
                self.status = StreamStatus.INCOMPATIBLE
                self._stop.wait(0.5)
                return
            candidate.open_stream(timeout=1.0)
            self._remote = not _same_host(full.hostname)
            if self._remote and not self.clock.known:
                self.clock.add(candidate.time_correction(timeout=2.0))
        except (pylsl.util.TimeoutError, pylsl.util.LostError):
            return
        self._lsl = candidate
        self.description = full
        self._last_activity = pylsl.local_clock()
        self._last_offset_check = 0.0
        self._on_connected(full)
        self.status = StreamStatus.CONNECTED
        if self._ever_connected:
            self._report(EventKind.CONNECTED, "source is back; reconnected")
        else:
            self._report(EventKind.CONNECTED, f"connected ({_summary(full)})")
        self._ever_connected = True

    def _find_source(self) -> pylsl.StreamInfo | None:
        import pylsl

        if self._handle is not None:
            handle, self._handle = self._handle, None
            return handle
        ref = self.reference
        if ref.source_id:
            found = pylsl.resolve_byprop("source_id", ref.source_id, 1, _RESOLVE_TIMEOUT)
        else:
            predicate = f"name='{ref.name}' and type='{ref.stype}' and hostname='{ref.hostname}'"
            found = pylsl.resolve_bypred(predicate, 1, _RESOLVE_TIMEOUT)
        fresh = [info for info in found if info.uid() not in self._refused_uids]
        if not fresh and found:
            self._stop.wait(_RETRY_PAUSE)
        return fresh[0] if fresh else None

    def _pull(self) -> None:
        import pylsl

        string = self.description.channel_format == "string"
        values, stamps = self._lsl.pull_chunk(
            timeout=_PULL_TIMEOUT,
            max_samples=self._max_pull(),
            min_samples=1,
            as_numpy=not string,
        )
        if len(stamps) == 0:
            return
        arrival = pylsl.local_clock()
        stamps = np.asarray(stamps, dtype=float)
        self._last_activity = arrival
        if self._gap_reason is not None:
            self._resume(stamps)
        self.samples_received += stamps.size
        with self._sinks_lock:
            sinks = list(self._sinks)
        for sink in sinks:
            try:
                sink.samples(self, values, stamps)
            except Exception as error:
                self._report(EventKind.ERROR, f"a consumer of this stream failed: {error!r}")
        # Last, so that the readers woken up find the thread back waiting in liblsl (which
        # releases the GIL) instead of competing with it.
        self._deliver(values, stamps, arrival)

    def _housekeeping(self, now: float) -> None:
        import pylsl

        if now - self._last_offset_check >= _OFFSET_INTERVAL:
            self._last_offset_check = now
            try:
                offset = self._lsl.time_correction(timeout=0.0)
            except pylsl.util.TimeoutError:
                offset = None  # the first estimate is still being measured
            if offset is not None:
                # One machine has one LSL clock: a local reading is round-trip noise (tens of
                # µs), recorded for the file but not applied to the buffered times.
                if self._remote:
                    self.clock.add(offset)
                with self._sinks_lock:
                    sinks = list(self._sinks)
                for sink in sinks:
                    try:
                        sink.clock_offset(self, now, offset)
                    except Exception as error:
                        self._report(
                            EventKind.ERROR, f"a consumer of this stream failed: {error!r}"
                        )
        stalled = now - self._last_activity > self.stall_timeout
        if self.reference.regular and stalled and self.status is StreamStatus.CONNECTED:
            self.status = StreamStatus.STALLED
            self._gap_reason = "stream stalled"
            self._report(
                EventKind.STALLED, f"no data for {self.stall_timeout:g} s (stream stalled)"
            )
        self._periodic(now)

    def _on_lost(self, why: str) -> None:
        self._drop_connection()
        if self.status is not StreamStatus.LOST:
            self._gap_reason = "stream lost"
            self.status = StreamStatus.LOST
            self._report(EventKind.LOST, f"stream lost ({why}); reconnecting")

    def _resume(self, stamps: np.ndarray) -> None:
        """First samples after a loss or a stall: mark and report the gap, if any."""
        reason, self._gap_reason = self._gap_reason, None
        self.status = StreamStatus.CONNECTED
        first = float(stamps[0]) + self.clock.value
        before = self._last_stamp
        period = 1.0 / self.reference.sfreq if self.reference.regular else 0.0
        if before is None or first - before <= 1.5 * period:
            self._report(EventKind.RESUMED, "data flowing again, nothing missing")
            return
        self._on_gap(before, first, reason or "stream lost")
        self._report(
            EventKind.RESUMED,
            f"data flowing again after a gap of {first - before:.3f} s ({reason})",
            gap=(before, first),
        )

    def _drop_connection(self) -> None:
        lsl, self._lsl = self._lsl, None
        if lsl is not None:
            try:
                lsl.close_stream()
            except Exception as error:  # closing a broken connection may fail; it is gone anyway
                self.events.add(self.name, EventKind.WARNING, f"closing failed: {error!r}")

    def _report(self, kind: EventKind, message: str, **details: object) -> None:
        self.events.add(self.name, kind, message, **details)

    def _warn_limited(self, key: str, message: str) -> None:
        """Report a warning at most once per few seconds per kind, so floods stay readable."""
        import pylsl

        now = pylsl.local_clock()
        if now - self._reported.get(key, -np.inf) >= _WARNING_INTERVAL:
            self._reported[key] = now
            self._report(EventKind.WARNING, message)

    # -- what the kinds of stream do ----------------------------------------------------------

    def _max_pull(self) -> int:
        return 256

    @abstractmethod
    def _on_connected(self, description: StreamDescription) -> None:
        """Prepare for the samples of a (new) connection."""

    @abstractmethod
    def _deliver(self, values: np.ndarray | list, stamps: np.ndarray, arrival: float) -> None:
        """Take pulled samples (stream's format, sender's clock)."""

    @abstractmethod
    def _on_gap(self, before: float, after: float, reason: str) -> None:
        """Note missing data between two sample times."""

    @abstractmethod
    def _periodic(self, now: float) -> None:
        """Do the work due every turn of the loop (quality)."""


class SignalInlet(Inlet):
    """An inlet of a regular stream (EEG, MEG, sEEG...) feeding a :class:`RingBuffer`.

    Values are scaled to SI units from the channel units of the stream header, timestamps
    are clock-corrected (for a source on another machine; one machine has one LSL clock)
    and dejittered, gaps are marked in the buffer, and per-channel quality is updated with
    every chunk (a new :attr:`quality` report every ``quality.window`` seconds).

    Parameters
    ----------
    stream : StreamDescription
        A regular stream.
    seconds : float
        Length of the ring buffer.
    dejitter : bool
        Replace arriving timestamps by a fitted regular clock (see :class:`Dejitter`).
    quality : QualitySettings, optional
        Thresholds of the quality flags (defaults when None).
    **kwargs
        Passed to :class:`Inlet`.
    """

    def __init__(
        self,
        stream: StreamDescription,
        *,
        seconds: float = 30.0,
        dejitter: bool = True,
        quality: QualitySettings | None = None,
        **kwargs: object,
    ) -> None:
        if not stream.regular:
            raise ValueError(f"{stream.label} is irregular (markers): open it as a MarkerInlet")
        if stream.channel_format == "string":
            raise ValueError(f"{stream.label} is a regular stream of text: not a signal")
        super().__init__(stream, **kwargs)
        self.buffer = RingBuffer(stream.ch_names, stream.ch_types, stream.sfreq, seconds)
        self._quality = QualityTracker(stream.ch_names, stream.ch_types, stream.sfreq, quality)
        self._scales = np.array(
            [c.scale if c.unit_known else 1.0 for c in stream.channels], dtype=np.float32
        )[:, None]
        self._dejitter = Dejitter(stream.sfreq) if dejitter else None
        self._last_raw: float | None = None
        unknown = [f"{c.name} ({c.unit})" for c in stream.channels if not c.unit_known]
        if unknown:
            self._report(
                EventKind.WARNING,
                f"units of {len(unknown)} channels cannot be mapped to SI "
                f"({', '.join(unknown[:5])}); their values are kept as they arrive",
            )

    def _max_pull(self) -> int:
        # About 50 ms of samples: a small pull buffer is allocated fresh by pylsl each time
        # (a large one costs an mmap and page faults per pull); a backlog takes a few turns.
        return max(32, round(0.05 * self.reference.sfreq))

    def _on_connected(self, description: StreamDescription) -> None:
        self._last_raw = None
        if self._dejitter is not None:
            self._dejitter.reset()

    def _deliver(self, values: np.ndarray, stamps: np.ndarray, arrival: float) -> None:
        self._check_stamps(stamps)
        if self._dejitter is not None:
            # A jump inside the chunk: each side is dejittered (and the gap marked) on its own.
            off_beat = np.abs(np.diff(stamps) - 1.0 / self.buffer.sfreq)
            cuts = np.flatnonzero(off_beat > self._dejitter.break_threshold) + 1
            for piece_values, piece_stamps in zip(
                np.split(values, cuts), np.split(stamps, cuts), strict=True
            ):
                self._store(piece_values, piece_stamps, arrival)
        else:
            self._store(values, stamps, arrival)

    def _store(self, values: np.ndarray, stamps: np.ndarray, arrival: float) -> None:
        data = values.T.astype(np.float32) * self._scales
        if not np.isfinite(data).all():
            bad = np.flatnonzero(~np.isfinite(data).all(axis=1))
            names = ", ".join(self.buffer.ch_names[i] for i in bad[:5])
            self._warn_limited("nan", f"NaN or Inf samples on {bad.size} channels ({names})")
        corrected = stamps + self.clock.value
        if self._dejitter is not None:
            corrected, jump = self._dejitter.update(corrected)
            if jump and self._last_stamp is not None:
                self._timestamp_jump(self._last_stamp, float(corrected[0]), jump)
        report = self._quality.update(data, arrival)
        if report is not None and (artifacts := artifact_text(report)) is not None:
            self._warn_limited("artefacts", f"artefacts {artifacts}")
        self._last_stamp = float(corrected[-1])
        self.buffer.write(data, corrected, arrival)  # wakes the readers: the last step

    @property
    def quality(self) -> QualityReport | None:
        """Return the latest per-channel quality report (None before the first block)."""
        return self._quality.report

    def _check_stamps(self, stamps: np.ndarray) -> None:
        if not np.isfinite(stamps).all():
            self._warn_limited("stamp-nan", "NaN or Inf timestamps received")
            return
        previous = self._last_raw if self._last_raw is not None else stamps[0]
        steps = np.diff(stamps, prepend=previous)
        if (steps < 0).any():
            self._warn_limited(
                "backward",
                f"timestamps went backward by up to {-steps.min() * 1e3:.1f} ms "
                "(irregular sender clock); dejittered",
            )
        self._last_raw = float(stamps[-1])

    def _timestamp_jump(self, before: float, after: float, jump: float) -> None:
        if jump > 0:
            self._on_gap(before, after, "timestamp jump")
            self._warn_limited(
                "jump", f"timestamps jumped forward by {after - before:.3f} s: gap marked"
            )
        else:
            self._warn_limited(
                "jump-back",
                f"timestamps jumped back by {-jump:.3f} s (sender clock reset?); "
                "buffered times continue from before",
            )

    def _on_gap(self, before: float, after: float, reason: str) -> None:
        self.buffer.mark_gap(before, after, reason)
        if self._dejitter is not None and reason != "timestamp jump":
            self._dejitter.reset()

    def _periodic(self, now: float) -> None:
        """Signals need no periodic work (quality is updated with each chunk)."""


class MarkerInlet(Inlet):
    """An inlet of an irregular stream (events) feeding a :class:`MarkerBuffer`.

    Marker times are clock-corrected. Numeric markers are turned into text (with a warning,
    once), multi-channel markers are joined with ``|``.
    """

    def __init__(self, stream: StreamDescription, **kwargs: object) -> None:
        if stream.regular:
            raise ValueError(f"{stream.label} is regular ({stream.sfreq:g} Hz): not markers")
        super().__init__(stream, **kwargs)
        self.markers = MarkerBuffer(stream.name)

    def _on_connected(self, description: StreamDescription) -> None:
        if description.channel_format != "string":
            self._warn_limited(
                "numeric",
                f"markers are {description.channel_format} numbers, not text; "
                "they are turned into text",
            )

    def _deliver(self, values: np.ndarray | list, stamps: np.ndarray, arrival: float) -> None:
        if isinstance(values, np.ndarray):
            texts = ["|".join(_number_text(v) for v in row) for row in values]
        else:
            texts = ["|".join(row) for row in values]
        corrected = stamps + self.clock.value
        self.markers.add(list(corrected), texts, arrival)
        self._last_stamp = float(corrected[-1])

    def _on_gap(self, before: float, after: float, reason: str) -> None:
        """Markers sent during a loss are unknowable; the RESUMED event says when it was."""

    def _periodic(self, now: float) -> None:
        """Markers need no periodic work."""


def open_inlet(stream: StreamDescription, **kwargs: object) -> Inlet:
    """Return a started :class:`SignalInlet` or :class:`MarkerInlet` for ``stream``.

    Keyword arguments go to the inlet class (``seconds`` only applies to signals).
    """
    if stream.regular:
        return SignalInlet(stream, **kwargs).start()
    kwargs.pop("seconds", None)
    kwargs.pop("dejitter", None)
    return MarkerInlet(stream, **kwargs).start()


def _number_text(value: float) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _summary(stream: StreamDescription) -> str:
    rate = f"{stream.sfreq:g} Hz" if stream.regular else "irregular"
    return f"{stream.n_channels} ch, {rate}, {stream.channel_format}"


def _same_host(hostname: str) -> bool:
    return hostname in ("", socket.gethostname(), "localhost")
