"""The streams panel: visible LSL streams, required ones, connect/disconnect, the player."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from acquisition.events import StreamStatus
from bci_app.session.sources import RECORDINGS, PlaySource

from .controller import Controller
from .theme import Theme

COLUMNS = ("", "Name", "Type", "Ch", "Rate", "Status", "Source id")
_REFRESH_MS = 3000


class StreamsPanel(QWidget):
    """Every LSL stream in sight, the ones this session needs, and the players.

    Parameters
    ----------
    controller : Controller
        The application's state.
    theme : Theme
        Colours.
    auto_refresh : bool
        Look for streams every few seconds.
    """

    def __init__(self, controller: Controller, theme: Theme, *, auto_refresh: bool = True):
        super().__init__()
        self.controller = controller
        self.theme = theme
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemDoubleClicked.connect(lambda _: self.connect_selected())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.connect_button = QPushButton("Connect")
        self.connect_button.clicked.connect(self.connect_selected)
        self.disconnect_button = QPushButton("Disconnect")
        self.disconnect_button.clicked.connect(self.disconnect_selected)
        self.required_button = QPushButton("Required")
        self.required_button.setMinimumWidth(10)
        self.required_button.setToolTip("Mark the selected stream as required by this session")
        self.required_button.clicked.connect(self.toggle_required)
        self.play_button = QPushButton("Play…")
        self.play_button.setToolTip("Stream a file, a real recording or a simulator over LSL")
        self.play_button.clicked.connect(self.open_player)
        self.players = QListWidget()
        self.players.setMaximumHeight(80)
        self.stop_player_button = QPushButton("Stop player")
        self.stop_player_button.clicked.connect(self.stop_selected_player)
        self.summary = QLabel()
        buttons = QHBoxLayout()
        for button in (
            self.refresh_button,
            self.connect_button,
            self.disconnect_button,
            self.required_button,
        ):
            buttons.addWidget(button)
        players = QHBoxLayout()
        players.addWidget(self.play_button)
        players.addWidget(self.stop_player_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Players (file or simulator streamed over LSL)"))
        layout.addWidget(self.players)
        layout.addLayout(players)
        controller.streams_found.connect(lambda _: self.render())
        for signal in (controller.stream_opened, controller.stream_closed):
            signal.connect(lambda _: self.render())
        controller.players_changed.connect(self._render_players)
        self.status_timer = QTimer(self)
        self.status_timer.timeout.connect(self.render)
        self.status_timer.start(500)
        self.refresh_timer = QTimer(self)
        self.refresh_timer.timeout.connect(self.refresh)
        if auto_refresh:
            self.refresh_timer.start(_REFRESH_MS)
            self.refresh()

    @property
    def required(self) -> list[str]:
        """Return the names of the streams this session requires."""
        return list(self.controller.settings.get("streams/required"))

    def refresh(self) -> None:
        """Look for streams in a worker (skipped while a search runs)."""
        if "stream discovery" not in self.controller.tasks.running:
            self.controller.discover()

    def rows(self) -> list[dict[str, str]]:
        """Return what the table shows: one dict per row (name, status, required...)."""
        open_inlets = self.controller.acquisition.inlets
        found = {s.name: s for s in self.controller.discovered}
        names = sorted(set(found) | set(open_inlets) | set(self.required))
        rows = []
        for name in names:
            inlet = open_inlets.get(name)
            stream = inlet.description if inlet is not None else found.get(name)
            if inlet is not None:
                status = inlet.status.value
            elif name in self.controller.pending:
                status = "connecting"
            elif stream is not None:
                status = "available"
            else:
                status = "missing"
            rate = (
                "-" if stream is None else (f"{stream.sfreq:g} Hz" if stream.regular else "events")
            )
            rows.append(
                {
                    "name": name,
                    "required": "★" if name in self.required else "",
                    "type": stream.stype if stream else "",
                    "channels": str(stream.n_channels) if stream else "",
                    "rate": rate,
                    "status": status,
                    "source_id": stream.source_id if stream else "",
                }
            )
        return rows

    def render(self) -> None:
        """Redraw the table from the discovered and open streams."""
        rows = self.rows()
        selected = self.selected_name()
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            values = (
                row["required"],
                row["name"],
                row["type"],
                row["channels"],
                row["rate"],
                row["status"],
                row["source_id"],
            )
            colour = self._colour(row)
            for column, value in enumerate(values):
                item = self.table.item(index, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(index, column, item)
                if item.text() != value:
                    item.setText(value)
                item.setForeground(QBrush(QColor(colour)))
                if row["status"] == "missing":
                    item.setToolTip("required by this session but not found on the network")
        if selected:
            for index, row in enumerate(rows):
                if row["name"] == selected:
                    self._select_row(index)
        missing = [r["name"] for r in rows if r["status"] == "missing"]
        connected = sum(r["status"] == StreamStatus.CONNECTED.value for r in rows)
        text = f"{len(rows)} streams, {connected} connected"
        if missing:
            text += f"; missing required: {', '.join(missing)}"
        self.summary.setText(text)
        self.summary.setStyleSheet(f"color: {self.theme.bad};" if missing else "")

    def _colour(self, row: dict[str, str]) -> str:
        if row["status"] in ("missing", "lost", "stalled", "incompatible"):
            return self.theme.bad
        if row["status"] == "connected":
            return self.theme.ok if self.theme.name == "light" else "#7bd88f"
        return self.theme.text

    def selected_name(self) -> str | None:
        """Return the name of the selected stream."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 1)
        return item.text() if item else None

    def select(self, name: str) -> None:
        """Select the row of stream ``name``."""
        for index in range(self.table.rowCount()):
            if self.table.item(index, 1).text() == name:
                self._select_row(index)
                return
        raise LookupError(f"no stream '{name}' in the table")

    def _select_row(self, row: int) -> None:
        """Select one row whatever modifier keys are held (selectRow would extend or toggle)."""
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().select(self.table.model().index(row, 0), flags)

    def connect_selected(self) -> None:
        """Open the selected stream."""
        name = self.selected_name()
        stream = next((s for s in self.controller.discovered if s.name == name), None)
        if stream is not None:
            self.controller.open_stream(stream.name, stream.source_id)

    def disconnect_selected(self) -> None:
        """Close the selected stream."""
        name = self.selected_name()
        if name and name in self.controller.acquisition.inlets:
            self.controller.close_stream(name)

    def toggle_required(self) -> None:
        """Mark the selected stream required by the session (or no longer)."""
        name = self.selected_name()
        if not name:
            return
        required = self.required
        if name in required:
            required.remove(name)
        else:
            required.append(name)
        self.controller.settings.set("streams/required", required)
        self.render()

    def open_player(self) -> None:
        """Ask what to stream, then start a player."""
        dialog = PlayerDialog(self)
        dialog.accepted.connect(lambda: self.play(dialog.source(), dialog.name(), dialog.loop()))
        dialog.open()

    def play(self, source: PlaySource, name: str, loop: bool) -> None:
        """Start streaming ``source`` as ``name`` (loading happens in a worker)."""
        from bci_app.session.sources import load_source

        self.controller.play(
            lambda: load_source(source),
            name or source.default_name,
            loop=loop,
            source=source.origin,
        )

    def _render_players(self) -> None:
        self.players.clear()
        for name, player in self.controller.players.items():
            loop = ", looping" if player.loop else ""
            self.players.addItem(f"{name}: {player.source or 'recording'}{loop}")

    def stop_selected_player(self) -> None:
        """Stop the selected player."""
        item = self.players.currentItem()
        if item is not None:
            self.controller.stop_player(item.text().split(":", 1)[0])

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self.theme = theme
        self.render()


class PlayerDialog(QDialog):
    """Choose what to stream: a file, a real recording, or a simulator."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Play a recording or a simulator")
        self.kind = QComboBox()
        self.kind.addItem("Recording file", "file")
        self.kind.addItem("Real recording", "recording")
        self.kind.addItem("Simulator", "simulator")
        self.path = QLineEdit()
        self.path.setPlaceholderText("FIF, EDF/BDF, BrainVision, EEGLAB, BIDS or XDF file")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.recording = QComboBox()
        self.recording.addItems(RECORDINGS)
        self.task = QComboBox()
        self.task.addItem("motor_imagery")
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(5.0, 3600.0)
        self.duration.setValue(120.0)
        self.duration.setSuffix(" s")
        self.stream_name = QLineEdit()
        self.stream_name.setPlaceholderText("default: from the source")
        self.loop_box = QCheckBox("Loop")
        self.loop_box.setChecked(True)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Source", self.kind)
        form.addRow("File", path_row)
        form.addRow("Recording", self.recording)
        form.addRow("Simulated task", self.task)
        form.addRow("Seed", self.seed)
        form.addRow("Duration", self.duration)
        form.addRow("Stream name", self.stream_name)
        form.addRow("", self.loop_box)
        self.error = QLabel()
        self.error.setStyleSheet("color: #e0555a;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Recording", "", "Recordings (*.fif *.fif.gz *.edf *.bdf *.vhdr *.set *.xdf)"
        )
        if path:
            self.path.setText(path)
            self.kind.setCurrentIndex(0)

    def source(self) -> PlaySource:
        """Return the chosen source."""
        kind = self.kind.currentData()
        value = {
            "file": self.path.text().strip(),
            "recording": self.recording.currentText(),
            "simulator": self.task.currentText(),
        }[kind]
        return PlaySource(kind, value, self.seed.value(), self.duration.value())

    def name(self) -> str:
        """Return the stream name typed (empty for the default)."""
        return self.stream_name.text().strip()

    def loop(self) -> bool:
        """Return whether the player loops."""
        return self.loop_box.isChecked()

    def _accept(self) -> None:
        try:
            self.source()
        except ValueError as error:
            self.error.setText(str(error))
            return
        self.accept()
