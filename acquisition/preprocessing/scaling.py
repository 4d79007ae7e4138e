"""Per-channel robust scaling with statistics of the recent past, updated on a fixed grid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Step


class RobustScale(Step):
    """Centre each channel on its median and divide by its interquartile range.

    The statistics come from the last ``window`` seconds and are recomputed every
    ``update`` seconds of signal, at sample numbers that are multiples of the update length:
    each sample is scaled with the statistics of the last update before it, so the output
    does not depend on the chunking. Samples before the first update (the first ``update``
    seconds) come out as zeros: :attr:`ready` tells when real values start.

    Parameters
    ----------
    ch_names, ch_types, sfreq
        Input channels and rate.
    window : float
        Seconds of past signal the statistics are taken over.
    update : float
        Seconds between two updates of the statistics.
    types : sequence of str, optional
        Channel types scaled (default: all but stim); the others pass unchanged.
    """

    kind = "robust_scale"

    def __init__(
        self,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
        *,
        window: float = 10.0,
        update: float = 1.0,
        types: Sequence[str] | None = None,
    ) -> None:
        super().__init__(ch_names, ch_types, sfreq)
        if window <= 0 or update <= 0:
            raise ValueError("window and update must be positive")
        self.window, self.update = window, update
        self.types = None if types is None else list(types)
        self._picks = self.signal_picks(types)
        self._n_window = max(2, round(window * sfreq))
        self._n_update = max(1, round(update * sfreq))
        self.reset()

    @property
    def ready(self) -> bool:
        """Return True once the statistics exist (outputs are no longer zeros)."""
        return self._median is not None

    def reset(self) -> None:
        """Forget the history and the statistics."""
        self._count = 0
        self._refreshed_at = 0
        self._history = np.zeros((self._picks.size, self._n_window))  # a ring, by sample number
        self._median: np.ndarray | None = None
        self._scale: np.ndarray | None = None

    def process(self, data: np.ndarray) -> np.ndarray:
        """Scale the next samples."""
        out = np.array(data, dtype=float, copy=True)
        n_times = out.shape[1]
        start = 0
        while start < n_times:
            at_update = self._count and self._count % self._n_update == 0
            if at_update and self._refreshed_at != self._count:
                self._refresh()
            until_update = self._n_update - self._count % self._n_update
            stop = min(n_times, start + until_update)
            segment = out[self._picks, start:stop]
            self._remember(segment)
            if self._median is None:
                out[self._picks, start:stop] = 0.0
            else:
                out[self._picks, start:stop] = (segment - self._median) / self._scale
            self._count += stop - start
            start = stop
        return out

    def params(self) -> dict[str, Any]:
        """Return the window, update interval and channel types."""
        return {"window": self.window, "update": self.update, "types": self.types}

    def _remember(self, segment: np.ndarray) -> None:
        """Store the segment's samples at their sample numbers modulo the window."""
        positions = np.arange(self._count, self._count + segment.shape[1]) % self._n_window
        self._history[:, positions[-self._n_window :]] = segment[:, -self._n_window :]

    def _refresh(self) -> None:
        self._refreshed_at = self._count
        held = self._history[:, : min(self._count, self._n_window)]
        low, median, high = np.percentile(held, [25, 50, 75], axis=1)
        spread = high - low
        self._median = median[:, None]
        self._scale = np.where(spread > 0, spread, 1.0)[:, None]
