"""Follow a model name in the registry and offer each newer version to a runner.

Loading a model (hash check, ONNX Runtime session, warm-up run) happens in this watcher's
thread; the runner only swaps a reference between two windows, so decoding never waits.
"""

from __future__ import annotations

import threading

from bci_app.errors import LiveError
from bci_app.models.registry import ModelRegistry

from .model import OnnxModel
from .runner import DecoderRunner


class ModelFollower:
    """Watches ``registry`` for versions of ``name`` newer than ``version``.

    Parameters
    ----------
    registry : ModelRegistry
        Where new versions are registered (e.g. by :func:`~decoders.export.publish.publish`).
    name : str
        The model name followed.
    version : int
        The version running now.
    runner : DecoderRunner
        Receives each newer version that loads.
    interval : float
        Seconds between two looks at the manifest (a stat call when nothing changed).
    """

    def __init__(
        self,
        registry: ModelRegistry,
        name: str,
        version: int,
        runner: DecoderRunner,
        *,
        interval: float = 0.2,
    ) -> None:
        self.registry, self.name, self.version = registry, name, version
        self.runner = runner
        self.interval = interval
        self._stamp = registry.stamp()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """Look once; offer a newer version to the runner; return True if one was offered."""
        stamp = self.registry.stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            record = self.registry.get(self.name)
            if record.version <= self.version:
                return False
            self.version = record.version
            model = OnnxModel(self.registry.read_verified(record), record.ref)
        except LiveError as error:
            self.runner.note(f"newer version of {self.name} not loaded: {error}")
            return False
        return self.runner.offer(model, record.ref)

    def start(self) -> ModelFollower:
        """Watch in a background thread."""
        self._thread = threading.Thread(target=self._run, name=f"follow-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()
