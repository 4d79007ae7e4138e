"""Several streams acquired together, sharing one event log (what the GUI and the CLI hold)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .discovery import find_stream
from .events import EventLog
from .inlet import Inlet, MarkerInlet, SignalInlet, open_inlet
from .streaminfo import StreamDescription

if TYPE_CHECKING:
    from .recorder import Recorder


class AcquisitionSession:
    """The open streams of one session: signals and markers, each in its own thread.

    Parameters
    ----------
    seconds : float
        Ring-buffer length of each signal stream.
    stall_timeout : float
        Seconds without samples after which a regular stream is reported stalled.

    Examples
    --------
    >>> with AcquisitionSession() as session:  # doctest: +SKIP
    ...     eeg = session.open(name="amplifier")
    ...     cues = session.open(stype="Markers")
    ...     data = eeg.buffer.latest(2.0).data
    """

    def __init__(self, *, seconds: float = 30.0, stall_timeout: float = 0.5) -> None:
        self.events = EventLog()
        self.seconds = seconds
        self.stall_timeout = stall_timeout
        self._inlets: dict[str, Inlet] = {}
        self._lock = threading.Lock()

    def open(
        self,
        stream: StreamDescription | None = None,
        *,
        name: str | None = None,
        stype: str | None = None,
        source_id: str | None = None,
        timeout: float = 2.0,
    ) -> Inlet:
        """Open a stream (a description, or the one stream matching the criteria).

        Returns
        -------
        inlet : SignalInlet or MarkerInlet
            Started; keyed in :attr:`inlets` by the stream name.

        Raises
        ------
        LookupError
            When no stream or several streams match, or the name is already open.
        """
        if stream is None:
            stream = find_stream(name=name, stype=stype, source_id=source_id, timeout=timeout)
        with self._lock:
            if stream.name in self._inlets:
                raise LookupError(f"a stream named '{stream.name}' is already open")
            inlet = open_inlet(
                stream, seconds=self.seconds, events=self.events, stall_timeout=self.stall_timeout
            )
            self._inlets[stream.name] = inlet
        return inlet

    def close(self, name: str) -> None:
        """Stop and forget the stream called ``name``."""
        with self._lock:
            inlet = self._inlets.pop(name)
        inlet.stop()

    @property
    def inlets(self) -> dict[str, Inlet]:
        """Return the open inlets by stream name."""
        with self._lock:
            return dict(self._inlets)

    @property
    def signals(self) -> dict[str, SignalInlet]:
        """Return the open signal inlets by stream name."""
        return {k: v for k, v in self.inlets.items() if isinstance(v, SignalInlet)}

    @property
    def markers(self) -> dict[str, MarkerInlet]:
        """Return the open marker inlets by stream name."""
        return {k: v for k, v in self.inlets.items() if isinstance(v, MarkerInlet)}

    def record(self, path: str | Path, **kwargs: object) -> Recorder:
        """Start recording every open stream to ``path`` (see :class:`~acquisition.recorder.Recorder`)."""
        from .recorder import Recorder

        return Recorder(path, list(self.inlets.values()), events=self.events, **kwargs).start()

    def stop(self) -> None:
        """Stop every stream."""
        for name in list(self.inlets):
            self.close(name)

    def __enter__(self) -> AcquisitionSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
