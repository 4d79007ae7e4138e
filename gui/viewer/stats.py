"""Frame statistics of the viewer: time to draw a frame, and how far the drawing lags."""

from __future__ import annotations

import threading
from collections import deque

import numpy as np


class FrameStats:
    """The most recent frame times (update + paint, ms) and drawn-vs-received lags (ms).

    Parameters
    ----------
    size : int
        Number of most recent frames kept.
    """

    def __init__(self, size: int = 2000) -> None:
        self.frame_ms: deque[float] = deque(maxlen=size)
        self.lag_ms: deque[float] = deque(maxlen=size)
        self.painted_at: deque[float] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, frame_ms: float, lag_ms: float, at: float) -> None:
        """Record one painted frame."""
        with self._lock:
            self.frame_ms.append(frame_ms)
            self.lag_ms.append(lag_ms)
            self.painted_at.append(at)

    def clear(self) -> None:
        """Forget every frame."""
        with self._lock:
            self.frame_ms.clear()
            self.lag_ms.clear()
            self.painted_at.clear()

    def recent(self, seconds: float = 2.0) -> tuple[float, float]:
        """Return the frame rate and the median lag (ms) of the last ``seconds`` of painting."""
        import time

        with self._lock:
            stamps, lags = np.array(self.painted_at), np.array(self.lag_ms)
        keep = stamps >= time.perf_counter() - seconds
        if keep.sum() < 2:
            return 0.0, float("nan")
        return float(keep.sum() / seconds), float(np.median(lags[keep]))

    def summary(self) -> dict[str, float]:
        """Return frame-time and lag percentiles and the frame rate (empty without frames)."""
        with self._lock:
            frames, lags, stamps = (
                np.array(self.frame_ms),
                np.array(self.lag_ms),
                np.array(self.painted_at),
            )
        if frames.size == 0:
            return {}
        span = stamps[-1] - stamps[0] if stamps.size > 1 else 0.0
        return {
            "frames": float(frames.size),
            "frame_p50_ms": float(np.percentile(frames, 50)),
            "frame_p99_ms": float(np.percentile(frames, 99)),
            "lag_p50_ms": float(np.percentile(lags, 50)),
            "lag_p99_ms": float(np.percentile(lags, 99)),
            "fps": float((stamps.size - 1) / span) if span > 0 else 0.0,
        }
