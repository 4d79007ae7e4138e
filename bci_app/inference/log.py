"""A JSON-lines log of predictions and engine events, one line each, flushed as written."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from .prediction import Prediction


class PredictionLog:
    """Appends predictions and events to a file (safe from several runner threads).

    Parameters
    ----------
    path : Path
        The ``.jsonl`` file (appended to; its folder is created).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", buffering=1)  # noqa: SIM115 (closed by close())
        self._lock = threading.Lock()

    def prediction(self, prediction: Prediction) -> None:
        """Write one prediction with its latency trace."""
        self._write({"kind": "prediction", **prediction.to_dict()})

    def event(self, runner: str, message: str, **details: Any) -> None:
        """Write an engine event (model swap, skipped window, error)."""
        self._write({"kind": "event", "runner": runner, "message": message, **details})

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._file.close()

    def _write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
