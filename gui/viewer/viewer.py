"""The signal viewer panel: stream choice, paging, scaling, display filters, three views."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from acquisition.events import StreamStatus
from acquisition.inlet import SignalInlet

from ..controller import Controller
from ..theme import Theme
from ..widgets import Banner
from .channels import ChannelList
from .feed import MAX_WINDOW_S, DisplayFeed, DisplaySettings
from .plots import TYPE_SPAN, OverviewPlot, SpectrumPlot, TracePlot

WINDOWS_S = (2.0, 5.0, 10.0, 20.0, 30.0)
MODES = ("Traces", "Overview", "Spectrum")
_QUALITY_PERIOD = 0.5
_RECONNECTED_S = 6.0


class SignalViewer(QWidget):
    """Scrolling traces of one open signal stream.

    Parameters
    ----------
    controller : Controller
        The application's state (open streams, markers, bad channels).
    theme : Theme
        Colours.
    fps : float
        Frames per second drawn.
    """

    def __init__(self, controller: Controller, theme: Theme, *, fps: float = 30.0) -> None:
        super().__init__()
        self.controller = controller
        self.settings = controller.settings
        self.theme = theme
        self.feed: DisplayFeed | None = None
        self.inlet: SignalInlet | None = None
        self.spans = np.zeros(0)
        self._zoom = float(self.settings.get("viewer/scale"))
        self._page = 0
        self._last_seq = -1
        self._last_quality = 0.0
        self._was_lost = False
        self._total_at_loss = 0
        self._auto_spans: dict[str, float] = {}
        self._build()
        controller.stream_opened.connect(self._stream_opened)
        controller.stream_closed.connect(self._stream_closed)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.timer.start(round(1000 / fps))

    # -- building -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.stream_box = QComboBox()
        self.stream_box.setToolTip("the open signal stream shown")
        self.stream_box.currentTextChanged.connect(self.show_stream)
        self.window_box = QComboBox()
        for seconds in WINDOWS_S:
            self.window_box.addItem(f"{seconds:g} s", seconds)
        self.window_box.setCurrentIndex(_closest(WINDOWS_S, self.settings.get("viewer/window_s")))
        self.window_box.currentIndexChanged.connect(self._settings_changed)
        self.zoom_out = QPushButton("−")
        self.zoom_in = QPushButton("+")
        for button in (self.zoom_out, self.zoom_in):
            button.setFixedWidth(28)
        self.zoom_out.setToolTip("Smaller traces (global scale)")
        self.zoom_in.setToolTip("Larger traces (global scale)")
        self.zoom_out.clicked.connect(lambda: self.set_zoom(self._zoom / 1.5))
        self.zoom_in.clicked.connect(lambda: self.set_zoom(self._zoom * 1.5))
        self.zoom_label = QLabel()
        self.auto_button = QPushButton("Auto")
        self.auto_button.setToolTip("Scale each channel to its own amplitude")
        self.auto_button.clicked.connect(self.auto_scale)
        self.previous_page = QPushButton("◀")
        self.next_page = QPushButton("▶")
        for button in (self.previous_page, self.next_page):
            button.setFixedWidth(28)
        self.previous_page.clicked.connect(lambda: self.set_page(self._page - 1))
        self.next_page.clicked.connect(lambda: self.set_page(self._page + 1))
        self.page_label = QLabel("-")
        self.page_size = QSpinBox()
        self.page_size.setRange(1, 128)
        self.page_size.setValue(int(self.settings.get("viewer/page_size")))
        self.page_size.setSuffix(" ch")
        self.page_size.setToolTip("channels per page")
        self.page_size.valueChanged.connect(self._settings_changed)
        self.mode_box = QComboBox()
        self.mode_box.addItems(MODES)
        self.mode_box.currentIndexChanged.connect(self._mode_changed)

        self.bandpass = QCheckBox("Band-pass")
        self.bandpass.setChecked(bool(self.settings.get("viewer/bandpass")))
        self.l_freq = _frequency_box(self.settings.get("viewer/l_freq"))
        self.h_freq = _frequency_box(self.settings.get("viewer/h_freq"))
        self.notch_box = QComboBox()
        for label, value in (("no notch", 0.0), ("notch 50", 50.0), ("notch 60", 60.0)):
            self.notch_box.addItem(label, value)
        self.notch_box.setCurrentIndex(
            _closest((0.0, 50.0, 60.0), self.settings.get("viewer/notch"))
        )
        self.reference_box = QComboBox()
        self.reference_box.addItem("as recorded", "none")
        self.reference_box.addItem("common avg.", "car")
        self.reference_box.setCurrentIndex(
            1 if self.settings.get("viewer/reference") == "car" else 0
        )
        for widget in (self.bandpass,):
            widget.toggled.connect(self._settings_changed)
        for widget in (self.l_freq, self.h_freq):
            widget.valueChanged.connect(self._settings_changed)
        for widget in (self.notch_box, self.reference_box):
            widget.currentIndexChanged.connect(self._settings_changed)

        hint = "display only: recording and decoding get the raw stream"
        for widget in (self.bandpass, self.l_freq, self.h_freq, self.notch_box, self.reference_box):
            widget.setToolTip(hint)
        self.stream_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.stream_box.setMinimumContentsLength(10)
        top = QHBoxLayout()
        for widget in (
            self.stream_box,
            self.window_box,
            self.mode_box,
            self.previous_page,
            self.page_label,
            self.next_page,
            self.page_size,
        ):
            top.addWidget(widget)
        top.addStretch(1)
        filters = QHBoxLayout()
        for widget in (
            self.zoom_out,
            self.zoom_label,
            self.zoom_in,
            self.auto_button,
            self.bandpass,
            self.l_freq,
            QLabel("–"),
            self.h_freq,
            self.notch_box,
            self.reference_box,
        ):
            filters.addWidget(widget)
        filters.addStretch(1)

        self.banner = Banner(self.theme)
        self.channels = ChannelList(self.theme)
        self.channels.shown_changed.connect(self._pages_changed)
        self.channels.bad_toggled.connect(self._bad_toggled)
        self.channels.gain_changed.connect(lambda *_: self._recompute_spans())
        self.traces = TracePlot(self.theme, self._received)
        self.overview = OverviewPlot(self.theme)
        self.spectrum = SpectrumPlot(self.theme)
        self.views = QStackedWidget()
        for view in (self.traces, self.overview, self.spectrum):
            self.views.addWidget(view)
        splitter = QSplitter()
        splitter.addWidget(self.channels)
        splitter.addWidget(self.views)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([170, 800])
        self.status = QLabel("no stream shown: connect one in the Streams panel")
        self.status.setStyleSheet("color: gray;")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self._update_zoom_label()

    # -- streams --------------------------------------------------------------------------------

    def _stream_opened(self, name: str) -> None:
        if isinstance(self.controller.inlet(name), SignalInlet):
            if self.stream_box.findText(name) < 0:
                self.stream_box.addItem(name)
            if self.feed is None:
                self.stream_box.setCurrentText(name)
                self.show_stream(name)

    def _stream_closed(self, name: str) -> None:
        index = self.stream_box.findText(name)
        if index >= 0:
            self.stream_box.removeItem(index)
        if self.inlet is not None and self.inlet.name == name:
            self.show_stream(self.stream_box.currentText())

    def show_stream(self, name: str) -> None:
        """Show the open signal stream called ``name`` (nothing when empty)."""
        if self.feed is not None:
            self.feed.stop()
            self.feed = None
        self.inlet = None
        self._last_seq = -1
        self.banner.clear_message()
        self._was_lost = False
        inlet = self.controller.inlet(name) if name else None
        if not isinstance(inlet, SignalInlet):
            self.status.setText("no stream shown: connect one in the Streams panel")
            return
        self.inlet = inlet
        buffer = inlet.buffer
        self.channels.set_channels(
            buffer.ch_names, buffer.ch_types, self.controller.bad_channels.get(name, set())
        )
        self._auto_spans = {}
        self.traces.sfreq = buffer.sfreq
        self._page = 0
        self.feed = DisplayFeed(buffer, self._display_settings()).start()
        self._recompute_spans()

    # -- settings -------------------------------------------------------------------------------

    @property
    def window_s(self) -> float:
        """Return the seconds across the plot."""
        return float(self.window_box.currentData())

    def page_channels(self) -> list[int]:
        """Return the stream indices of the channels on the current page."""
        shown = self.channels.shown_indices()
        size = self.page_size.value()
        pages = max(1, -(-len(shown) // size))
        self._page = min(max(0, self._page), pages - 1)
        self.page_label.setText(f"page {self._page + 1}/{pages}")
        return shown[self._page * size : (self._page + 1) * size]

    def set_page(self, page: int) -> None:
        """Show page ``page`` of the checked channels (clamped)."""
        self._page = page
        self._pages_changed()

    def set_zoom(self, zoom: float) -> None:
        """Set the global scale (1 shows a typical signal of each type on one row)."""
        self._zoom = float(np.clip(zoom, 1e-3, 1e4))
        self.settings.set("viewer/scale", self._zoom)
        self._update_zoom_label()
        self._recompute_spans()

    def _update_zoom_label(self) -> None:
        self.zoom_label.setText(f"x{self._zoom:.3g}")

    def auto_scale(self) -> None:
        """Scale each channel of the page to the spread of its data in the current frame."""
        frame = self.feed.latest if self.feed else None
        if frame is None or not frame.times.size:
            return
        names = self.inlet.buffer.ch_names
        for row, index in enumerate(frame.channels):
            spread = float(
                np.percentile(frame.traces[row], 99) - np.percentile(frame.traces[row], 1)
            )
            if spread > 0:
                self._auto_spans[names[index]] = spread
        self.set_zoom(1.0)

    def _display_settings(self) -> DisplaySettings:
        bandpass = None
        if self.bandpass.isChecked():
            bandpass = (self.l_freq.value() or None, self.h_freq.value() or None)
        mode = self.mode_box.currentText()
        return DisplaySettings(
            window_s=min(self.window_s, MAX_WINDOW_S),
            bandpass=bandpass,
            notch=float(self.notch_box.currentData()) or None,
            reference=str(self.reference_box.currentData()),
            channels=tuple(self.page_channels()),
            points=max(400, self.traces.width()),
            spectrum=mode == "Spectrum",
            overview=mode == "Overview",
        )

    def _settings_changed(self) -> None:
        self.settings.set("viewer/window_s", self.window_s)
        self.settings.set("viewer/page_size", self.page_size.value())
        self.settings.set("viewer/bandpass", self.bandpass.isChecked())
        self.settings.set("viewer/l_freq", self.l_freq.value())
        self.settings.set("viewer/h_freq", self.h_freq.value())
        self.settings.set("viewer/notch", float(self.notch_box.currentData()))
        self.settings.set("viewer/reference", str(self.reference_box.currentData()))
        self._pages_changed()

    def _mode_changed(self, index: int) -> None:
        self.views.setCurrentIndex(index)
        self._pages_changed()

    def _pages_changed(self) -> None:
        if self.feed is not None:
            settings = self._display_settings()
            self.feed.configure(**settings.__dict__)
            self._recompute_spans()

    def _recompute_spans(self) -> None:
        if self.inlet is None:
            return
        buffer = self.inlet.buffer
        spans = []
        for index in self.page_channels():
            name, kind = buffer.ch_names[index], buffer.ch_types[index]
            base = self._auto_spans.get(name) or TYPE_SPAN.get(kind)
            gain = self.channels.gains.get(name, 1.0)
            spans.append((base or 0.0) / (gain * self._zoom))
        self.spans = np.array(spans, dtype=float)

    def _bad_toggled(self, channel: str, bad: bool) -> None:
        if self.inlet is not None:
            self.controller.mark_channel(self.inlet.name, channel, bad)

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self.theme = theme
        for widget in (self.traces, self.overview, self.spectrum, self.channels, self.banner):
            widget.set_theme(theme)

    # -- drawing --------------------------------------------------------------------------------

    def _received(self) -> int:
        return self.inlet.buffer.total if self.inlet is not None else 0

    def tick(self) -> None:
        """Draw the newest frame of the display feed (called by the timer)."""
        if self.inlet is None or self.feed is None:
            return
        self._show_banner()
        now = time.monotonic()
        if now - self._last_quality >= _QUALITY_PERIOD:
            self._last_quality = now
            self.channels.set_quality(self.inlet.quality)
            self._show_status()
        frame = self.feed.latest
        if frame is None or frame.seq == self._last_seq:
            return
        self._last_seq = frame.seq
        buffer = self.inlet.buffer
        names = [buffer.ch_names[index] for index in frame.channels]
        mode = self.views.currentIndex()
        if mode == 0:
            spans = self._row_spans(frame)
            colours = [self._colour(buffer.ch_names[i], buffer.ch_types[i]) for i in frame.channels]
            start = frame.newest_time - self.window_s
            markers = [
                (stamp - frame.newest_time, text)
                for stamp, text, _stream in self.controller.markers_between(
                    start, frame.newest_time + 1e-6
                )
            ]
            self.traces.show_frame(frame, names, spans, colours, markers[-50:], self.window_s)
        elif mode == 1 and frame.overview is not None:
            self.overview.show_overview(frame.overview, buffer.ch_names, self.window_s)
        elif mode == 2 and frame.spectrum is not None:
            freqs, psd = frame.spectrum
            self.spectrum.show_spectrum(freqs, psd, names, min(buffer.sfreq / 2, 150.0))

    def _row_spans(self, frame) -> np.ndarray:
        if self.spans.size != len(frame.channels):
            self._recompute_spans()
        spans = self.spans.copy()
        if spans.size != len(frame.channels):
            spans = np.zeros(len(frame.channels))
        unknown = spans <= 0
        if unknown.any() and frame.traces.size:
            # Types without a typical amplitude (stim, misc) scale to their own data.
            spread = np.ptp(frame.traces[unknown], axis=1) / self._zoom
            spans[unknown] = np.where(spread > 0, spread, 1.0)
        return spans

    def _colour(self, name: str, kind: str) -> str:
        if name in self.channels.bad:
            return self.theme.plot_foreground
        if name in self.channels.flagged:
            return self.theme.bad
        return self.theme.trace_alt if kind in ("grad", "eog", "ecg", "emg") else self.theme.trace

    def _show_banner(self) -> None:
        inlet = self.inlet
        status = inlet.status
        name = inlet.name
        lost = status in (StreamStatus.LOST, StreamStatus.STALLED, StreamStatus.INCOMPATIBLE)
        recording = (
            "; recording continues and the gap is marked in the file"
            if (self.controller.recording)
            else ""
        )
        if status is StreamStatus.INCOMPATIBLE:
            self.banner.show_message(
                "alarm", f"Stream '{name}' came back with other settings: not resumed{recording}."
            )
        elif lost:
            self.banner.show_message(
                "alarm",
                f"Stream '{name}' lost ({status.value}): traces stopped, reconnecting…{recording}",
            )
        elif status is StreamStatus.CONNECTING:
            self.banner.show_message("info", f"Connecting to '{name}'…")
        elif self._was_lost and status is StreamStatus.CONNECTED:
            self._show_return()
            return
        elif self.banner.kind in ("alarm", "info"):
            self.banner.clear_message()
        if lost and not self._was_lost:
            self._total_at_loss = inlet.buffer.total
        self._was_lost = lost or (self._was_lost and status is not StreamStatus.CONNECTED)

    def _show_return(self) -> None:
        """Say that the source is back, with its gap, once its first samples are in."""
        buffer, name = self.inlet.buffer, self.inlet.name
        total = buffer.total  # read before the gaps: a gap is marked before its samples
        gaps = buffer.gaps(since=self._total_at_loss)
        if not gaps and total == self._total_at_loss:
            self.banner.show_message("info", f"Stream '{name}' is back; waiting for its samples…")
            return
        missing = f" after a gap of {gaps[-1].duration:.2f} s" if gaps else ""
        self.banner.show_message(
            "ok", f"Stream '{name}' reconnected{missing}.", seconds=_RECONNECTED_S
        )
        self._was_lost = False

    def _show_status(self) -> None:
        inlet = self.inlet
        buffer = inlet.buffer
        fps, lag = self.traces.stats.recent()
        rate = f"{fps:.0f} fps, lag {lag:.0f} ms" if fps else ""
        frame = self.feed.latest if self.feed else None
        problem = f"  ⚠ {frame.problem}" if frame is not None and frame.problem else ""
        self.status.setText(
            f"{inlet.name}: {buffer.n_channels} ch @ {buffer.sfreq:g} Hz, {inlet.status.value}, "
            f"{inlet.samples_received} samples received   {rate}{problem}"
        )

    def stop(self) -> None:
        """Stop drawing and the display feed."""
        self.timer.stop()
        if self.feed is not None:
            self.feed.stop()
            self.feed = None


def _frequency_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, 5000.0)
    box.setDecimals(1)
    box.setSuffix(" Hz")
    box.setValue(float(value))
    return box


def _closest(values: tuple[float, ...], value: float) -> int:
    return int(np.argmin([abs(v - float(value)) for v in values]))
