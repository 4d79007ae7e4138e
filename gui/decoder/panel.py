"""The decoder panel: a registered model, its card, channel mapping, start/stop, live output.

The panel shows the decoder actually running: one it started, or one started elsewhere (the
calibration's feedback), from the moment it starts.
"""

from __future__ import annotations

import html
import time
from collections import deque

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from acquisition.inlet import MarkerInlet, SignalInlet
from bci_app.errors import ChannelMismatchError, LiveError
from bci_app.inference.prediction import Prediction
from bci_app.models.alarm import AlarmPolicy
from bci_app.models.format import ModelCard
from bci_app.session.models import read_card, summarize_card

from ..controller import Controller, LiveDecoder
from ..theme import Theme
from .channel_map import ChannelMapDialog
from .plots import HISTORY_S, DecisionLabel, LatencyTable, OutputsView
from .ranking_view import RankingView
from .seizure_alarm import SeizureAlarmBanner

_EVERY_HOP = "(every hop)"


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
        self.last_prediction: Prediction | None = None
        self._known: set[str] = set()  # the decoders running at the last change
        self._requested: str | None = None  # the model this panel is starting
        self._build()
        controller.stream_opened.connect(lambda _: self._fill_streams())
        controller.stream_closed.connect(lambda _: self._fill_streams())
        controller.decoders_changed.connect(self._decoders_changed)
        controller.trainings_changed.connect(self._show_trainings)
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
        self.trainings = QLabel()
        self.trainings.setWordWrap(True)
        self.trainings.hide()
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

        self.alarm_banner = SeizureAlarmBanner(self.theme)
        self.decision = DecisionLabel(self.theme)
        self.outputs = OutputsView(self.theme)
        self.latency = LatencyTable()
        self.ranking_view = RankingView()
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
        top_layout.addWidget(self.trainings)
        top_layout.addWidget(self.card_view, 1)
        top_layout.addLayout(stream_row)
        top_layout.addWidget(self.marker_values)
        top_layout.addLayout(mapping)
        top_layout.addWidget(self.ranking_view)
        top_layout.addLayout(running)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.alarm_banner)
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
        elif self.controller.trainings:
            self.card_view.setPlainText(
                f"{self.trainings.text()}\nThe model appears here once trained and registered."
            )
        else:
            self.card_view.setPlainText(
                f"No model in the registry {self.controller.registry.root}. Train and export one "
                "(bci-app train, bci-app export --register NAME) or run a calibration."
            )

    def _show_trainings(self) -> None:
        """Show the trainings under way (a model is coming), or list the models they made."""
        lines = [f"training {task.label}: {task.progress}" for task in self.controller.trainings]
        self.trainings.setText("\n".join(lines))
        self.trainings.setVisible(bool(lines))
        if self.model_box.count() == 0:
            self.refresh_models()

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
        _refill(self.marker_box, [_EVERY_HOP, *markers])

    def select_stream(self, name: str, markers: str | None = None) -> None:
        """Choose the stream to decode (and the marker stream to lock windows to)."""
        self._fill_streams()
        self.stream_box.setCurrentText(name)
        self.marker_box.setCurrentText(markers or _EVERY_HOP)

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
        self._requested = ref
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
        self._requested = None
        if self.live is not live:
            self._follow(live)

    def _follow(self, live: LiveDecoder) -> None:
        """Show ``live``: its model, stream, outputs and figures from now on."""
        own = live.runner.ref == self._requested
        self.live = live
        self.history.clear()
        self.last_prediction = None
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        runner = live.runner
        if self.model_box.currentData() != runner.ref:
            if self.model_box.findData(runner.ref) < 0:
                self.refresh_models()
            if self.model_box.findData(runner.ref) >= 0:
                self.select_model(runner.ref)
        self._fill_streams()
        self.stream_box.setCurrentText(runner.stream)
        if not own and not live.locked:  # started elsewhere, decoding every hop
            self.marker_box.setCurrentText(_EVERY_HOP)
            self.marker_values.clear()
        self.outputs.setup(runner.card, locked=live.locked)
        self.alarm_banner.follow(AlarmPolicy.from_card(runner.card.card))
        self.decision.setText("-")
        self.latency.clear_figures()
        self._last_latency = 0.0
        self.counts.setText(f"decoding '{runner.stream}' with {runner.ref}")

    def _failed(self, error: BaseException) -> None:
        self._requested = None
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
        """Follow a decoder that started, or another running one when the shown one stops."""
        decoders = self.controller.decoders
        started = [live for name, live in decoders.items() if name not in self._known]
        self._known = set(decoders)
        if started:
            self._follow(started[-1])
        elif self.live is not None and self.live.name not in decoders:
            stopped = self.live
            self.live = None
            self.stop_button.setEnabled(False)
            self.start_button.setEnabled(True)
            self.decision.setText("-")
            self.alarm_banner.follow(None)
            self.outputs.clear()
            self.latency.clear_figures()
            self.counts.setText(f"{stopped.runner.ref} stopped")
            if decoders:
                self._follow(list(decoders.values())[-1])

    # -- drawing ------------------------------------------------------------------------------------

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
            self.outputs.draw(card, self.history)
            self.decision.show_prediction(card, self.last_prediction)
            self.alarm_banner.show_status(self.last_prediction.alarm)
        now = time.monotonic()
        if now - self._last_latency >= 1.0:
            self._last_latency = now
            self._draw_figures(live)

    @property
    def output_curves(self) -> list:
        """Return the curves of the outputs (one per class)."""
        return self.outputs.curves

    def _draw_figures(self, live: LiveDecoder) -> None:
        self.latency.show_summary(live.runner.latency.summary())
        counts = live.runner.counts
        self.counts.setText(
            f"{live.runner.ref} on '{live.runner.stream}': {counts.published} predictions, "
            f"{counts.dropped} windows dropped, {counts.non_finite_windows} NaN windows skipped, "
            f"{counts.gaps} with gaps, {counts.swaps} model swaps"
        )

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self.theme = theme
        self.outputs.set_theme(theme)
        self.decision.set_theme(theme)
        self.alarm_banner.set_theme(theme)


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
