"""What the participant sees: fixation cross, cue arrow, imagery, rest, and the feedback bar."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from bci_app.session.calibration import CueState, Phase

# Direction of the cue arrow per class (degrees, 0 = right, counter-clockwise).
ARROWS = {"left_hand": 180.0, "right_hand": 0.0, "feet": 270.0, "tongue": 90.0}


class CueDisplay(QWidget):
    """Paints the current phase of a cue run; during feedback, the decoder's bar."""

    def __init__(self) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 180)
        self.state: CueState | None = None
        self.caption = "calibration not started"
        self.feedback: np.ndarray | None = None  # smoothed probabilities
        self.classes: tuple[str, ...] = ()
        self.progress = ""

    def show_state(
        self,
        state: CueState | None,
        *,
        caption: str = "",
        progress: str = "",
        feedback: np.ndarray | None = None,
        classes: tuple[str, ...] = (),
    ) -> None:
        """Show ``state`` (None: only the caption) with the feedback bars when given."""
        self.state = state
        self.caption = caption
        self.progress = progress
        self.feedback = None if feedback is None else np.asarray(feedback, dtype=float)
        self.classes = classes
        self.update()

    @property
    def phase(self) -> Phase | None:
        """Return the phase shown."""
        return self.state.phase if self.state is not None else None

    def paintEvent(self, event) -> None:
        """Draw the phase."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#0b0c0e"))
        centre = QPointF(self.width() / 2, self.height() / 2)
        size = min(self.width(), self.height()) * 0.3
        white = QColor("#f2f2f2")
        phase = self.phase
        if phase in (Phase.FIXATION, Phase.CUE, Phase.IMAGERY):
            painter.setPen(QPen(white, max(3.0, size / 18)))
            painter.drawLine(centre - QPointF(size / 2, 0), centre + QPointF(size / 2, 0))
            painter.drawLine(centre - QPointF(0, size / 2), centre + QPointF(0, size / 2))
        if phase in (Phase.CUE, Phase.IMAGERY) and self.state.trial is not None:
            colour = QColor("#ff5d5d") if phase is Phase.CUE else QColor(255, 93, 93, 90)
            self._cue(painter, centre, size, self.state.trial.label, colour)
        if self.feedback is not None and phase in (Phase.IMAGERY, Phase.CUE):
            self._bars(painter, centre, size)
        painter.setPen(white)
        font = QFont(self.font())
        font.setPointSizeF(max(10.0, size / 10))
        painter.setFont(font)
        text = self.caption or _phase_text(phase)
        painter.drawText(
            QRectF(0, self.height() * 0.78, self.width(), self.height() * 0.2),
            Qt.AlignmentFlag.AlignCenter,
            text,
        )
        small = QFont(self.font())
        small.setPointSizeF(max(8.0, size / 16))
        painter.setFont(small)
        painter.drawText(
            QRectF(8, 4, self.width() - 16, 30), Qt.AlignmentFlag.AlignRight, self.progress
        )
        painter.end()

    def _cue(self, painter: QPainter, centre: QPointF, size: float, label: str, colour: QColor):
        angle = ARROWS.get(label)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        if angle is None:  # a class without a direction: its name
            painter.setPen(colour)
            font = QFont(self.font())
            font.setPointSizeF(max(12.0, size / 5))
            painter.setFont(font)
            painter.drawText(
                QRectF(0, centre.y() - size, self.width(), size / 2),
                Qt.AlignmentFlag.AlignCenter,
                label,
            )
            return
        radians = np.deg2rad(angle)
        direction = QPointF(np.cos(radians), -np.sin(radians))
        normal = QPointF(-direction.y(), direction.x())
        tip = centre + direction * size
        base = centre + direction * (size * 0.45)
        head = QPolygonF([tip, base + normal * (size * 0.3), base - normal * (size * 0.3)])
        painter.drawPolygon(head)
        shaft = QPolygonF(
            [
                centre + normal * (size * 0.1),
                base + normal * (size * 0.1),
                base - normal * (size * 0.1),
                centre - normal * (size * 0.1),
            ]
        )
        painter.drawPolygon(shaft)

    def _bars(self, painter: QPainter, centre: QPointF, size: float) -> None:
        values = self.feedback
        painter.setPen(Qt.PenStyle.NoPen)
        if values.size == 2 and set(self.classes) <= {"left_hand", "right_hand"}:
            # One bar from the centre: left for the first class, right for the second.
            side = 1.0 if self.classes[1] == "right_hand" else -1.0
            position = float(np.clip(values[1] - values[0], -1.0, 1.0)) * side
            width = position * self.width() * 0.45
            painter.setBrush(QColor("#4fc3f7"))
            top = centre.y() + size * 0.75
            painter.drawRect(QRectF(centre.x(), top, width, size * 0.18).normalized())
            return
        count = values.size
        slot = self.width() * 0.6 / count
        left = self.width() * 0.2
        bottom = self.height() * 0.75
        for index, value in enumerate(values):
            height = float(np.clip(value, 0, 1)) * self.height() * 0.35
            painter.setBrush(QColor("#4fc3f7"))
            painter.drawRect(
                QRectF(left + index * slot + slot * 0.15, bottom - height, slot * 0.7, height)
            )


def _phase_text(phase: Phase | None) -> str:
    return {
        None: "",
        Phase.WAITING: "get ready",
        Phase.FIXATION: "",
        Phase.CUE: "",
        Phase.IMAGERY: "imagine the movement",
        Phase.REST: "rest",
        Phase.DONE: "done",
    }[phase]
