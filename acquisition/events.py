"""Stream status and the log of acquisition events (losses, reconnections, warnings)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from enum import Enum

logger = logging.getLogger("acquisition")


class StreamStatus(Enum):
    """Where an inlet stands."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    STALLED = "stalled"  # connected but no data for longer than the stall timeout
    LOST = "lost"  # the outlet is gone; reconnecting
    INCOMPATIBLE = "incompatible"  # the source came back with another rate/channel count
    STOPPED = "stopped"


class EventKind(Enum):
    """What an acquisition event reports."""

    CONNECTED = "connected"
    LOST = "lost"
    STALLED = "stalled"
    RESUMED = "resumed"
    WARNING = "warning"
    ERROR = "error"
    RECORDING = "recording"


@dataclass(frozen=True)
class StreamEvent:
    """One event of the acquisition, in the order they happened.

    Parameters
    ----------
    seq : int
        Position in the log (increasing from 0).
    time : float
        LSL local clock time of the event.
    stream : str
        Label of the stream (or recording) concerned.
    kind : EventKind
        What happened.
    message : str
        A sentence for the user.
    gap : tuple of float, optional
        For ``RESUMED``: the LSL times of the last sample before and the first after the gap.
    """

    seq: int
    time: float
    stream: str
    kind: EventKind
    message: str
    gap: tuple[float, float] | None = None


class EventLog:
    """A thread-safe, bounded log of acquisition events that several readers can follow.

    Each reader keeps its own position: ``since(seq)`` returns the events from ``seq`` on, so
    the GUI, a recorder and the CLI read the same log without taking events from each other.

    Parameters
    ----------
    capacity : int
        Number of most recent events kept.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._events: deque[StreamEvent] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._next = 0

    def add(
        self,
        stream: str,
        kind: EventKind,
        message: str,
        *,
        gap: tuple[float, float] | None = None,
        time: float | None = None,
    ) -> StreamEvent:
        """Append an event (and log it) and return it."""
        if time is None:
            import pylsl

            time = pylsl.local_clock()
        with self._lock:
            event = StreamEvent(self._next, time, stream, kind, message, gap)
            self._next += 1
            self._events.append(event)
        level = logging.WARNING if kind in (EventKind.WARNING, EventKind.LOST) else logging.INFO
        if kind is EventKind.ERROR:
            level = logging.ERROR
        logger.log(level, "%s: %s", stream, message)
        return event

    def since(self, seq: int = 0) -> list[StreamEvent]:
        """Return the events numbered ``seq`` and later still in the log."""
        with self._lock:
            return [event for event in self._events if event.seq >= seq]

    @property
    def next_seq(self) -> int:
        """Return the number the next event will get (pass it to ``since`` later)."""
        with self._lock:
            return self._next
