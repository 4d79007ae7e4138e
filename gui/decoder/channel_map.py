"""The dialog mapping each channel of a model to a channel of the stream it decodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
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
