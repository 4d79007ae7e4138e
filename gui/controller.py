"""The application's state: open streams, players, decoders, the session and its recording.

The controller holds the headless objects (an :class:`~acquisition.session.AcquisitionSession`,
players, inference engines, a :class:`~bci_app.session.recording.SessionRecorder`) and runs
every blocking call through :class:`~gui.tasks.Tasks`; panels listen to its signals and read
the objects' state from their timers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from acquisition.markers import MarkerBuffer
from acquisition.session import AcquisitionSession
from bci_app.models.registry import ModelRegistry
from bci_app.session.child import ChildTask
from bci_app.session.live import LiveDecoder
from bci_app.session.metadata import SessionInfo, default_sessions_dir
from bci_app.session.recording import SessionRecorder

from .settings import Settings
from .tasks import Tasks

if TYPE_CHECKING:
    from acquisition.inlet import Inlet
    from acquisition.player import Player
    from acquisition.recorder import RecordingResult
    from acquisition.streaminfo import StreamDescription
    from bci_app.session.staging import StagedJob

OPERATOR_STREAM = "operator"
__all__ = ["Controller", "LiveDecoder"]


class Controller(QObject):
    """What the application holds, and the actions of the panels.

    Parameters
    ----------
    settings : Settings
        The user's settings (paths of the registry and the sessions).
    buffer_seconds : float
        Ring-buffer length of each signal stream.
    """

    streams_found = Signal(list)  # list of StreamDescription
    stream_opened = Signal(str)
    stream_closed = Signal(str)
    players_changed = Signal()
    decoders_changed = Signal()
    recording_changed = Signal()
    session_changed = Signal()
    trainings_changed = Signal()  # a training started, progressed or ended
    notice = Signal(str, str)  # level (info, warning, error), text

    def __init__(self, settings: Settings, *, buffer_seconds: float = 60.0) -> None:
        super().__init__()
        self.settings = settings
        self.tasks = Tasks(self)
        self.tasks.error.connect(lambda label, text: self.notice.emit("error", f"{label}: {text}"))
        self.acquisition = AcquisitionSession(seconds=buffer_seconds)
        self.players: dict[str, Player] = {}
        self.decoders: dict[str, LiveDecoder] = {}
        self.operator_markers = MarkerBuffer(OPERATOR_STREAM)
        self.bad_channels: dict[str, set[str]] = {}
        self.session: SessionRecorder | None = None
        self.recorder_options: dict[str, Any] = {}
        self.discovered: list[StreamDescription] = []
        self.pending: set[str] = set()  # streams being opened
        self.trainings: list[ChildTask] = []
        self._training_timer = QTimer(self)
        self._training_timer.timeout.connect(self._poll_trainings)
        self._log_numbers = itertools.count(1)

    # -- paths ----------------------------------------------------------------------------------

    @property
    def registry(self) -> ModelRegistry:
        """Return the model registry of the settings (the default one when unset)."""
        path = self.settings.get("paths/registry")
        return ModelRegistry(Path(path) if path else None)

    @property
    def sessions_dir(self) -> Path:
        """Return where session folders are created."""
        path = self.settings.get("paths/sessions")
        return Path(path) if path else default_sessions_dir()

    # -- streams --------------------------------------------------------------------------------

    def discover(self, timeout: float = 1.0) -> None:
        """Look for LSL streams (in a worker); :attr:`streams_found` gives the result."""
        from acquisition.discovery import find_streams

        def found(streams: list[StreamDescription]) -> None:
            self.discovered = streams
            self.streams_found.emit(streams)

        self.tasks.run("stream discovery", lambda: find_streams(timeout=timeout), done=found)

    def open_stream(self, name: str, source_id: str = "", *, timeout: float = 3.0) -> None:
        """Open a stream by name (and source id) in a worker; :attr:`stream_opened` follows."""
        if name in self.acquisition.inlets or name in self.pending:
            return
        self.pending.add(name)

        def opened(_inlet: Inlet) -> None:
            self.pending.discard(name)
            self.notice.emit("info", f"stream '{name}' connected")
            self.stream_opened.emit(name)

        def failed(error: BaseException) -> None:
            self.pending.discard(name)
            self.notice.emit("error", f"could not connect '{name}': {error}")

        self.tasks.run(
            f"connect {name}",
            lambda: self.acquisition.open(name=name, source_id=source_id or None, timeout=timeout),
            done=opened,
            failed=failed,
        )

    def close_stream(self, name: str) -> None:
        """Stop the decoders on a stream, then close it (in a worker)."""
        for decoder in [d for d in self.decoders.values() if d.runner.stream == name]:
            self.stop_decoder(decoder.name)
        self.tasks.run(
            f"disconnect {name}",
            lambda: self.acquisition.close(name),
            done=lambda _: self.stream_closed.emit(name),
        )

    def inlet(self, name: str) -> Inlet | None:
        """Return the open inlet called ``name``."""
        return self.acquisition.inlets.get(name)

    def markers_between(self, start: float, stop: float) -> list[tuple[float, str, str]]:
        """Return ``(time, text, stream)`` of every marker (streams and operator) in the span."""
        found = [
            (m.timestamp, m.value, m.stream) for m in self.operator_markers.between(start, stop)
        ]
        for inlet in self.acquisition.markers.values():
            found.extend(
                (m.timestamp, m.value, m.stream) for m in inlet.markers.between(start, stop)
            )
        return sorted(found)

    # -- players --------------------------------------------------------------------------------

    def play(
        self,
        load: Callable[[], Any],
        name: str,
        *,
        loop: bool = True,
        source: str = "",
        connect: bool = True,
        done: Callable[[Player], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
        **player_options: Any,
    ) -> None:
        """Load a recording with ``load()`` and stream it as ``name`` (in a worker).

        Parameters
        ----------
        load : callable
            Returns an MNE Raw (a file read, a simulator run).
        name : str
            Stream name.
        loop : bool
            Start again at the end.
        source : str
            Origin written into the stream header.
        connect : bool
            Open the stream (and its markers) once it plays.
        done : callable, optional
            Called with the started player.
        failed : callable, optional
            Called with the error when it cannot start (after the notice).
        **player_options
            Passed to :class:`~acquisition.player.Player`.
        """
        from acquisition.player import Player

        if name in self.players:
            self.notice.emit("error", f"a player named '{name}' is already streaming")
            return

        def start() -> Player:
            return Player(load(), name=name, loop=loop, source=source, **player_options).start()

        def started(player: Player) -> None:
            self.players[name] = player
            self.players_changed.emit()
            self.notice.emit("info", f"playing '{name}' ({player.duration:.1f} s, {source})")
            if connect:
                self.open_stream(name, player.source_id)
                if player.events:
                    self.open_stream(player.marker_name, f"{player.source_id}-markers")
            if done is not None:
                done(player)

        def not_started(error: BaseException) -> None:
            self.notice.emit("error", f"could not play {source or name}: {error}")
            if failed is not None:
                failed(error)

        self.tasks.run(f"player {name}", start, done=started, failed=not_started)

    def stop_player(self, name: str) -> None:
        """Stop a player (in a worker): its streams disappear, as an amplifier unplugged."""
        player = self.players.pop(name, None)
        if player is None:
            return
        self.players_changed.emit()
        self.tasks.run(f"stop player {name}", player.stop)

    # -- decoders -------------------------------------------------------------------------------

    def start_decoder(
        self,
        model: str,
        stream: str,
        *,
        name: str | None = None,
        channel_map: Mapping[str, str] | None = None,
        markers: str | None = None,
        marker_values: set[str] | None = None,
        candidates: str | None = None,
        done: Callable[[LiveDecoder], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Load ``model`` and decode ``stream`` with it in a worker thread.

        ``failed`` receives a :class:`~bci_app.errors.LiveError` when the model does not fit
        the stream (missing channels, rate). ``candidates`` names a registered candidate set
        a speech model ranks.
        """
        from bci_app.inference.engine import InferenceEngine

        registry = self.registry
        runner_name = name or model.partition(":")[0]
        if runner_name in self.decoders:
            self.notice.emit("error", f"decoder '{runner_name}' is already running")
            return
        log_path = None
        if self.session is not None:
            number = next(self._log_numbers)
            log_path = self.session.folder / f"predictions-{runner_name}-{number:02d}.jsonl"

        def build() -> LiveDecoder:
            engine = InferenceEngine(registry, session=self.acquisition, log_path=log_path)
            try:
                runner = engine.add(
                    stream,
                    model,
                    name=runner_name,
                    channel_map=channel_map,
                    markers=markers,
                    marker_values=marker_values,
                    candidates=candidates,
                )
            except Exception:
                engine.stop()
                raise
            live = LiveDecoder(runner_name, engine, runner, locked=markers is not None)
            engine.subscribe(live.predictions.append)
            engine.start()
            return live

        def started(live: LiveDecoder) -> None:
            self.decoders[live.name] = live
            if self.session is not None:
                self.session.add_model(live.runner.ref)
            self.notice.emit("info", f"decoding '{stream}' with {live.runner.ref}")
            self.decoders_changed.emit()
            if done is not None:
                done(live)

        self.tasks.run(f"load model {model}", build, done=started, failed=failed)

    def stop_decoder(self, name: str) -> None:
        """Stop a decoder (in a worker)."""
        live = self.decoders.pop(name, None)
        if live is None:
            return
        self.decoders_changed.emit()
        self.tasks.run(f"stop decoder {name}", live.engine.stop)

    # -- session and recording --------------------------------------------------------------------

    def new_session(self, info: SessionInfo) -> SessionRecorder:
        """Start a session (its folder and ``session.json``); refused while recording."""
        if self.session is not None and self.session.recording:
            raise RuntimeError("stop the recording before starting a new session")
        folder = self.sessions_dir / info.subject / info.folder_name()
        options = dict(self.recorder_options)
        max_mb = int(self.settings.get("recording/max_mb"))
        if max_mb > 0:
            options.setdefault("max_bytes", max_mb * 1_000_000)
        self.session = SessionRecorder(self.acquisition, info, folder, **options)
        self.session_changed.emit()
        return self.session

    @property
    def recording(self) -> bool:
        """Return True while recording."""
        return self.session is not None and self.session.recording

    def start_recording(
        self,
        done: Callable[[Path], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Start recording every open stream (in a worker)."""
        if self.session is None:
            self.notice.emit("error", "start a session before recording")
            return

        def started(path: Path) -> None:
            self.notice.emit("info", f"recording to {path}")
            self.recording_changed.emit()
            if done is not None:
                done(path)

        self.tasks.run("start recording", self.session.start, done=started, failed=failed)

    def stop_recording(
        self,
        done: Callable[[RecordingResult], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Stop the recording cleanly (footers, FIF copies) in a worker."""
        session = self.session
        if session is None or session.recorder is None:
            return

        def stopped(result: RecordingResult) -> None:
            saved = ", ".join(p.name for p in [result.xdf, *result.fif])
            level = "info" if result.stop_reason == "stopped" else "error"
            self.notice.emit(level, f"recording stopped ({result.stop_reason}); saved {saved}")
            self.recording_changed.emit()
            if done is not None:
                done(result)

        self.tasks.run("stop recording", session.stop, done=stopped, failed=failed)

    # -- training -------------------------------------------------------------------------------

    def train(
        self,
        label: str,
        job: StagedJob,
        *,
        progress: Callable[[str], None] | None = None,
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None] | None = None,
    ) -> ChildTask:
        """Run the training ``job`` in a child process, polled from a timer on this thread.

        The desktop keeps drawing and acquiring meanwhile; :attr:`trainings_changed` tells
        the panels of its progress. A failure (or the child's death) becomes an error notice
        before ``failed`` is called.
        """

        def progressed(text: str) -> None:
            if progress is not None:
                progress(text)
            self.trainings_changed.emit()

        def broke(error: BaseException) -> None:
            self.notice.emit("error", f"training {label}: {error}")
            if failed is not None:
                failed(error)

        task = ChildTask(label, job, progress=progressed, done=done, failed=broke)
        self.trainings.append(task)
        self._training_timer.start(100)
        self.trainings_changed.emit()
        return task

    def _poll_trainings(self) -> None:
        for task in self.trainings:
            task.poll()
        running = [task for task in self.trainings if task.running]
        if len(running) != len(self.trainings):
            self.trainings = running
            self.trainings_changed.emit()
        if not running:
            self._training_timer.stop()

    def notify(self, level: str, text: str) -> None:
        """Tell the user (``info``, ``warning``, ``error``): the log and the status bar."""
        self.notice.emit(level, text)

    def marker(self, text: str) -> None:
        """Send an operator marker (into the recording when recording), drawn on the traces."""
        import pylsl

        stamp = pylsl.local_clock()
        self.operator_markers.add([stamp], [text], stamp)
        if self.session is not None:
            self.session.marker(text, stamp)

    def mark_channel(self, stream: str, channel: str, bad: bool) -> None:
        """Mark a channel bad (or good again); recorded as an operator marker."""
        marks = self.bad_channels.setdefault(stream, set())
        (marks.add if bad else marks.discard)(channel)
        self.marker(f"{'bad' if bad else 'good'} channel {stream}/{channel}")

    # -- shutdown -------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop everything (a recording must have been stopped cleanly before).

        A training under way is killed: nothing of it reaches the registry.
        """
        self._training_timer.stop()
        for task in self.trainings:
            task.cancel()
        self.trainings.clear()
        for name in list(self.decoders):
            live = self.decoders.pop(name)
            live.engine.stop()
        if self.session is not None and self.session.recorder is not None:
            self.session.stop()
        for player in self.players.values():
            player.stop()
        self.players.clear()
        self.acquisition.stop()
