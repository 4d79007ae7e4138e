"""Heavy work in a child process: training and export away from the desktop's interpreter.

A :class:`ChildTask` runs a :class:`StagedJob` in a process started with the ``spawn`` method
(a fresh interpreter: no Qt, none of the parent's threads), at a lower priority and with one
core fewer than the machine has, so the desktop keeps drawing and acquiring while a model
trains. The job writes only into a staging folder of its own and reports its progress with
short texts; the texts and its outcome come back through a pipe that the parent reads without
blocking (:meth:`ChildTask.poll`, from a GUI timer or a headless loop). Once the child has
finished, the parent moves the output into place in a thread of its own
(:meth:`StagedJob.finish`: the run folder renamed, the model registered); a child that is cancelled, killed or fails leaves nothing
but its staging folder, which is removed. A child whose parent dies ends too.

This module imports nothing heavy: the child imports what its job needs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import shutil
import signal
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .staging import StagedJob, staging_folder

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
NICENESS = 10
"""Priority the child lowers itself by (the desktop wins the cores it shares with it)."""
PARENT_CHECK_S = 1.0


class ChildFailed(RuntimeError):
    """The child's job raised, or the child died; the message says which."""


class State(StrEnum):
    """Where a child task stands."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ChildTask:
    """A :class:`StagedJob` running in a child process.

    Parameters
    ----------
    label : str
        What it trains, for the user (``demo model``, ``calibration model``).
    job : StagedJob
        The work.
    progress : callable
        Called with each progress text.
    done : callable
        Called with the job's result once it is in place.
    failed : callable
        Called with a :class:`ChildFailed` when the job raised or the child died.

    Notes
    -----
    The callbacks run in :meth:`poll`, on the thread that polls.
    """

    def __init__(
        self,
        label: str,
        job: StagedJob,
        *,
        progress: Callable[[str], None],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        self.label = label
        self.job = job
        self.state = State.RUNNING
        self.progress = "starting"
        self.result: Any = None
        self.error: ChildFailed | None = None
        self._callbacks = (progress, done, failed)
        self._finishing: threading.Thread | None = None
        self.staging = staging_folder(job.out)
        context = multiprocessing.get_context("spawn")
        self._pipe, sending = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_child_main,
            args=(pickle.dumps(job), str(self.staging), sending, _child_threads(), os.getpid()),
            name=f"bci-app {label}",
            daemon=True,
        )
        self.process.start()
        sending.close()  # the child holds the only sending end: its death ends the pipe

    @property
    def running(self) -> bool:
        """Return True until the task is done, failed or cancelled."""
        return self.state is State.RUNNING

    def poll(self) -> None:
        """Read what the child sent; report its progress, outcome or death (never blocks)."""
        if not self.running:
            return
        if self._finishing is not None:
            if not self._finishing.is_alive():
                self._delivered()
            return
        progress = self._callbacks[0]
        alive = self.process.is_alive()  # before reading: all it sent before dying is read
        while self._pipe.poll():
            try:
                kind, value = self._pipe.recv()
            except (EOFError, OSError):  # the child closed its end, or died
                break
            if kind == "progress":
                self.progress = value
                progress(value)
            elif kind == "done":
                self._pipe.close()
                self._finish_aside(value)
                return
            else:
                self._fail(ChildFailed(value))
                return
        if not alive:
            self._fail(ChildFailed(_death(self.label, self.process.exitcode)))

    def cancel(self) -> None:
        """Kill the child and remove its staging folder; no callback follows.

        Once the child has finished, the output it made is already being moved into place: that
        completes (a fraction of a second), and its result is dropped.
        """
        if not self.running:
            return
        self.state = State.CANCELLED
        if self._finishing is None:
            self.process.kill()
            self._end()

    def _finish_aside(self, staged: Any) -> None:
        """Move the output into place in a thread (registering may load ONNX Runtime)."""

        def finish() -> None:
            self.process.join()  # the child ends right after its last message
            try:
                self.result = self.job.finish(staged, self.staging)
            except Exception as error:
                self.error = ChildFailed(f"{self.label}: {error}")
            finally:
                shutil.rmtree(self.staging, ignore_errors=True)

        # not a daemon: an application that quits meanwhile lets the registration complete
        self._finishing = threading.Thread(target=finish, name=f"finish {self.label}")
        self._finishing.start()

    def _delivered(self) -> None:
        if self.error is not None:
            self._fail(self.error)
            return
        self.state = State.DONE
        self._callbacks[1](self.result)

    def _fail(self, error: ChildFailed) -> None:
        self.state, self.error = State.FAILED, error
        self._end()
        self._callbacks[2](error)

    def _end(self) -> None:
        """Reap the child (killed or dead: at once) and remove the staging folder."""
        self.process.join(5.0)
        self._pipe.close()
        if self.state is not State.RUNNING:
            shutil.rmtree(self.staging, ignore_errors=True)


def _death(label: str, exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the {label} process was killed by {name}{hint}"
    return f"the {label} process ended without a result (exit code {exitcode})"


def _child_threads() -> int:
    """Return the threads a child may use: all cores but one for the desktop."""
    return max(1, (os.cpu_count() or 1) - 1)


def _follow_parent(parent: int, staging: Path) -> None:
    """End the child, its staging folder removed, when ``parent`` dies without stopping it."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        shutil.rmtree(staging, ignore_errors=True)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _child_main(
    job: bytes, staging: str, connection: Connection, threads: int, parent: int
) -> None:
    """Run the job in the child and send its progress and outcome."""
    with contextlib.suppress(OSError):  # a priority that cannot be lowered: the job still runs
        os.nice(NICENESS)
    for variable in _THREAD_VARIABLES:  # before the job's imports start their thread pools
        os.environ[variable] = str(threads)
    _follow_parent(parent, Path(staging))
    lock = threading.Lock()  # the job may report from a thread of its own

    def send(kind: str, value: Any) -> None:
        with lock:
            connection.send((kind, value))

    try:
        work: StagedJob = pickle.loads(job)
        staged = work.stage(Path(staging), lambda text: send("progress", text))
    except BaseException as error:
        send("failed", str(error) or type(error).__name__)
    else:
        send("done", staged)
    finally:
        with lock:
            connection.close()
