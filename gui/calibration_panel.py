"""The calibration panel: motor-imagery cues, training on them, then online feedback.

The run: the cue stream and the signal stream are opened and recorded; the cue runner shows
fixation, cue, imagery and rest while its markers go to the recording; at the end the
recording is closed, a decoder is trained on it with the training CLI's machinery, exported
and registered; the new model then decodes the stream and drives a feedback bar over
further cued trials (with online adaptation for decoders that learn from feedback).
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
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

from acquisition.inlet import MarkerInlet, SignalInlet
from bci_app.session.calibration import (
    CalibrationPlan,
    CueRunner,
    CueTrial,
    Phase,
    build_schedule,
)
from bci_app.session.cues import CueOutlet
from bci_app.session.feedback import FeedbackScore, FeedbackSmoother

from .controller import Controller, LiveDecoder
from .cue_display import CueDisplay
from .theme import Theme

if TYPE_CHECKING:
    from acquisition.recorder import RecordingResult
    from bci_app.session.simulated import SimulatedParticipant
    from bci_app.session.training import CalibrationResult

SIMULATED = "(simulated participant)"
_START_DELAY_S = 1.0
_LATE_S = 0.2  # a window ending this long after the imagery still counts for its trial


class CalibrationPanel(QWidget):
    """Configure and run a calibration, then the feedback it enables."""

    def __init__(self, controller: Controller, theme: Theme) -> None:
        super().__init__()
        self.controller = controller
        self.theme = theme
        self.stage = "idle"
        self.runner: CueRunner | None = None
        self.plan: CalibrationPlan | None = None
        self.participant: SimulatedParticipant | None = None
        self.stream = ""
        self.start_time: float | None = None
        self.result: CalibrationResult | None = None
        self.live: LiveDecoder | None = None
        self.smoother: FeedbackSmoother | None = None
        self.score: FeedbackScore | None = None
        self.adaptation = None
        self.epochs = None
        self.adaptations: list = []
        self._adapting = False
        self._cue_name = f"bci-app-cues-{os.getpid()}"
        self._cue_outlet: CueOutlet | None = None
        self._participant_window: CueDisplay | None = None
        self._numbers = itertools.count(1)
        self._build()
        controller.stream_opened.connect(self._stream_opened)
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
            if isinstance(inlet, SignalInlet) and not name.startswith("sim-participant")
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

    # -- the run --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start a calibration run (a session must be open, nothing being recorded)."""
        if self.stage not in ("idle", "done", "failed"):
            return
        from bci_app.session.training import calibration_protocol

        try:
            plan = self.read_plan()
            calibration_protocol(plan)
        except ValueError as error:
            return self._fail(str(error))
        if self.controller.session is None:
            return self._fail("start a session first (Session panel): the calibration is recorded")
        if self.controller.recording:
            return self._fail("stop the current recording first: the calibration records its own")
        self._save_settings(plan)
        self.plan = plan
        self.result = None
        self.result_label.clear()
        self.adaptations = []
        self._stop_feedback()
        self.start_button.setEnabled(False)
        self.abort_button.setEnabled(True)
        self._set_stage("preparing", "preparing the streams…")
        if self.source.currentText() == SIMULATED:
            self._start_simulated(plan)
        else:
            self.participant = None
            self.stream = self.source.currentText()
            self._open_cues()

    def _start_simulated(self, plan: CalibrationPlan) -> None:
        from bci_app.session.simulated import simulated_participant

        feedback = self.feedback_trials.value()
        self.stream = f"sim-participant-{os.getpid()}-{next(self._numbers)}"

        def simulate() -> SimulatedParticipant:
            return simulated_participant(plan, feedback_trials=feedback)

        def ready(participant: SimulatedParticipant) -> None:
            self.participant = participant
            self.controller.play(
                lambda: participant.raw,
                self.stream,
                loop=False,
                source=participant.description,
                markers=False,
            )
            self._open_cues()

        self.controller.tasks.run("simulated participant", simulate, done=ready, failed=self._error)

    def _open_cues(self) -> None:
        if self._cue_outlet is None:
            self._cue_outlet = CueOutlet(self._cue_name, f"{self._cue_name}-source")
        if self._cue_name not in self.controller.acquisition.inlets:
            self.controller.open_stream(self._cue_name, self._cue_outlet.source_id)
        self._maybe_record()

    def _stream_opened(self, name: str) -> None:
        self._fill_streams()
        if self.stage == "preparing":
            self._maybe_record()

    def _maybe_record(self) -> None:
        inlets = self.controller.acquisition.inlets
        if self.stage != "preparing" or self.stream not in inlets or self._cue_name not in inlets:
            return
        self._set_stage("starting", "starting the recording…")
        self.controller.start_recording(
            done=lambda _path: self._set_stage("waiting", "waiting for the signal…")
        )

    def _begin(self) -> None:
        """Start the cue runner once the signal flows (called from the timer)."""
        import pylsl

        inlet = self.controller.inlet(self.stream)
        if not isinstance(inlet, SignalInlet) or inlet.buffer.total == 0:
            return
        plan = self.plan
        if self.participant is not None:
            from bci_app.session.simulated import start_time

            first = inlet.buffer.read(inlet.buffer.oldest, inlet.buffer.oldest + 1)
            try:
                self.start_time = start_time(
                    self.participant.raw, first.data[:, 0], float(first.timestamps[0])
                )
            except ValueError as error:
                return self._fail(str(error))
            trials = self.participant.trials[: plan.n_trials]
            if trials and self.start_time + trials[0].fixation < pylsl.local_clock():
                return self._fail("the simulated participant started before the cues could follow")
        else:
            self.start_time = pylsl.local_clock() + _START_DELAY_S
            trials = build_schedule(plan)
        self.runner = CueRunner(trials, self.start_time)
        self._set_stage("calibration", f"calibration: {len(trials)} trials")

    def tick(self) -> None:
        """Advance the cue runner, the feedback and the display (called by the timer)."""
        import pylsl

        if self.stage == "waiting":
            self._begin()
        if self.runner is None or self.stage not in ("calibration", "feedback"):
            return
        now = pylsl.local_clock()
        for event in self.runner.due(now):
            if self._cue_outlet is not None:
                self._cue_outlet.push(event)
            if self.stage == "feedback":
                self._feedback_event(event)
        state = self.runner.state(now)
        feedback = None
        if self.stage == "feedback":
            feedback = self._feedback_values(state.phase)
        caption = "" if self.stage == "calibration" else self._score_text()
        progress = f"{self.stage}: trial {min(state.completed + 1, self.runner.n_trials)}/{self.runner.n_trials}"
        classes = self.live.runner.card.output_names if self.live else ()
        for display in self._displays():
            display.show_state(
                state, caption=caption, progress=progress, feedback=feedback, classes=classes
            )
        if self.runner.finished(now):
            if self.stage == "calibration":
                self._calibration_done()
            else:
                self._feedback_done()

    def _displays(self) -> list[CueDisplay]:
        window = self._participant_window
        return [self.display] + ([window] if window is not None and window.isVisible() else [])

    def _calibration_done(self) -> None:
        self.runner = None
        self._set_stage("saving", "calibration done: closing the recording…")
        self.controller.stop_recording(done=self._recorded)

    def _recorded(self, result: RecordingResult) -> None:
        from bci_app.session.training import train_calibration

        fif = _fif_of(result, self.stream)
        if fif is None:
            return self._fail(
                f"the recording of '{self.stream}' could not be exported ({result.stop_reason}); "
                f"it is kept in {result.xdf}"
            )
        from bci_app.session.training import band_options

        session = self.controller.session
        plan, decoder = self.plan, self.decoder.currentText()
        band = (self.band_low.value(), self.band_high.value()) if self.band_low.value() else None
        out = _next_folder(session.folder, "calibration")
        name = f"calibration-{session.info.subject}"
        registry = self.controller.registry.root
        self._set_stage("training", f"training {decoder} on {fif.name}…")

        def work() -> CalibrationResult:
            return train_calibration(
                fif,
                plan,
                decoder=decoder,
                name=name,
                out=out,
                registry_dir=registry,
                options=band_options(decoder, band),
            )

        self.controller.tasks.run(
            "calibration training", work, done=self._trained, failed=self._error
        )

    def _trained(self, result: CalibrationResult) -> None:
        self.result = result
        self.controller.session.add_model(result.record.ref)
        self.result_label.setText(
            f"{result.record.ref}: cross-validated accuracy {result.accuracy:.2f} "
            f"(balanced {result.balanced_accuracy:.2f}, chance {result.chance:.2f}) on "
            f"{result.n_trials} trials; run folder {result.folder}"
        )
        if self.feedback_trials.value() == 0:
            return self._set_stage("done", "calibration done (no feedback trials asked)")
        self._set_stage("loading", f"starting feedback with {result.record.ref}…")
        self.controller.start_decoder(
            result.record.name,
            self.stream,
            name=f"feedback-{os.getpid()}",
            done=self._decoder_ready,
            failed=self._error,
        )

    def _decoder_ready(self, live: LiveDecoder) -> None:
        import pylsl

        self.live = live
        card = live.runner.card
        self.smoother = FeedbackSmoother(card.output_names)
        self.score = FeedbackScore(tuple(card.output_names))
        count = self.feedback_trials.value()
        now = pylsl.local_clock()
        if self.participant is not None:
            ahead = now - self.start_time + _START_DELAY_S
            trials = [t for t in self.participant.trials if t.fixation > ahead][:count]
            start = self.start_time
        else:
            per_class = -(-count // len(self.plan.classes))
            feedback_plan = replace(self.plan, trials_per_class=per_class, seed=self.plan.seed + 1)
            trials = build_schedule(feedback_plan)[:count]
            start = now + _START_DELAY_S
        if not trials:
            return self._fail("the simulated recording has no trials left for feedback")
        self.runner = CueRunner(_renumber(trials), start)
        self._set_stage("feedback", f"feedback: {len(trials)} trials with {live.runner.ref}")
        if self.adapt.isChecked():
            self._start_adaptation()

    def _start_adaptation(self) -> None:
        from bci_app.session.adaptation import OnlineAdaptation, adapts_online, feedback_epochs

        decoder, result = self.decoder.currentText(), self.result
        inlet, cues = self.controller.inlet(self.stream), self.controller.inlet(self._cue_name)
        if not isinstance(inlet, SignalInlet) or not isinstance(cues, MarkerInlet):
            return
        card, plan, registry = self.live.runner.card, self.plan, self.controller.registry.root

        def prepare():
            if not adapts_online(decoder):
                return None
            adaptation = OnlineAdaptation(result.folder, result.record.name, registry)
            return adaptation, feedback_epochs(inlet.buffer, cues.markers, card, plan)

        def ready(prepared) -> None:
            if prepared is not None:
                self.adaptation, self.epochs = prepared
                self.status.setText(self.status.text() + "; adapting online after each trial")

        self.controller.tasks.run("online adaptation", prepare, done=ready, failed=self._error)

    def _feedback_event(self, event) -> None:
        if event.phase is Phase.CUE:
            self.smoother.reset()
            self.score.end_trial()
            plan = self.plan
            self.score.begin_trial(
                event.trial.label, event.time + plan.tmax, event.time + plan.task_s + _LATE_S
            )
        elif event.phase is Phase.REST:
            self._adapt()
        elif event.phase is Phase.DONE:
            self.score.end_trial()

    def _feedback_values(self, phase: Phase) -> np.ndarray | None:
        predictions = self.live.predictions
        while predictions:
            prediction = predictions.popleft()
            self.smoother.update(prediction.outputs, prediction.timestamp)
            self.score.add(prediction.outputs, prediction.timestamp)
        return self.smoother.value if phase in (Phase.CUE, Phase.IMAGERY) else None

    def _adapt(self) -> None:
        if self.adaptation is None or self._adapting:
            return
        adaptation, epochs = self.adaptation, self.epochs
        self._adapting = True

        def work():
            found = epochs.read()
            if not found:
                return None
            data = np.stack([epoch.data for epoch in found])
            return adaptation.update(data, [epoch.marker.value for epoch in found])

        def done(outcome) -> None:
            self._adapting = False
            if outcome is not None:
                self.adaptations.append(outcome)

        def failed(error: BaseException) -> None:
            self._adapting = False
            self.controller.notice.emit("error", f"online adaptation failed: {error}")

        self.controller.tasks.run("adapt", work, done=done, failed=failed)

    def _score_text(self) -> str:
        if self.score is None or not self.score.decisions:
            return ""
        return f"{self.score.hits}/{len(self.score.decisions)} hits"

    def _feedback_done(self) -> None:
        self.runner = None
        adapted = ""
        if self.adaptations:
            last = self.adaptations[-1]
            version = last.record.ref if last.record else "refused"
            adapted = f"; {len(self.adaptations)} online updates (last: {version}, drift {last.drift:.3f})"
        accuracy = self.score.accuracy if self.score else float("nan")
        self._set_stage("done", f"feedback done: {self._score_text()} ({accuracy:.0%}){adapted}")
        for display in self._displays():
            display.show_state(None, caption=f"done: {self._score_text()}")

    # -- ending ---------------------------------------------------------------------------------

    def abort(self) -> None:
        """Stop the run; a calibration recording is closed cleanly (its data kept)."""
        self.runner = None
        if self.stage in ("starting", "waiting", "calibration") and self.controller.recording:
            self.controller.stop_recording()
        self._stop_feedback()
        self._set_stage("idle", "aborted")

    def _stop_feedback(self) -> None:
        if self.live is not None:
            self.controller.stop_decoder(self.live.name)
            self.live = None
        self.adaptation = self.epochs = None

    def _error(self, error: BaseException) -> None:
        self._fail(str(error))

    def _fail(self, text: str) -> None:
        if self.stage in ("starting", "waiting", "calibration") and self.controller.recording:
            self.controller.stop_recording()
        self.runner = None
        self._set_stage("failed", text)
        self.status.setStyleSheet(f"color: {self.theme.bad};")

    def _set_stage(self, stage: str, text: str) -> None:
        self.stage = stage
        self.status.setText(text)
        self.status.setStyleSheet("")
        running = stage not in ("idle", "done", "failed")
        self.start_button.setEnabled(not running)
        self.abort_button.setEnabled(running)
        if stage in ("preparing", "starting", "waiting"):
            self.display.show_state(None, caption=text)

    def close_streams(self) -> None:
        """Remove the cue stream from the network."""
        if self._cue_outlet is not None:
            self._cue_outlet.close()

    def set_theme(self, theme: Theme) -> None:
        """Recolour for ``theme``."""
        self.theme = theme


def _fif_of(result: RecordingResult, stream: str) -> Path | None:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stream).strip("-")
    return next((path for path in result.fif if path.name.endswith(f"_{safe}_raw.fif")), None)


def _next_folder(parent: Path, prefix: str) -> Path:
    index = 1
    while (parent / f"{prefix}-{index:02d}").exists():
        index += 1
    return parent / f"{prefix}-{index:02d}"


def _renumber(trials: list[CueTrial]) -> list[CueTrial]:
    return [replace(trial, index=index) for index, trial in enumerate(trials)]


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
