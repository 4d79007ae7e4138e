"""What a running decoder shows: its decision, its outputs over time, its latency per stage."""

from __future__ import annotations

import html
from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QListWidget,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
)

from bci_app.inference.prediction import Prediction
from bci_app.models.format import ModelCard

from ..theme import Theme

HISTORY_S = 20.0
MAX_CURVES = 10
RANKED = 10
STAGES = ("acquisition", "buffering", "preprocessing", "inference", "publication", "e2e")


class DecisionLabel(QLabel):
    """The newest decision in large type (and the marker it follows)."""

    def __init__(self, theme: Theme) -> None:
        super().__init__("-")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setWordWrap(True)
        self.set_theme(theme)

    def show_prediction(self, card: ModelCard, prediction: Prediction) -> None:
        """Show the class of ``prediction`` (or its first outputs when they are no classes)."""
        if card.output_kind == "probabilities":
            index = int(np.argmax(prediction.outputs))
            text = f"{card.output_names[index]}  {prediction.outputs[index]:.0%}"
        else:
            text = ", ".join(
                f"{name} {value:.3g}"
                for name, value in zip(card.output_names[:3], prediction.outputs, strict=False)
            )
        text = html.escape(text)
        if prediction.marker is not None:
            marker = html.escape(prediction.marker)
            text += f"<br><span style='font-size: 10pt; font-weight: normal;'>after marker {marker}</span>"
        self.setText(text)

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        # A style sheet freezes the palette of its widget: the colour is set with the font.
        self.setStyleSheet(f"font-size: 20pt; font-weight: bold; color: {theme.text};")


class OutputsView(QStackedWidget):
    """The outputs of the last :data:`HISTORY_S` seconds: one curve each, or a ranking of many."""

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.plot = pg.PlotWidget(background=theme.plot_background)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "time (s)")
        self.legend = self.plot.addLegend(offset=(-10, 5), labelTextSize="8pt")
        self.curves: list[pg.PlotDataItem] = []
        self.ranked = QListWidget()
        self.addWidget(self.plot)
        self.addWidget(self.ranked)

    def setup(self, card: ModelCard, *, locked: bool = False) -> None:
        """Prepare for the outputs of ``card`` (points when one decision follows each marker)."""
        for curve in self.curves:
            self.plot.removeItem(curve)
        self.legend.clear()
        self.curves = []
        self.ranked.clear()
        many = card.output_kind == "probabilities" and len(card.output_names) > MAX_CURVES
        self.setCurrentIndex(1 if many else 0)
        if not many:
            for index, name in enumerate(card.output_names[:MAX_CURVES]):
                colour = pg.intColor(index, hues=max(len(card.output_names), 4))
                if locked:
                    curve = self.plot.plot(
                        pen=None, symbol="o", symbolSize=7, symbolBrush=colour, name=name
                    )
                else:
                    curve = self.plot.plot(pen=pg.mkPen(colour, width=2), name=name)
                self.curves.append(curve)
        if card.output_kind == "probabilities":
            self.plot.setYRange(0, 1, padding=0.02)
            self.plot.setLabel("left", "probability")
        else:
            self.plot.enableAutoRange(axis="y")
            self.plot.setLabel("left", card.output_kind)

    def clear(self) -> None:
        """Show no outputs (the decoder stopped)."""
        for curve in self.curves:
            curve.setData([], [])
        self.ranked.clear()

    def draw(self, card: ModelCard, history: deque[tuple[float, np.ndarray]]) -> None:
        """Draw ``(time, outputs)`` pairs, times relative to the newest."""
        newest = history[-1][0]
        if self.currentIndex() == 0:
            times = np.array([t for t, _ in history]) - newest
            values = np.array([o for _, o in history])
            for column, curve in enumerate(self.curves):
                curve.setData(times, values[:, column])
            self.plot.setXRange(-HISTORY_S, 0, padding=0)
        else:
            outputs = history[-1][1]
            self.ranked.clear()
            for rank, index in enumerate(np.argsort(-outputs)[:RANKED], start=1):
                self.ranked.addItem(f"{rank}. {card.output_names[index]}  ({outputs[index]:.3f})")

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self.plot.setBackground(theme.plot_background)


class LatencyTable(QTableWidget):
    """p50 and p99 latency of each stage of the decoding, in milliseconds."""

    def __init__(self) -> None:
        super().__init__(len(STAGES), 2)
        self.setHorizontalHeaderLabels(["p50 ms", "p99 ms"])
        self.setVerticalHeaderLabels(list(STAGES))
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setMaximumHeight(200)

    def show_summary(self, summary: dict[str, dict[str, float]]) -> None:
        """Show a :meth:`LatencyTracker.summary`; ``-`` for stages without a figure."""
        for row, stage in enumerate(STAGES):
            values = summary.get(stage)
            for column, key in enumerate(("p50", "p99")):
                item = self.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(row, column, item)
                item.setText(f"{values[key]:.3g}" if values else "-")

    def clear_figures(self) -> None:
        """Show ``-`` in the cells drawn so far (another decoder's figures)."""
        for row in range(self.rowCount()):
            for column in range(self.columnCount()):
                item = self.item(row, column)
                if item is not None:
                    item.setText("-")
