"""Work off the GUI thread: run a function in a worker thread, get its result on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Tasks(QObject):
    """Runs blocking work (I/O, discovery, model loading, training) in daemon threads.

    The callbacks run on the GUI thread (the result travels through a queued signal), so
    they may touch widgets. A failure without a ``failed`` callback is reported through
    :attr:`error` with the task's label.
    """

    error = Signal(str, str)  # label, message
    _finished = Signal(object, object, object)  # callback, value, label

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._finished.connect(self._deliver)
        self._running: dict[int, str] = {}
        self._lock = threading.Lock()
        self._counter = 0

    @property
    def running(self) -> list[str]:
        """Return the labels of the tasks still running."""
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
        """Run ``work()`` in a new thread; then ``done(result)`` or ``failed(error)``."""
        with self._lock:
            self._counter += 1
            key = self._counter
            self._running[key] = label

        def target() -> None:
            try:
                result = work()
            except BaseException as error:  # handed to the GUI thread, never lost
                self._finished.emit(failed or self._report(label), error, key)
            else:
                self._finished.emit(done, result, key)

        threading.Thread(target=target, name=f"task-{label}", daemon=True).start()

    def _report(self, label: str) -> Failed:
        return lambda error: self.error.emit(label, _describe(error))

    def _deliver(self, callback: Callable[[Any], None] | None, value: Any, key: int) -> None:
        with self._lock:
            self._running.pop(key, None)
        if callback is not None:
            callback(value)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if isinstance(error, ValueError | LookupError | OSError) else f"{text!r}"
