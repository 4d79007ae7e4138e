"""The calibration panel: the form of a calibration run, and what the run shows.

The run itself (:class:`~bci_app.session.calibration_run.CalibrationRun`: motor-imagery cues
recorded, a decoder trained on them, then online feedback) decides everything; this panel
builds its request from the form, ticks it from a timer, and draws its stages and cues.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pylsl
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from acquisition.inlet import SignalInlet
from bci_app.session.calibration import CalibrationPlan
from bci_app.session.calibration_run import (
    SIMULATED_STREAMS,
    CalibrationRequest,
    CalibrationRun,
    CueView,
    Stage,
)

from .controller import Controller
from .cue_display import CueDisplay
from .theme import Theme

if TYPE_CHECKING:
    from bci_app.session.feedback import FeedbackScore
    from bci_app.session.training import CalibrationResult

SIMULATED = "(simulated participant)"
_CAPTIONED = (Stage.PREPARING, Stage.STARTING, Stage.WAITING)


class CalibrationPanel(QWidget):
    """Configure and run a calibration, then the feedback it enables."""

    def __init__(self, controller: Controller, theme: Theme) -> None:
        super().__init__()
        self.controller = controller
        self.theme = theme
        self._participant_window: CueDisplay | None = None
        self._build()
        self.run = CalibrationRun(
            controller, pylsl.local_clock, on_stage=self._show_stage, on_cues=self._show_cues
        )
        controller.stream_opened.connect(lambda _: self._fill_streams())
        controller.stream_closed.connect(lambda _: self._fill_streams())
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.timer.start(15)

    # -- building -------------------------------------------------------------------------------

    def _build(self) -> None:
        settings = self.controller.settings
        self.classes = QLineEdit(", ".join(settings.get("calibration/classes")))
        self.trials = _int_box(2, 200, settings.get("calibration/trials_per_class"))
        self.fixation = _seconds_box(settings.get("calibration/fixation_s"))
        self.cue = _seconds_box(settings.get("calibration/cue_s"))
        self.imagery = _seconds_box(settings.get("calibration/imagery_s"))
        self.rest_min = _seconds_box(settings.get("calibration/rest_min_s"), minimum=0.0)
        self.rest_max = _seconds_box(settings.get("calibration/rest_max_s"), minimum=0.0)
        self.band_low = _frequency_box(8.0)
        self.band_high = _frequency_box(30.0)
        self.tmin = _seconds_box(0.5, minimum=0.0)
        self.tmax = _seconds_box(2.5)
        self.decoder = QComboBox()
        self.decoder.addItem(settings.get("calibration/decoder"))
        self.decoder.setEditable(False)
        self.feedback_trials = _int_box(0, 200, settings.get("calibration/feedback_trials"))
        self.source = QComboBox()
        self.adapt = QCheckBox("adapt online")
        self.adapt.setToolTip(
            "update decoders that learn from feedback (RLEEGNet) after each trial"
        )
        self.adapt.setChecked(True)
        rest = QHBoxLayout()
        rest.addWidget(self.rest_min)
        rest.addWidget(QLabel("to"))
        rest.addWidget(self.rest_max)
        window = QHBoxLayout()
        window.addWidget(self.tmin)
        window.addWidget(QLabel("to"))
        window.addWidget(self.tmax)
        form = QFormLayout()
        form.addRow("Classes", self.classes)
        form.addRow("Trials per class", self.trials)
        form.addRow("Fixation", self.fixation)
        form.addRow("Cue", self.cue)
        form.addRow("Imagery", self.imagery)
        form.addRow("Rest", rest)
        form.addRow("Trained on", window)
        self.tmin.setToolTip("training window start, seconds after the cue")
        self.tmax.setToolTip("training window end, seconds after the cue")
        band = QHBoxLayout()
        band.addWidget(self.band_low)
        band.addWidget(QLabel("to"))
        band.addWidget(self.band_high)
        form.addRow("Decoder", self.decoder)
        form.addRow("Band", band)
        self.band_low.setToolTip("band-pass declared by decoders that take one (0: none)")
        form.addRow("Signal", self.source)
        form.addRow("Feedback trials", self.feedback_trials)
        form.addRow("", self.adapt)
        self.start_button = QPushButton("Start calibration")
        self.start_button.clicked.connect(self.start)
        self.abort_button = QPushButton("Abort")
        self.abort_button.clicked.connect(self.abort)
        self.abort_button.setEnabled(False)
        self.status = QLabel("ready")
        self.status.setWordWrap(True)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.abort_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addLayout(form)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.status)
        left_layout.addWidget(self.result_label)
        left_layout.addStretch(1)
        self.display = CueDisplay()
        self.full_screen = QPushButton("Participant screen")
        self.full_screen.setToolTip("Show the cues in their own window (for a second monitor)")
        self.full_screen.clicked.connect(self._pop_out)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.display, 1)
        right_layout.addWidget(self.full_screen)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._fill_streams()
        self._fill_decoders()

    def _fill_decoders(self) -> None:
        from bci_app.session.training import trainable_decoders

        current = self.decoder.currentText()
        self.decoder.clear()
        self.decoder.addItems(trainable_decoders())
        self.decoder.setCurrentText(current)

    def _fill_streams(self) -> None:
        current = self.source.currentText()
        signals = sorted(
            name
            for name, inlet in self.controller.acquisition.inlets.items()
            if isinstance(inlet, SignalInlet) and not name.startswith(SIMULATED_STREAMS)
        )
        names = [SIMULATED, *signals]
        self.source.clear()
        self.source.addItems(names)
        if current in names:
            self.source.setCurrentText(current)

    def _pop_out(self) -> None:
        window = CueDisplay()
        window.setWindowTitle("bci-app: participant screen")
        window.resize(900, 650)
        self._participant_window = window
        window.show()

    # -- configuration --------------------------------------------------------------------------

    def read_plan(self) -> CalibrationPlan:
        """Return the plan the form describes (raises ValueError with what is wrong)."""
        classes = tuple(c for c in re.split(r"[,\s]+", self.classes.text()) if c)
        return CalibrationPlan(
            classes=classes,
            trials_per_class=self.trials.value(),
            fixation_s=self.fixation.value(),
            cue_s=self.cue.value(),
            imagery_s=self.imagery.value(),
            rest_s=(self.rest_min.value(), self.rest_max.value()),
            tmin=self.tmin.value(),
            tmax=self.tmax.value(),
        )

    def _save_settings(self, plan: CalibrationPlan) -> None:
        settings = self.controller.settings
        settings.set("calibration/classes", list(plan.classes))
        settings.set("calibration/trials_per_class", plan.trials_per_class)
        settings.set("calibration/fixation_s", plan.fixation_s)
        settings.set("calibration/cue_s", plan.cue_s)
        settings.set("calibration/imagery_s", plan.imagery_s)
        settings.set("calibration/rest_min_s", plan.rest_s[0])
        settings.set("calibration/rest_max_s", plan.rest_s[1])
        settings.set("calibration/decoder", self.decoder.currentText())
        settings.set("calibration/feedback_trials", self.feedback_trials.value())

    def request(self) -> CalibrationRequest:
        """Return the run the form describes (raises ValueError with what is wrong)."""
        source = self.source.currentText()
        return CalibrationRequest(
            plan=self.read_plan(),
            decoder=self.decoder.currentText(),
            band=(self.band_low.value(), self.band_high.value()) if self.band_low.value() else None,
            feedback_trials=self.feedback_trials.value(),
            adapt=self.adapt.isChecked(),
            stream=None if source == SIMULATED else source,
        )

    # -- the run --------------------------------------------------------------------------------

    @property
    def stage(self) -> Stage:
        """Return the run's stage."""
        return self.run.stage

    @property
    def result(self) -> CalibrationResult | None:
        """Return the run's trained decoder (None before)."""
        return self.run.result

    @property
    def score(self) -> FeedbackScore | None:
        """Return the run's feedback score (None before feedback)."""
        return self.run.score

    def start(self) -> None:
        """Start a calibration run (a session must be open, nothing being recorded)."""
        if self.run.stage.running:
            return
        try:
            request = self.request()
        except ValueError as error:
            self.run.refuse(str(error))
            return
        if self.run.start(request):
            self._save_settings(request.plan)

    def abort(self) -> None:
        """Stop the run; a calibration recording is closed cleanly (its data kept)."""
        self.run.abort()

    def tick(self) -> None:
        """Advance the run (called by the timer)."""
        self.run.tick(self.run.clock())

    def _show_stage(self, stage: Stage, text: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {self.theme.bad};" if stage is Stage.FAILED else "")
        self.start_button.setEnabled(not stage.running)
        self.abort_button.setEnabled(stage.running)
        if stage is Stage.PREPARING:
            self.result_label.clear()
        if stage in _CAPTIONED:
            self.display.show_state(None, caption=text)
        result = self.run.result
        if result is not None and stage in (Stage.LOADING, Stage.DONE):
            self.result_label.setText(
                f"{result.record.ref}: cross-validated accuracy {result.accuracy:.2f} "
                f"(balanced {result.balanced_accuracy:.2f}, chance {result.chance:.2f}) on "
                f"{result.n_trials} trials; run folder {result.folder}"
            )

    def _show_cues(self, view: CueView) -> None:
        for display in self._displays():
            display.show_state(
                view.state,
                caption=view.caption,
                progress=view.progress,
                feedback=view.feedback,
                classes=view.classes,
            )

    def _displays(self) -> list[CueDisplay]:
        window = self._participant_window
        return [self.display] + ([window] if window is not None and window.isVisible() else [])

    def close_streams(self) -> None:
        """End a running run and remove the cue stream from the network."""
        self.run.close()

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self.theme = theme


def _int_box(low: int, high: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(int(value))
    return box


def _frequency_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, 500.0)
    box.setDecimals(1)
    box.setSuffix(" Hz")
    box.setValue(value)
    return box


def _seconds_box(value: float, *, minimum: float = 0.05) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(minimum, 60.0)
    box.setDecimals(2)
    box.setSingleStep(0.25)
    box.setSuffix(" s")
    box.setValue(float(value))
    return box
