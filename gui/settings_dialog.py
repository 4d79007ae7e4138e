"""The settings dialog: folders, recording limit, marker buttons, shortcuts, theme."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .settings import Settings

SHORTCUTS = {"record": "Record", "stop": "Stop recording", "marker": "Send marker"}


class SettingsDialog(QDialog):
    """Edit the user's settings; they are written when the dialog is accepted.

    Folders and shortcuts apply from the next start, the theme at once.
    """

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.sessions = self._folder(settings.get("paths/sessions"), "default sessions folder")
        self.registry = self._folder(settings.get("paths/registry"), "default model registry")
        self.max_mb = QSpinBox()
        self.max_mb.setRange(0, 10_000_000)
        self.max_mb.setSuffix(" MB")
        self.max_mb.setSpecialValueText("no limit")
        self.max_mb.setValue(int(settings.get("recording/max_mb")))
        self.markers = QLineEdit(", ".join(settings.get("markers/buttons")))
        self.theme = QComboBox()
        self.theme.addItems(["dark", "light"])
        self.theme.setCurrentText(settings.get("appearance/theme"))
        self.keys = {
            key: QKeySequenceEdit(QKeySequence(settings.get(f"shortcuts/{key}")))
            for key in SHORTCUTS
        }
        form = QFormLayout()
        form.addRow("Sessions folder", self.sessions[0])
        form.addRow("Model registry", self.registry[0])
        form.addRow("Largest recording", self.max_mb)
        form.addRow("Marker buttons", self.markers)
        form.addRow("Theme", self.theme)
        for key, label in SHORTCUTS.items():
            form.addRow(label, self.keys[key])
        location = QLabel(f"stored in {settings.path}")
        location.setStyleSheet("color: gray;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(location)
        layout.addWidget(buttons)

    def _folder(self, value: str, placeholder: str) -> tuple[QWidget, QLineEdit]:
        line = QLineEdit(value)
        line.setPlaceholderText(placeholder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(
            lambda: line.setText(QFileDialog.getExistingDirectory(self, placeholder) or line.text())
        )
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(line, 1)
        layout.addWidget(browse)
        return row, line

    def accept(self) -> None:
        """Write the settings, then close."""
        settings = self.settings
        settings.set("paths/sessions", self.sessions[1].text().strip())
        settings.set("paths/registry", self.registry[1].text().strip())
        settings.set("recording/max_mb", self.max_mb.value())
        markers = [text.strip() for text in self.markers.text().split(",") if text.strip()]
        settings.set("markers/buttons", markers)
        settings.set("appearance/theme", self.theme.currentText())
        for key, edit in self.keys.items():
            sequence = edit.keySequence().toString()
            if sequence:
                settings.set(f"shortcuts/{key}", sequence)
        settings.sync()
        super().accept()
