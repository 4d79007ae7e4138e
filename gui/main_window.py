"""The main window: panels in docks and tabs, menus, shortcuts, themes, and a safe close.

Streams on the left, signals and calibration in the middle, decoder and session on the
right, the log below.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from .calibration_panel import CalibrationPanel
from .controller import Controller
from .decoder.panel import DecoderPanel
from .log_panel import LogPanel
from .session_panel import SessionPanel
from .settings import Settings
from .streams_panel import StreamsPanel
from .theme import apply_palette, theme
from .viewer.viewer import SignalViewer


class MainWindow(QMainWindow):
    """The clinician desktop.

    Parameters
    ----------
    settings : Settings
        The user's settings.
    auto_refresh : bool
        Look for LSL streams every few seconds.
    """

    def __init__(self, settings: Settings, *, auto_refresh: bool = True) -> None:
        super().__init__()
        self.settings = settings
        self.theme = theme(settings.get("appearance/theme"))
        self.controller = Controller(settings)
        self.setWindowTitle("bci-app")
        self.viewer = SignalViewer(self.controller, self.theme)
        self.calibration = CalibrationPanel(self.controller, self.theme)
        self.streams = StreamsPanel(self.controller, self.theme, auto_refresh=auto_refresh)
        self.decoder = DecoderPanel(self.controller, self.theme)
        self.session = SessionPanel(self.controller, self.theme)
        self.log = LogPanel(self.controller, self.theme)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.viewer, "Signals")
        self.tabs.addTab(self.calibration, "Calibration")
        self.setCentralWidget(self.tabs)
        self.streams_dock = self._dock(
            "Streams", self.streams, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.decoder_dock = self._dock(
            "Decoder", self.decoder, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.session_dock = self._dock(
            "Session", self.session, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.tabifyDockWidget(self.decoder_dock, self.session_dock)
        self.decoder_dock.raise_()
        self.log_dock = self._dock("Log", self.log, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.recording_badge = QLabel()
        self.statusBar().addPermanentWidget(self.recording_badge)
        self.statusBar().showMessage(f"settings: {settings.path}", 8000)
        self.controller.notice.connect(self._notice)
        self.controller.recording_changed.connect(self._recording_badge)
        self._build_menus()
        self._closing = False
        self.resize(1500, 900)
        self.resizeDocks([self.log_dock], [150], Qt.Orientation.Vertical)
        self.resizeDocks(
            [self.streams_dock, self.decoder_dock], [330, 380], Qt.Orientation.Horizontal
        )
        geometry = settings.get_bytes("window/geometry")
        state = settings.get_bytes("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.apply_theme(self.theme.name)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    # -- menus and shortcuts --------------------------------------------------------------------

    def _build_menus(self) -> None:
        settings = self.settings
        file_menu = self.menuBar().addMenu("&File")
        play = QAction("Play a recording or simulator…", self)
        play.triggered.connect(self.streams.open_player)
        file_menu.addAction(play)
        preferences = QAction("Settings…", self)
        preferences.triggered.connect(self.open_settings)
        file_menu.addAction(preferences)
        file_menu.addSeparator()
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        session_menu = self.menuBar().addMenu("&Session")
        self.record_action = QAction("Record", self)
        self.record_action.setShortcut(QKeySequence(settings.get("shortcuts/record")))
        self.record_action.triggered.connect(self.session.record)
        self.stop_action = QAction("Stop recording", self)
        self.stop_action.setShortcut(QKeySequence(settings.get("shortcuts/stop")))
        self.stop_action.triggered.connect(self.session.stop_recording)
        self.marker_action = QAction("Send marker", self)
        self.marker_action.setShortcut(QKeySequence(settings.get("shortcuts/marker")))
        self.marker_action.triggered.connect(self.send_marker)
        report = QAction("Session report", self)
        report.triggered.connect(self.session.make_report)
        for action in (self.record_action, self.stop_action, self.marker_action, report):
            session_menu.addAction(action)
        for index, button in enumerate(self.session.quick_buttons[:9], start=1):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{index}"), self)
            shortcut.activated.connect(button.click)

        view_menu = self.menuBar().addMenu("&View")
        for name in ("dark", "light"):
            action = QAction(f"{name.capitalize()} theme", self)
            action.triggered.connect(lambda _=False, n=name: self.apply_theme(n))
            view_menu.addAction(action)
        view_menu.addSeparator()
        for dock in (self.streams_dock, self.decoder_dock, self.session_dock, self.log_dock):
            view_menu.addAction(dock.toggleViewAction())

        help_menu = self.menuBar().addMenu("&Help")
        keys = QAction("Keyboard shortcuts", self)
        keys.triggered.connect(self._show_shortcuts)
        help_menu.addAction(keys)

    def open_settings(self) -> None:
        """Edit the settings; the theme applies at once, the rest from the next start."""
        from .settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self)
        dialog.accepted.connect(lambda: self.apply_theme(self.settings.get("appearance/theme")))
        self.settings_dialog = dialog
        dialog.open()

    def send_marker(self) -> None:
        """Send the marker typed in the session panel (``marker`` when nothing is typed)."""
        text = self.session.marker_text.text().strip() or "marker"
        self.session.send_marker(text)
        self.session.marker_text.clear()

    def _show_shortcuts(self) -> None:
        settings = self.settings
        text = "\n".join(
            [
                f"{settings.get('shortcuts/record')}: record",
                f"{settings.get('shortcuts/stop')}: stop recording",
                f"{settings.get('shortcuts/marker')}: send the typed marker",
                "Ctrl+1..9: the quick marker buttons",
                "B (channel list): mark the channel bad / good",
            ]
        )
        QMessageBox.information(self, "Keyboard shortcuts", text)

    # -- appearance -----------------------------------------------------------------------------

    def apply_theme(self, name: str) -> None:
        """Switch to the ``dark`` or ``light`` theme (remembered)."""
        self.theme = theme(name)
        self.settings.set("appearance/theme", self.theme.name)
        app = QApplication.instance()
        if app is not None:
            apply_palette(app, self.theme)
        for panel in (
            self.viewer,
            self.calibration,
            self.streams,
            self.decoder,
            self.session,
            self.log,
        ):
            panel.set_theme(self.theme)

    def _notice(self, level: str, text: str) -> None:
        self.statusBar().showMessage(text, 10000 if level == "info" else 30000)

    def _recording_badge(self) -> None:
        if self.controller.recording:
            self.recording_badge.setText("● REC")
            self.recording_badge.setStyleSheet(f"color: {self.theme.bad}; font-weight: bold;")
        else:
            self.recording_badge.clear()

    # -- closing --------------------------------------------------------------------------------

    def confirm_close(self) -> bool:
        """Ask whether to stop the recording and quit (True: stop cleanly, then quit)."""
        answer = QMessageBox.question(
            self,
            "Recording in progress",
            "A recording is running. Stop it (everything recorded is saved) and quit?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        """Never lose a recording: ask, stop it cleanly, then close."""
        stopping = "stop recording" in self.controller.tasks.running
        if self.controller.recording or stopping:
            event.ignore()
            if self.controller.recording and not self._closing:
                if not self.confirm_close():
                    return
                self.controller.stop_recording()
            self._closing = True
            self.statusBar().showMessage("finishing the recording before quitting…")
            QTimer.singleShot(200, self.close)
            return
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.set("window/state", self.saveState())
        self.settings.sync()
        self.viewer.stop()
        self.log.close_log()
        self.calibration.close_streams()
        for timer in (self.streams.refresh_timer, self.streams.status_timer):
            timer.stop()
        self.controller.shutdown()
        event.accept()
