"""The decoder panel: a registered model, its card, channel mapping, start/stop, live output."""

from __future__ import annotations

import html
import time
from collections import deque
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from acquisition.inlet import MarkerInlet, SignalInlet
from bci_app.errors import ChannelMismatchError, LiveError
from bci_app.models.format import ModelCard
from bci_app.session.models import read_card, summarize_card

from .controller import Controller, LiveDecoder
from .ranking_view import RankingView
from .theme import Theme

HISTORY_S = 20.0
_MAX_CURVES = 10
_RANKED = 10
_STAGES = ("acquisition", "buffering", "preprocessing", "inference", "publication", "e2e")


class DecoderPanel(QWidget):
    """Choose a model, see its card, run it on a stream and watch what it decides."""

    def __init__(self, controller: Controller, theme: Theme) -> None:
        super().__init__()
        self.controller = controller
        self.theme = theme
        self.cards: dict[str, ModelCard] = {}
        self.card: ModelCard | None = None
        self.channel_map: dict[str, str] = {}
        self.live: LiveDecoder | None = None
        self.mismatch_box: QMessageBox | None = None
        self.mapping_dialog: ChannelMapDialog | None = None
        self.history: deque[tuple[float, np.ndarray]] = deque()
        self.last_prediction = None
        self._build()
        controller.stream_opened.connect(lambda _: self._fill_streams())
        controller.stream_closed.connect(lambda _: self._fill_streams())
        controller.decoders_changed.connect(self._decoders_changed)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.timer.start(100)
        self._last_latency = 0.0

    def _build(self) -> None:
        self.model_box = QComboBox()
        self.model_box.currentIndexChanged.connect(self._model_chosen)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_models)
        self.card_view = QTextBrowser()
        self.card_view.setMinimumHeight(120)
        self.stream_box = QComboBox()
        self.marker_box = QComboBox()
        self.marker_box.setToolTip("Decode the window after each marker instead of every hop")
        self.marker_values = QLineEdit()
        self.marker_values.setPlaceholderText("marker values (comma-separated; all when empty)")
        self.map_button = QPushButton("Map channels…")
        self.map_button.clicked.connect(self.edit_mapping)
        self.map_label = QLabel("channels: by name")
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)

        self.decision = QLabel("-")
        self.decision.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._style_decision()
        self.decision.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.decision.setWordWrap(True)
        self.output_plot = pg.PlotWidget(background=self.theme.plot_background)
        self.output_plot.setMenuEnabled(False)
        self.output_plot.hideButtons()
        self.output_plot.setLabel("bottom", "time (s)")
        self.output_legend = self.output_plot.addLegend(offset=(-10, 5), labelTextSize="8pt")
        self.output_curves: list[pg.PlotDataItem] = []
        self.ranked = QListWidget()
        self.ranking_view = RankingView()
        self.outputs = QStackedWidget()
        self.outputs.addWidget(self.output_plot)
        self.outputs.addWidget(self.ranked)
        self.latency = QTableWidget(len(_STAGES), 2)
        self.latency.setHorizontalHeaderLabels(["p50 ms", "p99 ms"])
        self.latency.setVerticalHeaderLabels(list(_STAGES))
        self.latency.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.latency.setMaximumHeight(200)
        self.counts = QLabel()
        self.counts.setWordWrap(True)

        models = QHBoxLayout()
        models.addWidget(QLabel("Model"))
        models.addWidget(self.model_box, 1)
        models.addWidget(refresh)
        for box in (self.model_box, self.stream_box, self.marker_box):
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(12)
        stream_row = QFormLayout()
        stream_row.addRow("Stream", self.stream_box)
        stream_row.addRow("Markers", self.marker_box)
        mapping = QHBoxLayout()
        mapping.addWidget(self.map_button)
        mapping.addWidget(self.map_label, 1)
        running = QHBoxLayout()
        running.addWidget(self.start_button)
        running.addWidget(self.stop_button)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(models)
        top_layout.addWidget(self.card_view, 1)
        top_layout.addLayout(stream_row)
        top_layout.addWidget(self.marker_values)
        top_layout.addLayout(mapping)
        top_layout.addWidget(self.ranking_view)
        top_layout.addLayout(running)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.decision)
        bottom_layout.addWidget(self.outputs, 1)
        bottom_layout.addWidget(QLabel("Latency per stage (last 1000 predictions)"))
        bottom_layout.addWidget(self.latency)
        bottom_layout.addWidget(self.counts)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setSizes([330, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self.refresh_models()
        self._fill_streams()

    # -- models -----------------------------------------------------------------------------------

    def refresh_models(self) -> None:
        """List the registry's models (newest version of each first, then the others)."""
        try:
            records = self.controller.registry.records()
            self.ranking_view.refresh(self.controller.registry)
        except LiveError as error:
            self.card_view.setPlainText(str(error))
            return
        current = self.model_box.currentData()
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for record in sorted(records, key=lambda r: (r.name, -r.version)):
            self.model_box.addItem(f"{record.ref}  ({record.decoder})", record.ref)
        self.model_box.blockSignals(False)
        index = self.model_box.findData(current) if current else -1
        self.model_box.setCurrentIndex(max(index, 0) if records else -1)
        if records:
            self._model_chosen()
        else:
            self.card_view.setPlainText(
                f"No model in the registry {self.controller.registry.root}. Train and export one "
                "(bci-app train, bci-app export --register NAME) or run a calibration."
            )

    def select_model(self, ref: str) -> None:
        """Choose the model ``name:version``."""
        index = self.model_box.findData(ref)
        if index < 0:
            raise LookupError(f"model {ref} is not in the list")
        self.model_box.setCurrentIndex(index)
        self._model_chosen()

    def _model_chosen(self, *_: object) -> None:
        ref = self.model_box.currentData()
        if not ref:
            return
        self.channel_map = {}
        self.map_label.setText("channels: by name")
        if ref in self.cards:
            self._show_card(self.cards[ref])
            return
        registry = self.controller.registry
        self.card = None
        self.card_view.setPlainText(f"reading {ref}…")

        def loaded(card: ModelCard) -> None:
            self.cards[ref] = card
            if self.model_box.currentData() == ref:
                self._show_card(card)

        def failed(error: BaseException) -> None:
            self.card_view.setPlainText(f"{ref}: {error}")

        self.controller.tasks.run(
            f"card {ref}",
            lambda: read_card(registry, registry.resolve(ref)),
            done=loaded,
            failed=failed,
        )

    def _show_card(self, card: ModelCard) -> None:
        self.card = card
        summary = summarize_card(card)
        parts = []
        for title, rows in (
            ("Model", summary.model),
            ("Trained on", summary.training),
            ("Validation", summary.validation),
        ):
            if rows:
                body = "".join(
                    f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>"
                    for k, v in rows
                )
                parts.append(f"<h4>{title}</h4><table>{body}</table>")
        channels = ", ".join(summary.channels[:64]) + (" …" if len(summary.channels) > 64 else "")
        parts.append(f"<h4>Channels ({len(summary.channels)})</h4><p>{html.escape(channels)}</p>")
        self.card_view.setHtml("".join(parts))

    # -- streams ------------------------------------------------------------------------------------

    def _fill_streams(self) -> None:
        inlets = self.controller.acquisition.inlets
        signals = sorted(n for n, i in inlets.items() if isinstance(i, SignalInlet))
        markers = sorted(n for n, i in inlets.items() if isinstance(i, MarkerInlet))
        _refill(self.stream_box, signals)
        _refill(self.marker_box, ["(every hop)", *markers])

    def select_stream(self, name: str, markers: str | None = None) -> None:
        """Choose the stream to decode (and the marker stream to lock windows to)."""
        self._fill_streams()
        self.stream_box.setCurrentText(name)
        self.marker_box.setCurrentText(markers or "(every hop)")

    # -- running ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start decoding the chosen stream with the chosen model (loaded in a worker)."""
        ref = self.model_box.currentData()
        stream = self.stream_box.currentText()
        if not ref or not stream:
            self.counts.setText("choose a model and an open stream first")
            return
        markers = self.marker_box.currentText()
        markers = None if markers.startswith("(") else markers
        values = {v.strip() for v in self.marker_values.text().split(",") if v.strip()} or None
        self.start_button.setEnabled(False)
        self.counts.setText(f"loading {ref}…")
        self.controller.start_decoder(
            ref,
            stream,
            channel_map=self.channel_map or None,
            markers=markers,
            marker_values=values,
            candidates=self.ranking_view.chosen(),
            done=self._started,
            failed=self._failed,
        )

    def _started(self, live: LiveDecoder) -> None:
        self.live = live
        self.history.clear()
        self.last_prediction = None
        self.stop_button.setEnabled(True)
        self._setup_outputs(live.runner.card, locked=self.marker_box.currentText() != "(every hop)")
        self.counts.setText(f"decoding '{live.runner.stream}' with {live.runner.ref}")

    def _failed(self, error: BaseException) -> None:
        self.start_button.setEnabled(True)
        self.counts.setText(str(error))
        if isinstance(error, ChannelMismatchError):
            box = QMessageBox(self)
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowTitle("The model does not fit the stream")
            box.setText(
                "The stream lacks channels this model was trained on. Map each model channel "
                "to a stream channel, or choose another model or stream."
            )
            box.setInformativeText(error.problem)
            self.mismatch_map_button = box.addButton(
                "Map channels…", QMessageBox.ButtonRole.AcceptRole
            )
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.buttonClicked.connect(
                lambda button: self.edit_mapping() if button is self.mismatch_map_button else None
            )
            self.mismatch_box = box
            box.open()
        elif isinstance(error, LiveError):
            box = QMessageBox(QMessageBox.Icon.Warning, "Cannot decode", str(error), parent=self)
            self.mismatch_box = box
            box.open()

    def edit_mapping(self) -> None:
        """Open the channel mapping dialog for the chosen model and stream."""
        inlet = self.controller.inlet(self.stream_box.currentText())
        if self.card is None or not isinstance(inlet, SignalInlet):
            self.counts.setText("choose a model and an open signal stream to map channels")
            return
        dialog = ChannelMapDialog(self.card.ch_names, inlet.buffer.ch_names, self.channel_map, self)
        dialog.accepted.connect(lambda: self._mapped(dialog.mapping()))
        self.mapping_dialog = dialog
        dialog.open()

    def _mapped(self, mapping: dict[str, str]) -> None:
        self.channel_map = mapping
        renamed = len(mapping)
        self.map_label.setText(
            f"channels: {renamed} mapped to other names" if renamed else "channels: by name"
        )

    def stop(self) -> None:
        """Stop the running decoder."""
        if self.live is not None:
            self.controller.stop_decoder(self.live.name)

    def _decoders_changed(self) -> None:
        if self.live is not None and self.live.name not in self.controller.decoders:
            self.live = None
            self.stop_button.setEnabled(False)
            self.start_button.setEnabled(True)

    # -- drawing ------------------------------------------------------------------------------------

    def _setup_outputs(self, card: ModelCard, *, locked: bool = False) -> None:
        for curve in self.output_curves:
            self.output_plot.removeItem(curve)
        self.output_legend.clear()
        self.output_curves = []
        many = card.output_kind == "probabilities" and len(card.output_names) > _MAX_CURVES
        self.outputs.setCurrentIndex(1 if many else 0)
        if not many:
            for index, name in enumerate(card.output_names[:_MAX_CURVES]):
                colour = pg.intColor(index, hues=max(len(card.output_names), 4))
                if locked:  # one decision per marker: points, not a time course
                    curve = self.output_plot.plot(
                        pen=None, symbol="o", symbolSize=7, symbolBrush=colour, name=name
                    )
                else:
                    curve = self.output_plot.plot(pen=pg.mkPen(colour, width=2), name=name)
                self.output_curves.append(curve)
        if card.output_kind == "probabilities":
            self.output_plot.setYRange(0, 1, padding=0.02)
            self.output_plot.setLabel("left", "probability")
        else:
            self.output_plot.enableAutoRange(axis="y")
            self.output_plot.setLabel("left", card.output_kind)

    def tick(self) -> None:
        """Take the new predictions and redraw (called by the timer)."""
        live = self.live
        if live is None:
            return
        new = []
        while live.predictions:
            new.append(live.predictions.popleft())
        for prediction in new:
            self.history.append((prediction.timestamp, prediction.outputs))
        if new:
            self.last_prediction = new[-1]
            self.ranking_view.show_ranking(new[-1])
        newest = self.history[-1][0] if self.history else 0.0
        while self.history and self.history[0][0] < newest - HISTORY_S:
            self.history.popleft()
        card = live.runner.card
        if new:
            self._draw_outputs(card, newest)
            self._draw_decision(card)
        now = time.monotonic()
        if now - self._last_latency >= 1.0:
            self._last_latency = now
            self._draw_latency(live)

    def _draw_outputs(self, card: ModelCard, newest: float) -> None:
        times = np.array([t for t, _ in self.history]) - newest
        values = np.array([o for _, o in self.history])
        if self.outputs.currentIndex() == 0:
            for column, curve in enumerate(self.output_curves):
                curve.setData(times, values[:, column])
            self.output_plot.setXRange(-HISTORY_S, 0, padding=0)
        else:
            outputs = self.history[-1][1]
            order = np.argsort(-outputs)[:_RANKED]
            self.ranked.clear()
            for rank, index in enumerate(order, start=1):
                self.ranked.addItem(f"{rank}. {card.output_names[index]}  ({outputs[index]:.3f})")

    def _draw_decision(self, card: ModelCard) -> None:
        prediction = self.last_prediction
        if card.output_kind == "probabilities":
            index = int(np.argmax(prediction.outputs))
            text = f"{card.output_names[index]}  {prediction.outputs[index]:.0%}"
        else:
            shown = ", ".join(
                f"{name} {value:.3g}"
                for name, value in zip(card.output_names[:3], prediction.outputs, strict=False)
            )
            text = shown
        text = html.escape(text)
        if prediction.marker is not None:
            marker = html.escape(prediction.marker)
            text += f"<br><span style='font-size: 10pt; font-weight: normal;'>after marker {marker}</span>"
        self.decision.setText(text)

    def _draw_latency(self, live: LiveDecoder) -> None:
        summary = live.runner.latency.summary()
        for row, stage in enumerate(_STAGES):
            values = summary.get(stage)
            for column, key in enumerate(("p50", "p99")):
                text = f"{values[key]:.3g}" if values else "-"
                item = self.latency.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.latency.setItem(row, column, item)
                item.setText(text)
        counts = live.runner.counts
        self.counts.setText(
            f"{live.runner.ref} on '{live.runner.stream}': {counts.published} predictions, "
            f"{counts.dropped} windows dropped, {counts.non_finite_windows} NaN windows skipped, "
            f"{counts.gaps} with gaps, {counts.swaps} model swaps"
        )

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self.theme = theme
        self.output_plot.setBackground(theme.plot_background)
        self._style_decision()

    def _style_decision(self) -> None:
        # A style sheet freezes the palette of its widget: the colour is set with the font.
        self.decision.setStyleSheet(
            f"font-size: 20pt; font-weight: bold; color: {self.theme.text};"
        )


class ChannelMapDialog(QDialog):
    """Map each channel of a model to a channel of the stream.

    Parameters
    ----------
    model_channels : sequence of str
        The model's channels.
    stream_channels : sequence of str
        The stream's channels.
    mapping : mapping, optional
        Current ``{model channel: stream channel}``.
    """

    def __init__(
        self,
        model_channels: Sequence[str],
        stream_channels: Sequence[str],
        mapping: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Map model channels to stream channels")
        self.model_channels = list(model_channels)
        self.stream_channels = list(stream_channels)
        self.table = QTableWidget(len(self.model_channels), 2)
        self.table.setHorizontalHeaderLabels(["model channel", "stream channel"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.boxes: list[QComboBox] = []
        by_lower = {name.lower(): name for name in self.stream_channels}
        for row, channel in enumerate(self.model_channels):
            self.table.setItem(row, 0, QTableWidgetItem(channel))
            box = QComboBox()
            box.addItem("(missing)")
            box.addItems(self.stream_channels)
            chosen = (mapping or {}).get(channel) or by_lower.get(channel.lower())
            if chosen:
                box.setCurrentText(chosen)
            box.currentIndexChanged.connect(self._check)
            self.table.setCellWidget(row, 1, box)
            self.boxes.append(box)
        by_order = QPushButton("Map by order")
        by_order.setToolTip("Model channel i reads stream channel i")
        by_order.clicked.connect(self.map_by_order)
        self.problem = QLabel()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(by_order)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(420, 480)
        self._check()

    def map_by_order(self) -> None:
        """Read model channel i from stream channel i (as far as both go)."""
        for box, channel in zip(self.boxes, self.stream_channels, strict=False):
            box.setCurrentText(channel)

    def mapping(self) -> dict[str, str]:
        """Return ``{model channel: stream channel}`` for channels read under another name."""
        return {
            model: box.currentText()
            for model, box in zip(self.model_channels, self.boxes, strict=True)
            if box.currentIndex() > 0 and box.currentText() != model
        }

    def _check(self) -> None:
        missing = [
            m for m, b in zip(self.model_channels, self.boxes, strict=True) if b.currentIndex() == 0
        ]
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not missing)
        self.problem.setText(
            f"{len(missing)} model channels have no stream channel: {', '.join(missing[:8])}"
            if missing
            else "every model channel has a stream channel"
        )


def _refill(box: QComboBox, items: list[str]) -> None:
    current = box.currentText()
    existing = [box.itemText(i) for i in range(box.count())]
    if existing == items:
        return
    box.blockSignals(True)
    box.clear()
    box.addItems(items)
    if current in items:
        box.setCurrentText(current)
    box.blockSignals(False)
