"""Replaying a recording as LSL streams in real time: signal plus events as markers."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from .annotations import annotation_samples
from .streaminfo import build_stream_info, stream_type_for

if TYPE_CHECKING:
    import mne


class Player:
    """Streams an MNE Raw over LSL at its own rate, like an amplifier would.

    The signal stream carries SI values (float32) with each channel's name, type and unit in
    its header; chunks of ``chunk_size`` samples are pushed when their last sample is due,
    stamped with the exact time of that sample on the LSL clock (no jitter, no drift). The
    recording's annotations (or, without annotations, the events of its stim channels) go
    to a second, irregular text stream ``<name>-markers``, each stamped with the time of its
    sample and pushed right after the chunk holding it.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording (data in SI units, as the readers return them).
    name : str
        Name of the signal stream.
    source_id : str, optional
        Source id of the signal stream (default ``bci-app-player:<name>``); a player started
        again with the same source id is the same source to inlets, which then reconnect.
    stype : str, optional
        Stream type (default: from the dominant channel type, e.g. ``EEG``, ``MEG``).
    chunk_size : int, optional
        Samples per push (default: about 10 ms of signal).
    loop : bool
        Start again from the beginning at the end, timestamps continuing.
    markers : bool
        Publish the events as a marker stream.
    source : str
        Text stored in the stream header as the origin of the data (a file name).
    wait_for_consumer : float
        Seconds to wait, once started, for an inlet on each stream before the first push
        (so that a recorder started just after gets the recording from its first sample).
    """

    def __init__(
        self,
        raw: mne.io.BaseRaw,
        *,
        name: str = "bci-app-player",
        source_id: str | None = None,
        stype: str | None = None,
        chunk_size: int | None = None,
        loop: bool = False,
        markers: bool = True,
        source: str = "",
        wait_for_consumer: float = 0.0,
    ) -> None:
        self.sfreq = float(raw.info["sfreq"])
        self.ch_names = list(raw.ch_names)
        self.ch_types = list(raw.get_channel_types())
        data = raw.get_data()
        if not np.isfinite(data).all():
            raise ValueError(f"{source or 'recording'}: NaN or Inf samples cannot be streamed")
        self._samples = np.ascontiguousarray(data.T, dtype=np.float32)  # (n_times, n_channels)
        self.n_times = self._samples.shape[0]
        if self.n_times == 0:
            raise ValueError(f"{source or 'recording'}: no samples to stream")
        self.name = name
        self.source_id = source_id or f"bci-app-player:{name}"
        self.stype = stype or stream_type_for(self.ch_types)
        self.chunk_size = chunk_size or max(1, round(self.sfreq / 100))
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self.loop = loop
        self.events = events_of(raw) if markers else []
        self.marker_name = f"{name}-markers"
        self.source = source
        self.wait_for_consumer = wait_for_consumer
        self.pushed = 0  # samples pushed so far
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def duration(self) -> float:
        """Return the length of one pass in seconds."""
        return self.n_times / self.sfreq

    @property
    def running(self) -> bool:
        """Return True while samples are being pushed."""
        return self._thread is not None and not self._done.is_set()

    def start(self) -> Player:
        """Create the outlets and start streaming in a background thread."""
        import pylsl

        if self._thread is not None:
            raise RuntimeError(f"player '{self.name}' already started")
        extra = {"player": "bci-app", "source": self.source}
        info = build_stream_info(
            self.name,
            self.stype,
            self.ch_names,
            self.ch_types,
            self.sfreq,
            source_id=self.source_id,
            extra=extra,
        )
        self._outlet = pylsl.StreamOutlet(info, chunk_size=self.chunk_size, max_buffered=60)
        self._marker_outlet = None
        if self.events:
            marker_info = pylsl.StreamInfo(
                self.marker_name, "Markers", 1, 0, "string", f"{self.source_id}-markers"
            )
            self._marker_outlet = pylsl.StreamOutlet(marker_info)
        self._thread = threading.Thread(target=self._run, name=f"player-{self.name}", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the end of the recording (never, when looping); return if it ended."""
        finished = self._done.wait(timeout)
        if self._error is not None:
            raise RuntimeError(f"player '{self.name}' failed: {self._error!r}") from self._error
        return finished

    def stop(self) -> None:
        """Stop streaming and close the outlets (inlets then see the source disappear)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        self._outlet = None
        self._marker_outlet = None

    def __enter__(self) -> Player:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        import pylsl

        try:
            self._await_consumers()
            origin = pylsl.local_clock()  # LSL time of sample 0 of the current pass
            position = 0
            next_event = 0
            while not self._stop.is_set():
                stop = min(position + self.chunk_size, self.n_times)
                due = origin + (stop - 1) / self.sfreq
                delay = due - pylsl.local_clock()
                if delay > 0 and self._stop.wait(delay):
                    break
                self._outlet.push_chunk(self._samples[position:stop], timestamp=due)
                self.pushed += stop - position
                while next_event < len(self.events) and self.events[next_event][0] < stop:
                    index, text = self.events[next_event]
                    self._marker_outlet.push_sample([text], origin + index / self.sfreq)
                    next_event += 1
                position = stop
                if position >= self.n_times:
                    if not self.loop:
                        break
                    origin += self.n_times / self.sfreq
                    position = next_event = 0
        except Exception as error:  # reported by wait()
            self._error = error
        finally:
            self._done.set()

    def _await_consumers(self) -> None:
        """Wait up to ``wait_for_consumer`` seconds for an inlet on each outlet (stoppable)."""
        import pylsl

        deadline = pylsl.local_clock() + self.wait_for_consumer
        for outlet in (self._outlet, self._marker_outlet):
            while outlet is not None and not self._stop.is_set():
                if outlet.wait_for_consumers(0.05) or pylsl.local_clock() >= deadline:
                    break


def events_of(raw: mne.io.BaseRaw) -> list[tuple[int, str]]:
    """Return ``(sample index, text)`` of a recording's events, sorted.

    Annotations are used when there are any, else the events found on stim channels.
    """
    import mne

    annotations = raw.annotations
    if len(annotations):
        indices = annotation_samples(raw)
        found = [
            (int(index), str(text))
            for index, text in zip(indices, annotations.description, strict=True)
            if 0 <= index < raw.n_times
        ]
        return sorted(found)
    if "stim" not in raw.get_channel_types():
        return []
    events = mne.find_events(raw, shortest_event=1, initial_event=True, verbose="error")
    return [(int(sample - raw.first_samp), str(int(code))) for sample, _, code in events]
