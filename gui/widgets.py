"""Small widgets shared by the panels: the alert banner, a big label."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel

from .theme import Theme


class Banner(QLabel):
    """A coloured line across a panel: an alarm (stays) or good news (hides by itself)."""

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setContentsMargins(8, 4, 8, 4)
        self._theme = theme
        self._kind = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_message)
        self.hide()

    @property
    def kind(self) -> str:
        """Return ``alarm``, ``ok`` or ``info`` while shown, else an empty string."""
        return self._kind if self.isVisible() else ""

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self._theme = theme
        if self._kind:
            self._paint()

    def show_message(self, kind: str, text: str, *, seconds: float | None = None) -> None:
        """Show ``text`` as ``alarm``, ``ok`` or ``info``; hide after ``seconds`` if given."""
        self._kind = kind
        if self.text() != text:
            self.setText(text)
        self._paint()
        self.show()
        if seconds is not None:
            self._timer.start(round(seconds * 1000))
        else:
            self._timer.stop()

    def clear_message(self) -> None:
        """Hide the banner."""
        self._kind = ""
        self._timer.stop()
        self.hide()

    def _paint(self) -> None:
        colour = {"alarm": self._theme.alarm, "ok": self._theme.ok}.get(self._kind, "#455a64")
        self.setStyleSheet(f"background: {colour}; color: white; font-weight: bold;")
