"""Online adaptation beside the live engine: labelled trials in, updated decoders published.

The live path runs ONNX only, so RLEEGNet's adaptation runs here, in a worker thread: it
receives labelled feedback trials, updates the torch Q-network every ``trials_per_update``
trials (:meth:`~decoders.models.rl.rleegnet.RLEEGNet.partial_fit`, bounded by the trust region), and
hands an independent fitted copy of each accepted update to ``publish`` (typically: export to
ONNX and register it, so the engine swaps it in between two windows).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from decoders.contract import Decoder

    from .adaptation import AdaptationReport
    from .rleegnet import RLEEGNet


class AdapterBusyError(RuntimeError):
    """Raised when feedback trials arrive faster than the adapter can take them."""


class OnlineAdapter:
    """Adapt a fitted :class:`~decoders.models.rl.rleegnet.RLEEGNet` from feedback, in a thread.

    Parameters
    ----------
    decoder : RLEEGNet
        The fitted decoder the live model was exported from; it is updated in place.
    publish : callable
        Called from the worker thread with an independent fitted copy of the decoder after
        every accepted update and every rollback. Its exceptions are recorded in
        :attr:`errors`, never raised into the worker.
    trials_per_update : int
        Feedback trials gathered before an update.
    max_pending : int
        Trials that may wait in the queue; :meth:`submit` refuses more.

    Attributes
    ----------
    reports : list of AdaptationReport
        One per update, in order.
    errors : list of str
        Failures of updates or of ``publish``.
    published : int
        Successful calls of ``publish``.
    """

    def __init__(
        self,
        decoder: RLEEGNet,
        publish: Callable[[Decoder], None],
        *,
        trials_per_update: int = 4,
        max_pending: int = 256,
    ) -> None:
        if not decoder.is_fitted:
            raise ValueError("the decoder to adapt must be fitted")
        if trials_per_update < 1:
            raise ValueError(f"trials_per_update must be positive, got {trials_per_update}")
        self.decoder = decoder
        self.publish = publish
        self.trials_per_update = trials_per_update
        self.reports: list[AdaptationReport] = []
        self.errors: list[str] = []
        self.published = 0
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._pending: list[tuple[np.ndarray, int]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> OnlineAdapter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> OnlineAdapter:
        """Start the worker thread; return self."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="rleegnet-adapter", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Process what was submitted (an update for any remainder), then stop the worker."""
        if self._thread is None:
            return
        self.flush(timeout)
        self._queue.put(("stop", None))
        self._thread.join(timeout)
        self._thread = None

    def submit(self, trial: np.ndarray, label: int | str) -> None:
        """Queue one labelled feedback trial (n_channels, n_times) in SI units.

        Raises
        ------
        DataError
            When the trial or label does not fit the decoder (checked now, in the caller).
        AdapterBusyError
            When ``max_pending`` trials are already waiting.
        """
        trial = np.asarray(trial, dtype=float)
        _, (index,) = self.decoder.check_feedback(trial[None], [label])
        try:
            self._queue.put_nowait(("trial", (trial, int(index))))
        except queue.Full:
            raise AdapterBusyError(
                f"{self._queue.maxsize} feedback trials are already waiting; this one was not "
                "queued (submit it again later)"
            ) from None

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Update with every trial submitted so far, even fewer than ``trials_per_update``.

        Returns True when done within ``timeout`` seconds.
        """
        if self._thread is None:
            raise RuntimeError("the adapter is not running: call start() first")
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout)

    def rollback(self, steps: int = 1) -> None:
        """Undo the last ``steps`` updates and publish the restored decoder."""
        with self._lock:
            self.decoder.rollback(steps)
            self._publish()

    def _run(self) -> None:
        while True:
            kind, content = self._queue.get()
            if kind == "stop":
                return
            if kind == "flush":
                self._update()
                content.set()
                continue
            self._pending.append(content)
            if len(self._pending) >= self.trials_per_update:
                self._update()

    def _update(self) -> None:
        if not self._pending:
            return
        trials = np.stack([trial for trial, _ in self._pending])
        labels = [label for _, label in self._pending]
        self._pending = []
        with self._lock:
            try:
                report = self.decoder.partial_fit(trials, labels)
            except Exception as error:  # the live session must go on; the failure is kept
                self.errors.append(f"update with {len(labels)} trials failed: {error}")
                return
            self.reports.append(report)
            if not report.refused:
                self._publish()

    def _publish(self) -> None:
        try:
            self.publish(self.decoder.snapshot())
        except Exception as error:  # a failing publisher must not stop adaptation
            self.errors.append(f"publish failed: {error}")
            return
        self.published += 1
