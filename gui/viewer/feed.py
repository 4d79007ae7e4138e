"""The display feed: a worker thread that turns a live stream into frames ready to draw.

The thread follows the stream's ring buffer with its own cursor, runs the display filters
(band-pass, notch, common average: a copy for the eyes only, never what is recorded or
decoded) into a display ring, and every frame period cuts the visible window of the shown
channels into min/max pairs per screen column. The GUI thread only takes the newest
:class:`Frame` from a timer and draws it: drawing never waits for data, and data never
waits for drawing, so the view cannot fall behind the stream.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from acquisition.cursor import SampleCursor
from acquisition.preprocessing.pipeline import Pipeline

if TYPE_CHECKING:
    from acquisition.ringbuffer import RingBuffer

MAX_WINDOW_S = 30.0
_SPECTRUM_S = 4.0
_SPECTRUM_PERIOD = 0.5
_OVERVIEW_BINS = 300
_OVERVIEW_PERIOD = 0.2


@dataclass(frozen=True)
class DisplaySettings:
    """What the viewer shows.

    Parameters
    ----------
    window_s : float
        Seconds of signal across the plot.
    bandpass : tuple of float, optional
        Display band-pass edges in Hz (either may be None for a high- or low-pass).
    notch : float, optional
        Display notch frequency in Hz.
    reference : str
        ``none`` or ``car`` (common average of the EEG/sEEG/ECoG/DBS channels).
    channels : tuple of int
        Indices of the channels drawn as traces (a page of the selected channels).
    points : int
        Points per trace: a minimum and a maximum per column of ``window_s / (points / 2)``
        seconds (the viewer asks for one point per pixel: a pair per 2-pixel column).
    spectrum : bool
        Also compute the spectra of the drawn channels.
    overview : bool
        Also compute the RMS of every channel per column (the overview image).
    """

    window_s: float = 10.0
    bandpass: tuple[float | None, float | None] | None = None
    notch: float | None = None
    reference: str = "none"
    channels: tuple[int, ...] = ()
    points: int = 1600
    spectrum: bool = False
    overview: bool = False

    def filter_spec(self) -> list[dict[str, Any]]:
        """Return the display pipeline spec (empty when no filter is on)."""
        spec: list[dict[str, Any]] = []
        if self.notch:
            spec.append({"step": "notch", "freqs": [self.notch]})
        if self.bandpass is not None and any(edge for edge in self.bandpass):
            low, high = self.bandpass
            spec.append({"step": "bandpass", "l_freq": low or None, "h_freq": high or None})
        if self.reference == "car":
            spec.append({"step": "car"})
        return spec


@dataclass(frozen=True)
class Frame:
    """One picture of the stream, ready to draw.

    Parameters
    ----------
    seq : int
        Frame number (increasing).
    times : ndarray, shape (n_points,)
        Time of each point in seconds relative to the newest sample drawn (<= 0).
    traces : ndarray, shape (n_drawn, n_points)
        Display-filtered values (SI units) of the drawn channels, each centred on its median.
    channels : tuple of int
        Stream index of each drawn channel.
    drawn : int
        Index (in the stream) after the newest sample in the frame.
    received : int
        Samples received from the stream when the frame was cut.
    newest_time : float
        LSL time of the newest sample drawn.
    gaps : list of tuple
        ``(time relative to the newest, missing seconds, reason)`` of each gap in view.
    spectrum : tuple of ndarray, optional
        Frequencies (Hz) and power spectral densities ``(n_drawn, n_freqs)``.
    overview : ndarray, optional
        RMS ``(n_channels, n_bins)`` of every channel over the window.
    problem : str, optional
        Why the display filters are off (for example a common average on too few channels).
    """

    seq: int
    times: np.ndarray
    traces: np.ndarray
    channels: tuple[int, ...]
    drawn: int
    received: int
    newest_time: float
    gaps: list[tuple[float, float, str]] = field(default_factory=list)
    spectrum: tuple[np.ndarray, np.ndarray] | None = None
    overview: np.ndarray | None = None
    problem: str | None = None


class DisplayFeed:
    """Frames of one stream, made in a background thread at ``fps`` frames per second.

    Parameters
    ----------
    buffer : RingBuffer
        The stream's ring buffer (raw samples; never modified).
    settings : DisplaySettings
        Initial display settings (change them with :meth:`configure`).
    fps : float
        Frames made per second.
    """

    def __init__(self, buffer: RingBuffer, settings: DisplaySettings, *, fps: float = 40.0):
        self.buffer = buffer
        self.sfreq = buffer.sfreq
        self.fps = fps
        self.latest: Frame | None = None
        self._settings = settings
        self._changed = True
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._seq = 0
        self._capacity = max(2, round(min(MAX_WINDOW_S, buffer.seconds) * self.sfreq))
        self._data = np.zeros((buffer.n_channels, self._capacity), dtype=np.float32)
        self._stamps = np.zeros(self._capacity)
        self._written = 0  # display-ring samples written (== stream index of the next one)
        self._start = 0  # stream index of display-ring sample 0 of this run
        self._cursor: SampleCursor | None = None
        self._pipeline: Pipeline | None = None
        self._problem: str | None = None
        self._last_spectrum = 0.0
        self._spectrum: tuple[np.ndarray, np.ndarray] | None = None
        self._last_overview = 0.0
        self._overview: np.ndarray | None = None
        self._thread = threading.Thread(target=self._run, name="display-feed", daemon=True)

    @property
    def settings(self) -> DisplaySettings:
        """Return the current display settings."""
        with self._lock:
            return self._settings

    def configure(self, **changes: Any) -> DisplaySettings:
        """Change display settings (any field of :class:`DisplaySettings`); return the new."""
        with self._lock:
            self._settings = replace(self._settings, **changes)
            self._changed = True
            return self._settings

    def start(self) -> DisplayFeed:
        """Start the thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._thread.join(2.0)

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        period = 1.0 / self.fps
        next_frame = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                settings, changed, self._changed = self._settings, self._changed, False
            try:
                if changed:
                    self._restart(settings)
                self._ingest()
                now = time.monotonic()
                if now >= next_frame:
                    self.latest = self._frame(settings, now)
                    next_frame = max(next_frame + period, now)
            except Exception as error:  # the view must survive anything; say why it stopped
                self._problem = f"display error: {error!r}"
                self._stop.wait(0.2)
                with self._lock:
                    self._changed = True
                continue
            wait = max(0.0, next_frame - time.monotonic())
            if wait > 0:
                self._stop.wait(wait)

    def _restart(self, settings: DisplaySettings) -> None:
        """Rebuild the display filters and refill the ring from the stream's recent past."""
        spec = settings.filter_spec()
        self._problem = None
        self._pipeline = None
        if spec:
            try:
                self._pipeline = Pipeline(
                    spec, self.buffer.ch_names, self.buffer.ch_types, self.sfreq
                )
            except ValueError as error:
                self._problem = f"display filters off: {error}"
        held = min(self._capacity, round(settings.window_s * self.sfreq))
        total = self.buffer.total
        self._cursor = SampleCursor(self.buffer)
        self._cursor.position = max(self.buffer.oldest, total - held)
        self._start = self._cursor.position
        self._written = self._start
        self._spectrum = None
        self._overview = None

    def _ingest(self) -> None:
        """Move the new samples through the display filters into the display ring."""
        chunk = self._cursor.read()
        if chunk.n_times == 0:
            return
        if chunk.start != self._written:  # fell behind the raw ring: restart the filters there
            if self._pipeline is not None:
                self._pipeline.reset()
            self._written = chunk.start
        data = chunk.data
        if self._pipeline is not None:
            data = self._pipeline.process(data)
        self._put(np.asarray(data, dtype=np.float32), chunk.timestamps)

    def _put(self, data: np.ndarray, stamps: np.ndarray) -> None:
        n = data.shape[1]
        if n > self._capacity:
            data, stamps = data[:, -self._capacity :], stamps[-self._capacity :]
            self._written += n - self._capacity
            n = self._capacity
        start = self._written % self._capacity
        first = min(n, self._capacity - start)
        self._data[:, start : start + first] = data[:, :first]
        self._stamps[start : start + first] = stamps[:first]
        if first < n:
            self._data[:, : n - first] = data[:, first:]
            self._stamps[: n - first] = stamps[first:]
        self._written += n

    def _take(self, rows: np.ndarray | slice, start: int, stop: int) -> np.ndarray:
        """Return display-ring samples ``start:stop`` (stream indices) of ``rows``."""
        columns = np.arange(start, stop) % self._capacity
        if isinstance(rows, slice):
            return self._data[rows][:, columns]
        return self._data[np.ix_(rows, columns)]

    def _frame(self, settings: DisplaySettings, now: float) -> Frame:
        received = self.buffer.total
        drawn = self._written
        window = min(self._capacity, max(2, round(settings.window_s * self.sfreq)))
        oldest = max(self._start, drawn - self._capacity + 1)
        n_bins = max(1, settings.points // 2)
        width = max(1, math.ceil(window / n_bins))
        # Columns aligned on absolute sample numbers, so the picture scrolls without shimmer;
        # the newest, incomplete column is drawn too (no wait for a column to fill).
        newest_column = (drawn - 1) // width * width
        first = max(oldest, newest_column - (n_bins - 1) * width)
        rows = np.asarray(settings.channels, dtype=int)
        self._seq += 1
        newest_time = (
            float(self._stamps[(drawn - 1) % self._capacity]) if drawn > self._start else 0.0
        )
        if drawn - first < 1 or rows.size == 0:
            empty = np.zeros((rows.size, 0), dtype=np.float32)
            return Frame(
                self._seq,
                np.zeros(0),
                empty,
                tuple(rows),
                drawn,
                received,
                newest_time,
                problem=self._problem,
            )
        segment = self._take(rows, first, drawn)
        times, traces = _min_max(segment, first, drawn, width, self.sfreq)
        if traces.size:
            traces -= np.median(traces, axis=1, keepdims=True)
        spectrum = self._spectrum
        if settings.spectrum and now - self._last_spectrum >= _SPECTRUM_PERIOD:
            self._last_spectrum = now
            spectrum = self._spectrum = self._spectra(rows, drawn, first=oldest)
        overview = self._overview
        if settings.overview and now - self._last_overview >= _OVERVIEW_PERIOD:
            self._last_overview = now
            overview = self._overview = self._rms(max(oldest, drawn - window), drawn)
        return Frame(
            self._seq,
            times,
            traces,
            tuple(int(r) for r in rows),
            drawn,
            received,
            newest_time,
            self._gaps(first, drawn),
            spectrum if settings.spectrum else None,
            overview if settings.overview else None,
            self._problem,
        )

    def _gaps(self, first: int, drawn: int) -> list[tuple[float, float, str]]:
        return [
            ((gap.index - drawn) / self.sfreq, gap.duration, gap.reason)
            for gap in self.buffer.gaps(first)
            if gap.index <= drawn
        ]

    def _spectra(
        self, rows: np.ndarray, drawn: int, *, first: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        from scipy.signal import welch

        start = max(first, drawn - round(_SPECTRUM_S * self.sfreq))
        if drawn - start < 16 or rows.size == 0:
            return None
        data = self._take(rows, start, drawn)
        per_segment = min(data.shape[1], max(16, round(self.sfreq)))
        freqs, psd = welch(data, fs=self.sfreq, nperseg=per_segment, axis=-1)
        return freqs, psd.astype(np.float32)

    def _rms(self, start: int, drawn: int) -> np.ndarray | None:
        n = drawn - start
        if n < 2:
            return None
        width = max(1, n // _OVERVIEW_BINS)
        n_bins = n // width
        start = drawn - n_bins * width
        data = self._take(slice(None), start, drawn).reshape(self._data.shape[0], n_bins, width)
        centred = data - np.median(data[:, :, 0], axis=1)[:, None, None]
        return np.sqrt(np.mean(centred * centred, axis=2, dtype=np.float32))


def _min_max(
    segment: np.ndarray, first: int, drawn: int, width: int, sfreq: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return column times and the (min, max) pair of each column, interleaved."""
    n = segment.shape[1]
    n_full = n // width
    parts_low, parts_high, starts = [], [], []
    if n_full:
        blocks = segment[:, : n_full * width].reshape(segment.shape[0], n_full, width)
        parts_low.append(blocks.min(axis=2))
        parts_high.append(blocks.max(axis=2))
        starts.append(first + np.arange(n_full) * width + (width - 1) / 2)
    if n_full * width < n:
        tail = segment[:, n_full * width :]
        parts_low.append(tail.min(axis=1, keepdims=True))
        parts_high.append(tail.max(axis=1, keepdims=True))
        starts.append(np.array([first + n_full * width + (tail.shape[1] - 1) / 2]))
    low, high = np.concatenate(parts_low, axis=1), np.concatenate(parts_high, axis=1)
    centres = np.concatenate(starts)
    traces = np.empty((segment.shape[0], 2 * low.shape[1]), dtype=np.float32)
    traces[:, 0::2], traces[:, 1::2] = low, high
    times = np.repeat((centres - (drawn - 1)) / sfreq, 2)
    return times, traces
