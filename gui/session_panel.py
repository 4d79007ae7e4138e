"""The session panel: pseudonymous subject, operator notes, recording, markers, the report."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bci_app.session.metadata import SessionInfo
from bci_app.session.subject import check_subject_id, load_key, pseudonym

from .controller import Controller
from .theme import Theme


class SessionPanel(QWidget):
    """Start a session, record, send markers, write notes, make the report."""

    def __init__(self, controller: Controller, theme: Theme) -> None:
        super().__init__()
        self.controller = controller
        self.theme = theme
        self.failure_box: QMessageBox | None = None
        self.report_path: Path | None = None
        self._failure_handled = False
        self._build()
        controller.recording_changed.connect(self._refresh)
        controller.session_changed.connect(self._refresh)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.timer.start(250)
        self._refresh()

    def _build(self) -> None:
        self.identifier = QLineEdit()
        self.identifier.setPlaceholderText("hospital number or name: never stored")
        self.identifier.textChanged.connect(self._identifier_changed)
        self.subject = QLineEdit()
        self.subject.setPlaceholderText("sub-XXXXXXXX or a site code such as P017")
        self.label = QLineEdit()
        self.label.setPlaceholderText("calibration, day2…")
        self.operator = QLineEdit(self.controller.settings.get("session/operator"))
        self.operator.setPlaceholderText("staff initials")
        self.start_session_button = QPushButton("Start session")
        self.start_session_button.clicked.connect(self.start_session)
        self.session_label = QLabel("no session")
        self.session_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Identifier", self.identifier)
        form.addRow("Subject id", self.subject)
        form.addRow("Session", self.label)
        form.addRow("Operator", self.operator)
        session_box = QGroupBox("Session")
        session_layout = QVBoxLayout(session_box)
        session_layout.addLayout(form)
        session_layout.addWidget(self.start_session_button)
        session_layout.addWidget(self.session_label)

        self.record_button = QPushButton("● Record")
        self.record_button.clicked.connect(self.record)
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.clicked.connect(self.stop_recording)
        self.recording_label = QLabel("not recording")
        self.recording_label.setWordWrap(True)
        record_row = QHBoxLayout()
        record_row.addWidget(self.record_button)
        record_row.addWidget(self.stop_button)
        recording_box = QGroupBox("Recording")
        recording_layout = QVBoxLayout(recording_box)
        recording_layout.addLayout(record_row)
        recording_layout.addWidget(self.recording_label)

        self.marker_text = QLineEdit()
        self.marker_text.setPlaceholderText("marker text, Enter to send")
        self.marker_text.returnPressed.connect(self.send_typed_marker)
        send = QPushButton("Send")
        send.clicked.connect(self.send_typed_marker)
        marker_row = QHBoxLayout()
        marker_row.addWidget(self.marker_text, 1)
        marker_row.addWidget(send)
        quick = QHBoxLayout()
        self.quick_buttons = []
        for text in self.controller.settings.get("markers/buttons"):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, t=text: self.send_marker(t))
            quick.addWidget(button)
            self.quick_buttons.append(button)
        markers_box = QGroupBox("Markers")
        markers_layout = QVBoxLayout(markers_box)
        markers_layout.addLayout(marker_row)
        markers_layout.addLayout(quick)

        self.note_text = QLineEdit()
        self.note_text.setPlaceholderText("operator note, Enter to add")
        self.note_text.returnPressed.connect(self.add_note)
        self.notes = QListWidget()
        notes_box = QGroupBox("Notes and markers of the session")
        notes_layout = QVBoxLayout(notes_box)
        notes_layout.addWidget(self.note_text)
        notes_layout.addWidget(self.notes, 1)

        self.report_button = QPushButton("Session report")
        self.report_button.clicked.connect(self.make_report)
        self.report_label = QLabel()
        self.report_label.setOpenExternalLinks(False)
        self.report_label.linkActivated.connect(lambda link: QDesktopServices.openUrl(QUrl(link)))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(session_box)
        layout.addWidget(recording_box)
        layout.addWidget(markers_box)
        layout.addWidget(notes_box, 1)
        layout.addWidget(self.report_button)
        layout.addWidget(self.report_label)

    # -- session ------------------------------------------------------------------------------------

    def _identifier_changed(self, text: str) -> None:
        if text.strip():
            self.subject.setText(pseudonym(text, load_key()))

    def start_session(self) -> bool:
        """Start a session with the subject id shown; return whether it started."""
        try:
            subject = check_subject_id(self.subject.text())
            info = SessionInfo(subject, self.label.text(), self.operator.text().strip())
            session = self.controller.new_session(info)
        except (ValueError, RuntimeError) as error:
            self.session_label.setText(str(error))
            self.session_label.setStyleSheet(f"color: {self.theme.bad};")
            return False
        self.identifier.clear()  # the identifier never stays on screen or goes to a file
        self.controller.settings.set("session/operator", info.operator)
        self.session_label.setStyleSheet("")
        self.session_label.setText(f"{info.subject}: {session.folder}")
        self.notes.clear()
        self.report_label.clear()
        return True

    # -- recording ------------------------------------------------------------------------------------

    def record(self) -> None:
        """Start recording (starting a session from the form first if there is none)."""
        if self.controller.session is None and not self.start_session():
            return
        if self.controller.recording:
            return
        self._failure_handled = False
        self.record_button.setEnabled(False)
        self.controller.start_recording()

    def stop_recording(self) -> None:
        """Stop the recording cleanly."""
        if self.controller.session is not None and self.controller.session.recorder is not None:
            self.stop_button.setEnabled(False)
            self.recording_label.setText("stopping: writing the files…")
            self.controller.stop_recording()

    def tick(self) -> None:
        """Show the recording's progress; close a recording the disk stopped."""
        session = self.controller.session
        if session is None or session.recorder is None:
            return
        status = session.status()
        if status.failure and not self._failure_handled:
            self._failure_handled = True
            self.controller.stop_recording(done=self._stopped_by_failure)
            return
        if status.recording:
            self.recording_label.setText(
                f"● recording {status.path.name}: {status.seconds:.0f} s, "
                f"{status.bytes_written / 1e6:.1f} MB"
            )
            self.recording_label.setStyleSheet(f"color: {self.theme.bad}; font-weight: bold;")

    def _stopped_by_failure(self, result) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Recording stopped")
        box.setText(f"The recording stopped: {result.stop_reason}.")
        box.setInformativeText(
            f"Everything recorded before is kept: {result.xdf} ({result.bytes_written:,} bytes). "
            "Free some space (or choose another sessions folder in the settings) and record again."
        )
        self.failure_box = box
        box.open()

    def _refresh(self) -> None:
        session = self.controller.session
        recording = self.controller.recording
        self.record_button.setEnabled(not recording)
        self.stop_button.setEnabled(recording)
        if session is not None and not recording:
            status = session.status()
            if status.path is not None:
                self.recording_label.setText(
                    f"last recording: {status.path.name} ({status.bytes_written / 1e6:.1f} MB)"
                    + (f", stopped: {status.failure}" if status.failure else "")
                )
            else:
                self.recording_label.setText("not recording")
            self.recording_label.setStyleSheet("")
        if session is not None:
            self._show_notes()

    # -- markers and notes ----------------------------------------------------------------------------

    def send_marker(self, text: str) -> None:
        """Send an operator marker."""
        text = text.strip()
        if text:
            self.controller.marker(text)
            self._show_notes()

    def send_typed_marker(self) -> None:
        """Send the typed marker."""
        self.send_marker(self.marker_text.text())
        self.marker_text.clear()

    def add_note(self) -> None:
        """Add the typed note to the session."""
        text = self.note_text.text().strip()
        if not text:
            return
        if self.controller.session is None:
            self.session_label.setText("start a session to keep notes")
            return
        self.controller.session.note(text)
        self.note_text.clear()
        self._show_notes()

    def _show_notes(self) -> None:
        session = self.controller.session
        if session is None:
            return
        notes = session.info.notes
        if self.notes.count() == len(notes):
            return
        self.notes.clear()
        for note in notes:
            self.notes.addItem(f"{note.time[11:19]}  {note.kind}: {note.text}")
        self.notes.scrollToBottom()

    # -- report ---------------------------------------------------------------------------------------

    def make_report(self) -> None:
        """Write the session report (HTML with plots) in a worker."""
        from bci_app.session.report import write_report

        session = self.controller.session
        if session is None:
            self.report_label.setText("no session")
            return
        if session.recording:
            self.report_label.setText("stop the recording first")
            return
        folder = session.folder
        self.report_button.setEnabled(False)
        self.report_label.setText("writing the report…")

        def written(path: Path) -> None:
            self.report_path = path
            self.report_button.setEnabled(True)
            self.report_label.setText(f"<a href='{path.as_uri()}'>{path}</a>")

        def failed(error: BaseException) -> None:
            self.report_button.setEnabled(True)
            self.report_label.setText(f"report failed: {error}")

        self.controller.tasks.run(
            "session report", lambda: write_report(folder), done=written, failed=failed
        )

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self.theme = theme
