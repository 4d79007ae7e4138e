"""A calibration run as a state machine: cues recorded, a decoder trained on them, then feedback.

The stages, in order: ``IDLE`` → ``PREPARING`` (the signal and cue streams open) →
``STARTING`` (the recording starts) → ``WAITING`` (for the signal) → ``CALIBRATION`` (the cued
trials) → ``SAVING`` (the recording closes) → ``TRAINING`` (a decoder is trained, exported and
registered) → ``LOADING`` (it starts decoding the stream) → ``FEEDBACK`` (cued trials with the
decoder's output shown and scored, the decoder adapted online when it learns from feedback)
→ ``DONE``. Any stage may end in ``FAILED``; :meth:`CalibrationRun.abort` returns to ``IDLE``.

The run decides everything: which trials are cued and when, when recording and training start
and stop, how feedback trials are scored, when the decoder adapts, what a failure means. It
acts through a *desk* (the desktop's controller, or the headless :class:`~.desk.Desk`), whose
blocking actions report back through callbacks on the thread that drives the run, and it is
advanced by :meth:`CalibrationRun.tick` with the time of a clock; it never waits. A view
subscribes to the stage changes and to what the participant sees.
"""

from __future__ import annotations

import enum
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from acquisition.inlet import MarkerInlet, SignalInlet

from .calibration import CalibrationPlan, CueRunner, CueState, CueTrial, Phase, build_schedule
from .cues import CueOutlet
from .feedback import FeedbackScore, FeedbackSmoother
from .training import CalibrationJob

if TYPE_CHECKING:
    from collections import deque

    from acquisition.inlet import Inlet
    from acquisition.recorder import RecordingResult
    from bci_app.inference.prediction import Prediction
    from bci_app.models.registry import ModelRegistry

    from .adaptation import AdaptationOutcome, OnlineAdaptation
    from .live import LiveDecoder
    from .recording import SessionRecorder
    from .simulated import SimulatedParticipant
    from .training import CalibrationResult

START_DELAY_S = 1.0
"""Seconds between deciding a schedule and its zero (the cues of a real participant)."""
LATE_S = 0.2
"""A window ending this long after the imagery still counts for its trial."""
SIMULATED_STREAMS = "sim-participant"
"""Name prefix of the streams of simulated participants."""
STREAMS_TIMEOUT_S = 30.0
"""Seconds the streams may take to open, and the signal to flow once recording."""

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Stage(enum.StrEnum):
    """Where a calibration run stands."""

    IDLE = "idle"
    PREPARING = "preparing"
    STARTING = "starting"
    WAITING = "waiting"
    CALIBRATION = "calibration"
    SAVING = "saving"
    TRAINING = "training"
    LOADING = "loading"
    FEEDBACK = "feedback"
    DONE = "done"
    FAILED = "failed"

    @property
    def running(self) -> bool:
        """Return True between a start and its end (done, failed or aborted)."""
        return self not in (Stage.IDLE, Stage.DONE, Stage.FAILED)


_RECORDING = (Stage.STARTING, Stage.WAITING, Stage.CALIBRATION)


@dataclass(frozen=True)
class CalibrationRequest:
    """What to run.

    Parameters
    ----------
    plan : CalibrationPlan
        Classes, timing and training window.
    decoder : str
        Registered decoder trained on the calibration (``csp-lda``, ``rleegnet``...).
    band : tuple of float, optional
        Band-pass declared by decoders that take one (None: none).
    feedback_trials : int
        Cued trials with feedback after the training (0: none).
    adapt : bool
        Update decoders that learn from feedback after each feedback trial.
    stream : str, optional
        The participant's signal stream; None simulates a participant who imagines the cues.
    """

    plan: CalibrationPlan
    decoder: str = "csp-lda"
    band: tuple[float, float] | None = (8.0, 30.0)
    feedback_trials: int = 0
    adapt: bool = True
    stream: str | None = None


@dataclass(frozen=True)
class CueView:
    """What the participant screen shows.

    Parameters
    ----------
    state : CueState, optional
        The phase shown (None: only the caption).
    caption, progress : str
        Text under the cue, and the run's progress.
    feedback : ndarray, optional
        Smoothed class probabilities (during the cue and imagery of a feedback trial).
    classes : tuple of str
        The decoder's classes, in output order.
    """

    state: CueState | None
    caption: str = ""
    progress: str = ""
    feedback: np.ndarray | None = None
    classes: tuple[str, ...] = ()


class Jobs(Protocol):
    """Runs blocking work away from the driving thread; callbacks come back on it."""

    def run(
        self,
        label: str,
        work: Callable[[], Any],
        *,
        done: Done | None = ...,
        failed: Failed | None = ...,
    ) -> None:
        """Run ``work()``, then ``done(result)`` or ``failed(error)``."""


class Training(Protocol):
    """A training under way (in a child process: see :class:`~.child.ChildTask`)."""

    def cancel(self) -> None:
        """Stop it; nothing it would have registered is registered."""


class CalibrationDesk(Protocol):
    """The application a run acts through: streams, players, recording, decoders, training."""

    tasks: Jobs
    session: SessionRecorder | None

    @property
    def recording(self) -> bool:
        """Return True while the session records."""

    @property
    def registry(self) -> ModelRegistry:
        """Return the model registry."""

    def inlet(self, name: str) -> Inlet | None:
        """Return the open inlet ``name``."""

    def play(
        self,
        load: Callable[[], Any],
        name: str,
        *,
        loop: bool = ...,
        source: str = ...,
        markers: bool = ...,
        failed: Failed | None = ...,
    ) -> None:
        """Stream the recording ``load()`` returns as ``name`` and open it."""

    def open_stream(self, name: str, source_id: str = ...) -> None:
        """Open the stream ``name``."""

    def start_recording(self, done: Done | None = ..., failed: Failed | None = ...) -> None:
        """Record every open stream."""

    def stop_recording(self, done: Done | None = ..., failed: Failed | None = ...) -> None:
        """Close the recording; ``done`` receives its :class:`RecordingResult`."""

    def start_decoder(
        self,
        model: str,
        stream: str,
        *,
        name: str | None = ...,
        done: Done | None = ...,
        failed: Failed | None = ...,
    ) -> None:
        """Decode ``stream`` with ``model``; ``done`` receives the :class:`LiveDecoder`."""

    def stop_decoder(self, name: str) -> None:
        """Stop the decoder ``name``."""

    def train(
        self,
        label: str,
        job: CalibrationJob,
        *,
        progress: Callable[[str], None],
        done: Done,
        failed: Failed,
    ) -> Training:
        """Train, export and register as ``job`` says, away from the driving thread's process.

        ``progress`` receives short texts; ``done`` the :class:`CalibrationResult`.
        """

    def notify(self, level: str, text: str) -> None:
        """Tell the user (``info``, ``warning``, ``error``)."""


class CalibrationRun:
    """One calibration after another, driven by :meth:`tick`.

    Parameters
    ----------
    desk : CalibrationDesk
        What the run acts through.
    clock : callable
        Returns the LSL time (the cue schedule and the decoder's timestamps are on it).
    on_stage : callable, optional
        Called with ``(stage, text)`` at each change of stage or status text.
    on_cues : callable, optional
        Called with a :class:`CueView` whenever the participant screen changes.
    """

    def __init__(
        self,
        desk: CalibrationDesk,
        clock: Callable[[], float],
        *,
        on_stage: Callable[[Stage, str], None] | None = None,
        on_cues: Callable[[CueView], None] | None = None,
    ) -> None:
        self.desk = desk
        self.clock = clock
        self.on_stage = on_stage or (lambda stage, text: None)
        self.on_cues = on_cues or (lambda view: None)
        self.stage = Stage.IDLE
        self.status = "ready"
        self.request: CalibrationRequest | None = None
        self.participant: SimulatedParticipant | None = None
        self.stream = ""
        self.start_time: float | None = None
        self.runner: CueRunner | None = None
        self.result: CalibrationResult | None = None
        self.live: LiveDecoder | None = None
        self.smoother: FeedbackSmoother | None = None
        self.score: FeedbackScore | None = None
        self.adaptations: list[AdaptationOutcome] = []
        self.cue_name = f"bci-app-cues-{os.getpid()}-{id(self):x}"
        self._cue_outlet: CueOutlet | None = None
        self._predictions: deque[Prediction] | None = None
        self._adaptation: tuple[OnlineAdaptation, Any] | None = None
        self._adapting = False
        self._training: Training | None = None
        self._entered = 0.0
        self._attempt = 0
        self._numbers = itertools.count(1)

    # -- starting ---------------------------------------------------------------------------

    def start(self, request: CalibrationRequest) -> bool:
        """Start a run (a session must be open, nothing recorded); False when refused."""
        from .training import calibration_protocol

        if self.stage.running:
            return False
        self._attempt += 1
        try:
            calibration_protocol(request.plan)
        except ValueError as error:
            return self._fail(str(error))
        if self.desk.session is None:
            return self._fail("start a session first (Session panel): the calibration is recorded")
        if self.desk.recording:
            return self._fail("stop the current recording first: the calibration records its own")
        self._stop_feedback()
        self.request = request
        self.result = self.runner = self.start_time = self.score = self.smoother = None
        self.adaptations = []
        self._set(Stage.PREPARING, "preparing the streams…")
        if request.stream is None:
            self._start_simulated(request)
        else:
            self.participant = None
            self.stream = request.stream
            self._open_cues()
        return True

    def refuse(self, reason: str) -> None:
        """End in ``FAILED`` for ``reason`` without starting (a request that could not be made)."""
        if not self.stage.running:
            self._fail(reason)

    def _start_simulated(self, request: CalibrationRequest) -> None:
        from .simulated import simulated_participant

        self.stream = f"{SIMULATED_STREAMS}-{os.getpid()}-{next(self._numbers)}"

        def simulate() -> SimulatedParticipant:
            return simulated_participant(request.plan, feedback_trials=request.feedback_trials)

        def ready(participant: SimulatedParticipant) -> None:
            self.participant = participant
            self._entered = self.clock()  # the streams' time to open starts now
            self.desk.play(
                lambda: participant.raw,
                self.stream,
                loop=False,
                source=participant.description,
                markers=False,
                failed=self._guard(self._error),
            )
            self._open_cues()

        self.desk.tasks.run(
            "simulated participant",
            simulate,
            done=self._guard(ready),
            failed=self._guard(self._error),
        )

    def _open_cues(self) -> None:
        if self._cue_outlet is None:
            self._cue_outlet = CueOutlet(self.cue_name, f"{self.cue_name}-source")
        if self.desk.inlet(self.cue_name) is None:
            self.desk.open_stream(self.cue_name, self._cue_outlet.source_id)

    # -- the clock --------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Advance the run to the LSL time ``now`` (call it often: every 15 ms or so)."""
        if self.stage is Stage.PREPARING:
            self._check_streams(now)
        elif self.stage is Stage.WAITING:
            self._begin(now)
        if self.runner is not None and self.stage in (Stage.CALIBRATION, Stage.FEEDBACK):
            self._run_cues(now)

    def _check_streams(self, now: float) -> None:
        missing = [n for n in (self.stream, self.cue_name) if self.desk.inlet(n) is None]
        if not missing:
            self._set(Stage.STARTING, "starting the recording…")
            attempt = self._attempt
            self.desk.start_recording(
                done=lambda _path: self._recording_started(attempt),
                failed=self._guard(self._error),
            )
        elif now - self._entered > STREAMS_TIMEOUT_S and not self._simulating:
            names = " and ".join(f"'{name}'" for name in missing)
            self._fail(f"{names} did not open within {STREAMS_TIMEOUT_S:.0f} s")

    def _recording_started(self, attempt: int) -> None:
        if attempt == self._attempt:
            self._set(Stage.WAITING, "waiting for the signal…")
        else:  # the run ended while the recording was starting
            self.desk.stop_recording()

    @property
    def _simulating(self) -> bool:
        """Return True while the simulated participant is being made (it has no stream yet)."""
        return self.request.stream is None and self.participant is None

    def _begin(self, now: float) -> None:
        """Start the cue runner once the signal flows."""
        inlet = self.desk.inlet(self.stream)
        if not isinstance(inlet, SignalInlet) or inlet.buffer.total == 0:
            if now - self._entered > STREAMS_TIMEOUT_S:
                self._fail(f"no signal from '{self.stream}' for {STREAMS_TIMEOUT_S:.0f} s")
            return
        plan = self.request.plan
        if self.participant is not None:
            from .simulated import start_time

            first = inlet.buffer.read(inlet.buffer.oldest, inlet.buffer.oldest + 1)
            try:
                self.start_time = start_time(
                    self.participant.raw, first.data[:, 0], float(first.timestamps[0])
                )
            except ValueError as error:
                self._fail(str(error))
                return
            trials = self.participant.trials[: plan.n_trials]
            if trials and self.start_time + trials[0].fixation < now:
                self._fail("the simulated participant started before the cues could follow")
                return
        else:
            self.start_time = now + START_DELAY_S
            trials = build_schedule(plan)
        self.runner = CueRunner(trials, self.start_time)
        self._set(Stage.CALIBRATION, f"calibration: {len(trials)} trials")

    def _run_cues(self, now: float) -> None:
        runner = self.runner
        feedback = self.stage is Stage.FEEDBACK
        for event in runner.due(now):
            if self._cue_outlet is not None:
                self._cue_outlet.push(event)
            if feedback:
                self._feedback_event(event)
        state = runner.state(now)
        trial = min(state.completed + 1, runner.n_trials)
        self.on_cues(
            CueView(
                state,
                caption=self.score_text() if feedback else "",
                progress=f"{self.stage}: trial {trial}/{runner.n_trials}",
                feedback=self._feedback_values(state.phase) if feedback else None,
                classes=tuple(self.live.runner.card.output_names) if self.live else (),
            )
        )
        if runner.finished(now):
            self.runner = None
            if feedback:
                self._feedback_done()
            else:
                self._calibration_done()

    # -- recording and training ---------------------------------------------------------------

    def _calibration_done(self) -> None:
        self._set(Stage.SAVING, "calibration done: closing the recording…")
        self.desk.stop_recording(done=self._guard(self._recorded), failed=self._guard(self._error))

    def _recorded(self, result: RecordingResult) -> None:
        from .recording import fif_of_stream

        fif = fif_of_stream(result, self.stream)
        if fif is None:
            self._fail(
                f"the recording of '{self.stream}' could not be exported ({result.stop_reason}); "
                f"it is kept in {result.xdf}"
            )
            return
        session, request = self.desk.session, self.request
        job = CalibrationJob(
            recording=fif,
            plan=request.plan,
            decoder=request.decoder,
            name=f"calibration-{session.info.subject}",
            out=_next_folder(session.folder, "calibration"),
            registry_dir=self.desk.registry.root,
            band=request.band,
        )
        text = f"training {request.decoder} on {fif.name}…"
        self._set(Stage.TRAINING, text)
        self._training = self.desk.train(
            "calibration model",
            job,
            progress=self._guard(lambda step: self._tell(f"{text} {step}")),
            done=self._guard(self._trained),
            failed=self._guard(self._error),
        )

    def _trained(self, result: CalibrationResult) -> None:
        self._training = None
        self.result = result
        self.desk.session.add_model(result.record.ref)
        if self.request.feedback_trials == 0:
            self._set(Stage.DONE, "calibration done (no feedback trials asked)")
            return
        self._set(Stage.LOADING, f"starting feedback with {result.record.ref}…")
        self.desk.start_decoder(
            result.record.name,
            self.stream,
            name=f"feedback-{os.getpid()}",
            done=self._guard(self._decoder_ready),
            failed=self._guard(self._error),
        )

    # -- feedback -----------------------------------------------------------------------------

    def _decoder_ready(self, live: LiveDecoder) -> None:
        self.live = live
        self._predictions = live.subscribe()
        card = live.runner.card
        self.smoother = FeedbackSmoother(card.output_names)
        self.score = FeedbackScore(tuple(card.output_names))
        trials, start = self._feedback_trials(self.clock())
        if not trials:
            self._fail("the simulated recording has no trials left for feedback")
            return
        self.runner = CueRunner(_renumber(trials), start)
        self._set(Stage.FEEDBACK, f"feedback: {len(trials)} trials with {live.runner.ref}")
        if self.request.adapt:
            self._start_adaptation()

    def _feedback_trials(self, now: float) -> tuple[list[CueTrial], float]:
        """Return the feedback trials and the LSL time of their schedule's zero."""
        plan, count = self.request.plan, self.request.feedback_trials
        if self.participant is not None:  # the trials the simulated participant performs next
            ahead = now - self.start_time + START_DELAY_S
            trials = [t for t in self.participant.trials if t.fixation > ahead][:count]
            return trials, self.start_time
        per_class = -(-count // len(plan.classes))
        feedback_plan = replace(plan, trials_per_class=per_class, seed=plan.seed + 1)
        return build_schedule(feedback_plan)[:count], now + START_DELAY_S

    def _start_adaptation(self) -> None:
        from .adaptation import OnlineAdaptation, feedback_epochs

        result, plan = self.result, self.request.plan
        inlet, cues = self.desk.inlet(self.stream), self.desk.inlet(self.cue_name)
        if not result.adapts_online or not isinstance(inlet, SignalInlet):
            return
        if not isinstance(cues, MarkerInlet):
            return
        card, registry = self.live.runner.card, self.desk.registry.root

        def prepare() -> tuple[OnlineAdaptation, Any]:
            adaptation = OnlineAdaptation(result.folder, result.record.name, registry)
            return adaptation, feedback_epochs(inlet.buffer, cues.markers, card, plan)

        def ready(prepared: tuple[OnlineAdaptation, Any]) -> None:
            self._adaptation = prepared
            self._tell(f"{self.status}; adapting online after each trial")

        self.desk.tasks.run(
            "online adaptation",
            prepare,
            done=self._guard(ready),
            failed=self._guard(self._error),
        )

    def _feedback_event(self, event) -> None:
        if event.phase is Phase.CUE:
            plan = self.request.plan
            self.smoother.reset()
            self.score.end_trial()
            self.score.begin_trial(
                event.trial.label, event.time + plan.tmax, event.time + plan.task_s + LATE_S
            )
        elif event.phase is Phase.REST:
            self._adapt()
        elif event.phase is Phase.DONE:
            self.score.end_trial()

    def _feedback_values(self, phase: Phase) -> np.ndarray | None:
        predictions = self._predictions
        while predictions:
            prediction = predictions.popleft()
            self.smoother.update(prediction.outputs, prediction.timestamp)
            self.score.add(prediction.outputs, prediction.timestamp)
        return self.smoother.value if phase in (Phase.CUE, Phase.IMAGERY) else None

    def _adapt(self) -> None:
        """Update the decoder from the feedback trials cut so far (one update at a time)."""
        if self._adaptation is None or self._adapting:
            return
        adaptation, epochs = self._adaptation
        self._adapting = True

        def work() -> AdaptationOutcome | None:
            found = epochs.read()
            if not found:
                return None
            data = np.stack([epoch.data for epoch in found])
            return adaptation.update(data, [epoch.marker.value for epoch in found])

        def done(outcome: AdaptationOutcome | None) -> None:
            self._adapting = False
            if outcome is not None:
                self.adaptations.append(outcome)

        def failed(error: BaseException) -> None:
            self._adapting = False
            self.desk.notify("error", f"online adaptation failed: {error}")

        self.desk.tasks.run("adapt", work, done=self._guard(done), failed=self._guard(failed))

    def score_text(self) -> str:
        """Return the hits so far (``3/4 hits``; empty before the first decided trial)."""
        if self.score is None or not self.score.decisions:
            return ""
        return f"{self.score.hits}/{len(self.score.decisions)} hits"

    def _feedback_done(self) -> None:
        adapted = ""
        if self.adaptations:
            last = self.adaptations[-1]
            version = last.record.ref if last.record else "refused"
            adapted = f"; {len(self.adaptations)} online updates (last: {version}, drift {last.drift:.3f})"
        accuracy = self.score.accuracy
        self._set(Stage.DONE, f"feedback done: {self.score_text()} ({accuracy:.0%}){adapted}")
        self.on_cues(CueView(None, caption=f"done: {self.score_text()}"))

    # -- ending -------------------------------------------------------------------------------

    def abort(self) -> None:
        """Stop the run; a calibration recording is closed cleanly (its data kept)."""
        self._attempt += 1
        self._end_recording()
        self._stop_feedback()
        self._set(Stage.IDLE, "aborted")

    def close(self) -> None:
        """Abort a running run and remove the cue stream from the network."""
        if self.stage.running:
            self.abort()
        if self._cue_outlet is not None:
            self._cue_outlet.close()
            self._cue_outlet = None

    def _end_recording(self) -> None:
        self.runner = None
        if self.stage in _RECORDING and self.desk.recording:
            self.desk.stop_recording()
        if self._training is not None:
            self._training.cancel()
            self._training = None

    def _stop_feedback(self) -> None:
        if self.live is not None:
            self.desk.stop_decoder(self.live.name)
            self.live = self._predictions = None
        self._adaptation = None
        self._adapting = False

    def _error(self, error: BaseException) -> None:
        self._fail(str(error) or type(error).__name__)

    def _fail(self, text: str) -> bool:
        self._attempt += 1
        self._end_recording()
        self._set(Stage.FAILED, text)
        return False

    def _set(self, stage: Stage, text: str) -> None:
        self.stage = stage
        self._entered = self.clock()
        self._tell(text)

    def _tell(self, text: str) -> None:
        self.status = text
        self.on_stage(self.stage, text)

    def _guard(self, callback: Callable[..., None]) -> Callable[..., None]:
        """Return ``callback`` for this attempt only: a late answer to an ended run is dropped."""
        attempt = self._attempt

        def guarded(*args: Any) -> None:
            if attempt == self._attempt:
                callback(*args)

        return guarded


def _next_folder(parent: Path, prefix: str) -> Path:
    index = 1
    while (parent / f"{prefix}-{index:02d}").exists():
        index += 1
    return parent / f"{prefix}-{index:02d}"


def _renumber(trials: list[CueTrial]) -> list[CueTrial]:
    return [replace(trial, index=index) for index, trial in enumerate(trials)]
