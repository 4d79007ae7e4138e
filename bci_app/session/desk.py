"""The headless desk: streams, players, a session's recording and live decoders, without Qt.

What the desktop's controller does for its panels, for a script or a test driving a
:class:`~.calibration_run.CalibrationRun`: blocking actions run in threads and trainings in
child processes, and their callbacks wait until :meth:`Desk.deliver` runs them on the driving
thread (as Qt's queued signals and timers run them on the GUI thread).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acquisition.session import AcquisitionSession
from bci_app.models.registry import ModelRegistry

from .child import ChildTask
from .live import LiveDecoder
from .recording import SessionRecorder

if TYPE_CHECKING:
    from acquisition.inlet import Inlet
    from acquisition.player import Player

    from .calibration_run import CalibrationRun, Done, Failed
    from .metadata import SessionInfo
    from .staging import StagedJob


class ThreadJobs:
    """Runs work in daemon threads; :meth:`deliver` runs the callbacks of what finished."""

    def __init__(self) -> None:
        self._finished: queue.SimpleQueue = queue.SimpleQueue()
        self._running: dict[int, str] = {}
        self._lock = threading.Lock()
        self._keys = itertools.count()
        self.errors: list[tuple[str, BaseException]] = []

    @property
    def running(self) -> list[str]:
        """Return the labels of the work still running or not yet delivered."""
        with self._lock:
            return list(self._running.values())

    def run(
        self,
        label: str,
        work: Callable[[], Any],
        *,
        done: Done | None = None,
        failed: Failed | None = None,
    ) -> None:
        """Run ``work()`` in a thread; then ``done(result)`` or ``failed(error)`` at delivery."""
        key = next(self._keys)
        with self._lock:
            self._running[key] = label

        def target() -> None:
            try:
                result = work()
            except BaseException as error:  # handed to the driving thread, never lost
                self._finished.put((key, label, failed, error, True))
            else:
                self._finished.put((key, label, done, result, False))

        threading.Thread(target=target, name=f"job-{label}", daemon=True).start()

    def deliver(self) -> None:
        """Run the callbacks of the work finished so far (errors without one are kept)."""
        while True:
            try:
                key, label, callback, value, error = self._finished.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                self._running.pop(key, None)
            if callback is not None:
                callback(value)
            elif error:
                self.errors.append((label, value))


class Desk:
    """The application of a headless calibration run.

    Parameters
    ----------
    registry_dir : Path, optional
        The model registry (default registry when None).
    buffer_seconds : float
        Ring-buffer length of each signal stream.
    """

    def __init__(self, registry_dir: Path | None = None, *, buffer_seconds: float = 60.0) -> None:
        self.tasks = ThreadJobs()
        self.acquisition = AcquisitionSession(seconds=buffer_seconds)
        self.players: dict[str, Player] = {}
        self.decoders: dict[str, LiveDecoder] = {}
        self.session: SessionRecorder | None = None
        self.trainings: list[ChildTask] = []
        self.notices: list[tuple[str, str]] = []
        self._registry_dir = registry_dir

    @property
    def registry(self) -> ModelRegistry:
        """Return the model registry."""
        return ModelRegistry(self._registry_dir)

    def new_session(self, info: SessionInfo, folder: Path) -> SessionRecorder:
        """Start a session recorded into ``folder``."""
        self.session = SessionRecorder(self.acquisition, info, folder)
        return self.session

    @property
    def recording(self) -> bool:
        """Return True while recording."""
        return self.session is not None and self.session.recording

    def inlet(self, name: str) -> Inlet | None:
        """Return the open inlet called ``name``."""
        return self.acquisition.inlets.get(name)

    def play(
        self,
        load: Callable[[], Any],
        name: str,
        *,
        loop: bool = True,
        source: str = "",
        markers: bool = True,
        failed: Failed | None = None,
    ) -> None:
        """Stream the recording ``load()`` returns as ``name``, then open the stream."""
        from acquisition.player import Player

        def start() -> Player:
            return Player(load(), name=name, loop=loop, source=source, markers=markers).start()

        def started(player: Player) -> None:
            self.players[name] = player
            self.open_stream(name, player.source_id)

        self.tasks.run(f"player {name}", start, done=started, failed=failed)

    def open_stream(self, name: str, source_id: str = "") -> None:
        """Open the stream ``name`` (a failure becomes a notice)."""
        self.tasks.run(
            f"connect {name}",
            lambda: self.acquisition.open(name=name, source_id=source_id or None, timeout=3.0),
            failed=lambda error: self.notify("error", f"could not connect '{name}': {error}"),
        )

    def start_recording(self, done: Done | None = None, failed: Failed | None = None) -> None:
        """Record every open stream into the session."""
        self.tasks.run("start recording", self.session.start, done=done, failed=failed)

    def stop_recording(self, done: Done | None = None, failed: Failed | None = None) -> None:
        """Close the recording; ``done`` receives its result."""
        if self.session is not None and self.session.recorder is not None:
            self.tasks.run("stop recording", self.session.stop, done=done, failed=failed)

    def start_decoder(
        self,
        model: str,
        stream: str,
        *,
        name: str | None = None,
        done: Done | None = None,
        failed: Failed | None = None,
    ) -> None:
        """Decode ``stream`` with the registered ``model``; ``done`` receives the decoder."""
        from bci_app.inference.engine import InferenceEngine

        registry = self.registry
        runner_name = name or model.partition(":")[0]

        def build() -> LiveDecoder:
            engine = InferenceEngine(registry, session=self.acquisition)
            try:
                runner = engine.add(stream, model, name=runner_name)
            except Exception:
                engine.stop()
                raise
            live = LiveDecoder(runner_name, engine, runner)
            engine.subscribe(live.predictions.append)
            engine.start()
            return live

        def started(live: LiveDecoder) -> None:
            self.decoders[live.name] = live
            if done is not None:
                done(live)

        self.tasks.run(f"load model {model}", build, done=started, failed=failed)

    def stop_decoder(self, name: str) -> None:
        """Stop the decoder ``name``."""
        live = self.decoders.pop(name, None)
        if live is not None:
            live.engine.stop()

    def train(
        self,
        label: str,
        job: StagedJob,
        *,
        progress: Callable[[str], None],
        done: Done,
        failed: Failed,
    ) -> ChildTask:
        """Run the training ``job`` in a child process; ``done`` receives its result."""
        task = ChildTask(label, job, progress=progress, done=done, failed=failed)
        self.trainings.append(task)
        return task

    def notify(self, level: str, text: str) -> None:
        """Keep a notice for the user."""
        self.notices.append((level, text))

    def deliver(self) -> None:
        """Run the callbacks of every action finished so far, and of the trainings."""
        self.tasks.deliver()
        for task in self.trainings:
            task.poll()
        self.trainings = [task for task in self.trainings if task.running]

    def drive(
        self,
        run: CalibrationRun,
        until: Callable[[], bool],
        *,
        timeout: float,
        period: float = 0.015,
    ) -> None:
        """Deliver callbacks and tick ``run`` on its clock until ``until()`` holds.

        Raises
        ------
        TimeoutError
            When ``until()`` still fails after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{run.stage}: {run.status} (after {timeout:g} s)")
            self.deliver()
            run.tick(run.clock())
            time.sleep(period)

    def close(self) -> None:
        """Stop the trainings, the decoders, the recording, the players and the streams."""
        for task in self.trainings:
            task.cancel()
        for name in list(self.decoders):
            self.stop_decoder(name)
        if self.recording:
            self.session.stop()
        for player in self.players.values():
            player.stop()
        self.players.clear()
        self.acquisition.stop()
