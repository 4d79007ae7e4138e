"""Markers (events) of an irregular stream, kept in arrival order for any number of readers."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Marker:
    """One event.

    Parameters
    ----------
    seq : int
        Position in its stream's marker buffer (increasing from 0).
    timestamp : float
        LSL time of the event on this machine's clock (clock-corrected).
    value : str
        The marker text (numeric markers are turned into text).
    arrival : float
        LSL local time at which the marker reached this process.
    stream : str
        Name of the marker stream.
    """

    seq: int
    timestamp: float
    value: str
    arrival: float
    stream: str


class MarkerBuffer:
    """The most recent markers of one stream, thread-safe.

    Parameters
    ----------
    stream : str
        Name of the marker stream.
    capacity : int
        Number of most recent markers kept.
    """

    def __init__(self, stream: str, capacity: int = 100_000) -> None:
        self.stream = stream
        self._markers: deque[Marker] = deque(maxlen=capacity)
        self._next = 0
        self._condition = threading.Condition()

    def add(self, timestamps: list[float], values: list[str], arrival: float) -> None:
        """Append markers with their (clock-corrected) timestamps."""
        with self._condition:
            for stamp, value in zip(timestamps, values, strict=True):
                self._markers.append(Marker(self._next, float(stamp), value, arrival, self.stream))
                self._next += 1
            self._condition.notify_all()

    @property
    def next_seq(self) -> int:
        """Return the number the next marker will get."""
        with self._condition:
            return self._next

    def since(self, seq: int = 0) -> list[Marker]:
        """Return the markers numbered ``seq`` and later still held, in arrival order."""
        with self._condition:
            return [marker for marker in self._markers if marker.seq >= seq]

    def between(self, start: float, stop: float) -> list[Marker]:
        """Return the held markers with timestamps in ``[start, stop)``, sorted by time."""
        with self._condition:
            found = [m for m in self._markers if start <= m.timestamp < stop]
        return sorted(found, key=lambda m: m.timestamp)

    def wait(self, seq: int, timeout: float) -> bool:
        """Block until marker ``seq`` exists or ``timeout`` passes; return whether it does."""
        with self._condition:
            return self._condition.wait_for(lambda: self._next > seq, timeout)
