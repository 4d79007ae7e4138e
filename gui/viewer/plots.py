"""The three views of a stream: stacked traces, the all-channel overview, the spectra."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem

from ..theme import Theme
from .feed import Frame
from .stats import FrameStats

# Peak-to-peak per MNE type that fills one row at scale 1 (SI units); others scale to their data.
TYPE_SPAN = {
    "eeg": 100e-6,
    "eog": 400e-6,
    "emg": 1e-3,
    "ecg": 2e-3,
    "seeg": 400e-6,
    "ecog": 400e-6,
    "dbs": 200e-6,
    "mag": 4e-12,
    "grad": 2e-10,
}
_TYPE_COLOURS = ("trace", "trace_alt")


def _recolour_axes(widget: pg.PlotWidget, theme: Theme) -> None:
    widget.setBackground(theme.plot_background)
    for name in ("left", "bottom"):
        axis = widget.getAxis(name)
        axis.setPen(theme.plot_foreground)
        axis.setTextPen(theme.plot_foreground)
        # Axes (with their grid lines and tick labels) change rarely: painting them from a
        # cached pixmap instead of redrawing text and lines halves the time of a frame.
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class TracePlot(pg.PlotWidget):
    """Stacked traces of a page of channels, with markers and gaps, timed frame by frame.

    Parameters
    ----------
    theme : Theme
        Colours.
    received : callable
        Returns the samples received from the shown stream now (for the drawn-vs-received
        lag measured at each paint).
    """

    def __init__(self, theme: Theme, received: Callable[[], int]) -> None:
        super().__init__(background=theme.plot_background)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setMouseEnabled(False, False)
        self.plotItem.showGrid(x=True, y=False, alpha=0.15)
        self.setLabel("bottom", "time (s)")
        self._theme = theme
        self._received = received
        self.curves: dict[str, pg.PlotCurveItem] = {}  # one path per colour
        self.marker_lines: list[pg.InfiniteLine] = []
        self.gap_regions: list[pg.LinearRegionItem] = []
        self.stats = FrameStats()
        self.frame: Frame | None = None
        self.rows = np.zeros((0, 0), dtype=np.float32)  # the rows drawn last (plot units)
        self.sfreq = 1.0
        self._update_ms = 0.0
        self._unpainted = False
        self._ticks: list[tuple[float, str]] = []
        _recolour_axes(self, theme)

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self._theme = theme
        _recolour_axes(self, theme)
        for line in self.marker_lines:
            line.setPen(pg.mkPen(theme.marker, width=1))
            line.label.setColor(theme.marker)

    def show_frame(
        self,
        frame: Frame,
        names: Sequence[str],
        spans: np.ndarray,
        colours: Sequence[str],
        markers: Sequence[tuple[float, str]],
        window_s: float,
    ) -> None:
        """Draw ``frame``: one row per drawn channel, ``spans`` the peak-to-peak of a row.

        The rows of one colour are drawn as one path (each row's points connected, rows
        apart): painting a few long paths is several times faster than one item per row.
        """
        started = time.perf_counter()
        self.frame = frame
        n_rows = len(frame.channels)
        used: set[str] = set()
        if frame.times.size:
            offsets = np.arange(n_rows, dtype=np.float32)[:, None]
            self.rows = frame.traces / spans[:, None].astype(np.float32) - offsets
            n_points = frame.times.size
            for colour in dict.fromkeys(colours):
                picked = [row for row in range(n_rows) if colours[row] == colour]
                connect = np.ones(len(picked) * n_points, dtype=np.int32)
                connect[n_points - 1 :: n_points] = 0
                curve = self._curve(colour)
                curve.setData(
                    np.tile(frame.times, len(picked)),
                    self.rows[picked].ravel(),
                    connect=connect,
                )
                curve.show()
                used.add(colour)
        for colour, curve in self.curves.items():
            if colour not in used:
                curve.hide()
        ticks = [(-float(row), str(name)) for row, name in enumerate(names)]
        if ticks != self._ticks:
            self._ticks = ticks
            self.getAxis("left").setTicks([ticks])
            self.setYRange(-max(n_rows, 1) + 0.4, 0.6, padding=0)
        self.setXRange(-window_s, 0.0, padding=0)
        self._place_markers(markers)
        self._place_gaps(frame.gaps)
        self._update_ms = (time.perf_counter() - started) * 1e3
        self._unpainted = True

    def _curve(self, colour: str) -> pg.PlotCurveItem:
        if colour not in self.curves:
            curve = pg.PlotCurveItem(pen=pg.mkPen(colour, width=1), skipFiniteCheck=True)
            self.addItem(curve)
            self.curves[colour] = curve
        return self.curves[colour]

    def _place_markers(self, markers: Sequence[tuple[float, str]]) -> None:
        while len(self.marker_lines) < len(markers):
            line = pg.InfiniteLine(
                angle=90,
                movable=False,
                pen=pg.mkPen(self._theme.marker, width=1),
                label="",
                labelOpts={"position": 0.97, "color": self._theme.marker, "movable": False},
            )
            self.addItem(line, ignoreBounds=True)
            self.marker_lines.append(line)
        for line, (position, text) in zip(self.marker_lines, markers, strict=False):
            line.setPos(position)
            if line.label.format != text:
                line.label.setFormat(text)
            line.show()
        for line in self.marker_lines[len(markers) :]:
            line.hide()

    def _place_gaps(self, gaps: Sequence[tuple[float, float, str]]) -> None:
        colour = QColor(self._theme.gap)
        colour.setAlpha(150)
        while len(self.gap_regions) < len(gaps):
            region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(colour))
            region.setZValue(-10)
            self.addItem(region, ignoreBounds=True)
            self.gap_regions.append(region)
        width = 3.0 / max(self.sfreq, 1.0)
        for region, (position, _missing, _reason) in zip(self.gap_regions, gaps, strict=False):
            region.setRegion((position - width, position + width))
            region.show()
        for region in self.gap_regions[len(gaps) :]:
            region.hide()

    def paintEvent(self, event) -> None:
        """Paint, and time the frame (update + paint) and the lag behind the stream."""
        started = time.perf_counter()
        super().paintEvent(event)
        if self._unpainted and self.frame is not None:
            self._unpainted = False
            paint_ms = (time.perf_counter() - started) * 1e3
            lag = max(0, self._received() - self.frame.drawn) / self.sfreq * 1e3
            self.stats.add(self._update_ms + paint_ms, lag, time.perf_counter())


class OverviewPlot(pg.PlotWidget):
    """Every channel at once: RMS per channel and screen column, relative to its median."""

    def __init__(self, theme: Theme) -> None:
        super().__init__(background=theme.plot_background)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setMouseEnabled(False, False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("CET-D1"))
        self.addItem(self.image)
        self.setLabel("bottom", "time (s)")
        self.invertY(True)
        self._names: tuple[str, ...] = ()
        _recolour_axes(self, theme)

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        _recolour_axes(self, theme)

    def show_overview(self, rms: np.ndarray, names: Sequence[str], window_s: float) -> None:
        """Draw ``rms`` (n_channels, n_bins) as an image over the last ``window_s`` seconds."""
        reference = np.median(rms, axis=1, keepdims=True)
        relative = np.divide(rms, reference, out=np.ones_like(rms), where=reference > 0)
        self.image.setImage(np.log10(np.clip(relative, 0.1, 10.0)), levels=(-1.0, 1.0))
        self.image.setRect(-window_s, 0.0, window_s, float(rms.shape[0]))
        if tuple(names) != self._names:
            self._names = tuple(names)
            step = max(1, len(names) // 24)
            ticks = [(index + 0.5, names[index]) for index in range(0, len(names), step)]
            self.getAxis("left").setTicks([ticks])
            self.setYRange(0, len(names), padding=0)
        self.setXRange(-window_s, 0.0, padding=0)


class SpectrumPlot(pg.PlotWidget):
    """Power spectral densities of the drawn channels (log scale)."""

    def __init__(self, theme: Theme) -> None:
        super().__init__(background=theme.plot_background)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setLogMode(x=False, y=True)
        self.setLabel("bottom", "frequency (Hz)")
        self.setLabel("left", "PSD (unit²/Hz)")
        self.plotItem.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.curves: list[pg.PlotDataItem] = []
        self._theme = theme
        self._names: tuple[str, ...] = ()
        _recolour_axes(self, theme)

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self._theme = theme
        _recolour_axes(self, theme)

    def show_spectrum(
        self, freqs: np.ndarray, psd: np.ndarray, names: Sequence[str], max_freq: float
    ) -> None:
        """Draw one curve per channel up to ``max_freq`` Hz."""
        keep = (freqs > 0) & (freqs <= max_freq)
        if tuple(names) != self._names:
            self._names = tuple(names)
            for curve in self.curves:
                self.removeItem(curve)
            self.legend.clear()
            self.curves = []
            for index, name in enumerate(names):
                colour = pg.intColor(index, hues=max(len(names), 8))
                curve = self.plot(pen=pg.mkPen(colour, width=1), name=str(name))
                self.curves.append(curve)
        for curve, row in zip(self.curves, psd, strict=False):
            curve.setData(freqs[keep], np.maximum(row[keep], 1e-40), skipFiniteCheck=True)
