"""The log panel: stream losses and warnings of the acquisition, the decoders' events, errors."""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from acquisition.events import EventKind

from .controller import Controller
from .theme import Theme

_LEVELS = {
    EventKind.CONNECTED: "info",
    EventKind.RESUMED: "info",
    EventKind.RECORDING: "info",
    EventKind.STALLED: "warning",
    EventKind.LOST: "warning",
    EventKind.WARNING: "warning",
    EventKind.ERROR: "error",
}
_MAX_ROWS = 2000


@dataclass(frozen=True)
class LogEntry:
    """One line of the log."""

    time: float  # wall clock
    source: str
    level: str
    message: str


class _Collector(logging.Handler):
    """Keeps warnings of the Python loggers (other than acquisition's, read from its log)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: deque[LogEntry] = deque(maxlen=_MAX_ROWS)

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("acquisition"):
            return
        level = "error" if record.levelno >= logging.ERROR else "warning"
        self.records.append(LogEntry(record.created, record.name, level, record.getMessage()))


class LogPanel(QWidget):
    """Every event worth an operator's eye, newest last, filterable by level."""

    def __init__(self, controller: Controller, theme: Theme) -> None:
        super().__init__()
        self.controller = controller
        self.theme = theme
        self.entries: list[LogEntry] = []
        self._event_seq = controller.acquisition.events.next_seq
        self._runner_seen: dict[str, tuple[float, str] | None] = {}
        self._dropped: dict[str, int] = {}
        self._collector = _Collector()
        logging.getLogger().addHandler(self._collector)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["time", "level", "source", "message"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.level_box = QComboBox()
        self.level_box.addItems(["all", "warnings and errors", "errors"])
        self.level_box.currentIndexChanged.connect(self._rebuild)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        row = QHBoxLayout()
        row.addWidget(self.level_box)
        row.addStretch(1)
        row.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.table)
        controller.notice.connect(self._notice)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.poll)
        self.timer.start(250)

    def messages(self, level: str | None = None) -> list[str]:
        """Return the messages logged (of one level when given)."""
        return [e.message for e in self.entries if level is None or e.level == level]

    def poll(self) -> None:
        """Take the new events of the acquisition, the decoders and the Python loggers."""
        new: list[LogEntry] = []
        events = self.controller.acquisition.events.since(self._event_seq)
        if events:
            self._event_seq = events[-1].seq + 1
        offset = time.time() - _lsl_now()
        for event in events:
            new.append(
                LogEntry(event.time + offset, event.stream, _LEVELS[event.kind], event.message)
            )
        for name, live in list(self.controller.decoders.items()):
            new.extend(self._runner_entries(name, live.runner, offset))
        while self._collector.records:
            new.append(self._collector.records.popleft())
        for entry in sorted(new, key=lambda e: e.time):
            self._add(entry)

    def _runner_entries(self, name: str, runner, offset: float) -> list[LogEntry]:
        entries = []
        recent = list(runner.events)
        last = self._runner_seen.get(name)
        start = 0
        if last is not None:
            start = next((i + 1 for i, item in enumerate(recent) if item is last), 0)
        for stamp, message in recent[start:]:
            level = "warning" if "skipped" in message or "not published" in message else "info"
            entries.append(LogEntry(stamp + offset, f"decoder {name}", level, message))
        if recent:
            self._runner_seen[name] = recent[-1]
        dropped = runner.counts.dropped
        before = self._dropped.get(name, 0)
        if dropped > before:
            self._dropped[name] = dropped
            entries.append(
                LogEntry(
                    time.time(),
                    f"decoder {name}",
                    "warning",
                    f"{dropped - before} windows dropped (decoding behind the stream)",
                )
            )
        return entries

    def _notice(self, level: str, text: str) -> None:
        self._add(LogEntry(time.time(), "app", level, text))

    def _add(self, entry: LogEntry) -> None:
        self.entries.append(entry)
        if len(self.entries) > _MAX_ROWS:
            del self.entries[: len(self.entries) - _MAX_ROWS]
            self._rebuild()
            return
        if self._shown(entry):
            self._append_row(entry)

    def _shown(self, entry: LogEntry) -> bool:
        wanted = self.level_box.currentIndex()
        return wanted == 0 or (wanted == 1 and entry.level != "info") or entry.level == "error"

    def _append_row(self, entry: LogEntry) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        stamp = time.strftime("%H:%M:%S", time.localtime(entry.time))
        colour = {"error": self.theme.bad, "warning": self.theme.marker}.get(entry.level)
        for column, text in enumerate((stamp, entry.level, entry.source, entry.message)):
            item = QTableWidgetItem(text)
            if colour:
                item.setForeground(QBrush(QColor(colour)))
            self.table.setItem(row, column, item)
        self.table.scrollToBottom()

    def _rebuild(self) -> None:
        self.table.setRowCount(0)
        for entry in self.entries:
            if self._shown(entry):
                self._append_row(entry)

    def clear(self) -> None:
        """Forget the lines shown."""
        self.entries.clear()
        self.table.setRowCount(0)

    def close_log(self) -> None:
        """Stop collecting the Python loggers' warnings."""
        self.timer.stop()
        logging.getLogger().removeHandler(self._collector)

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self.theme = theme
        self._rebuild()


def _lsl_now() -> float:
    import pylsl

    return pylsl.local_clock()
