"""Timestamps of regular streams: clock-offset correction and online dejittering."""

from __future__ import annotations

import math
from collections import deque

import numpy as np


class ClockOffset:
    """The offset mapping a sender's LSL clock onto ours, from ``time_correction`` readings.

    The median of the last readings is used, so that one slow round trip does not move
    every timestamp.

    Parameters
    ----------
    history : int
        Number of recent readings the median is taken over.
    """

    def __init__(self, history: int = 5) -> None:
        self._readings: deque[float] = deque(maxlen=history)

    def add(self, offset: float) -> None:
        """Add one reading (seconds to add to a remote timestamp)."""
        if math.isfinite(offset):
            self._readings.append(offset)

    @property
    def known(self) -> bool:
        """Return True once at least one reading arrived."""
        return bool(self._readings)

    @property
    def value(self) -> float:
        """Return the current offset in seconds (0 before any reading)."""
        return float(np.median(self._readings)) if self._readings else 0.0


class Dejitter:
    """Online dejittering of a regular stream's timestamps.

    Timestamps are fitted as a straight line of the sample count (intercept and actual
    sampling period) by exponentially weighted least squares, so that old samples fade
    with a half-life of ``halftime`` seconds; each sample then gets the fitted time. The
    slope starts at the nominal period and follows clock drift. A jump between the
    fitted and the arriving times larger than ``break_threshold`` starts a new segment and
    is reported by :meth:`update`: forward, it is a gap; backward (a sender's clock reset),
    the new segment is shifted to continue the old one, so timestamps never go back.

    Parameters
    ----------
    sfreq : float
        Nominal sampling rate in Hz.
    halftime : float
        Half-life of a sample's weight in the fit, in seconds.
    break_threshold : float
        Seconds by which a timestamp may depart from the fit before a new segment starts.
    """

    def __init__(self, sfreq: float, *, halftime: float = 10.0, break_threshold: float = 0.1):
        if sfreq <= 0:
            raise ValueError(f"dejittering needs a regular stream, got a rate of {sfreq} Hz")
        self.sfreq = sfreq
        self.break_threshold = break_threshold
        self._decay = 0.5 ** (1.0 / (halftime * sfreq))
        # A prior worth one second of samples at exactly the nominal period.
        self._prior = sfreq**3 / 12.0
        self.reset()

    def reset(self) -> None:
        """Forget the fit and any shift: the next timestamps start a new segment."""
        self._shift = 0.0  # added to arriving times after a backward jump
        self._restart()

    def _restart(self) -> None:
        self._count = 0  # samples seen in this segment
        self._x0 = 0.0  # origin of the sample axis (a recent sample count)
        self._y0 = 0.0  # origin of the time axis (a recent timestamp)
        self._sw = self._sx = self._sy = self._sxx = self._sxy = 0.0

    def predict(self, count: int) -> float:
        """Return the fitted time of the segment's sample number ``count``."""
        slope, intercept = self._line()
        return self._y0 + intercept + slope * (count - self._x0)

    def update(self, stamps: np.ndarray) -> tuple[np.ndarray, float]:
        """Fit the next timestamps in and return their dejittered values.

        Parameters
        ----------
        stamps : ndarray, shape (n,)
            The arriving (clock-corrected) timestamps of consecutive samples.

        Returns
        -------
        dejittered : ndarray, shape (n,)
            The fitted timestamps.
        jump : float
            Seconds by which these samples departed from the fit when they start a new
            segment (positive: a gap, negative: the sender's clock went back); else 0.
        """
        stamps = np.asarray(stamps, dtype=float) + self._shift
        if stamps.size == 0:
            return stamps.copy(), 0.0
        jump = 0.0
        if self._count:
            expected = self.predict(self._count)
            if abs(stamps[0] - expected) > self.break_threshold:
                jump = float(stamps[0] - expected)
                self._restart()
                if jump < 0:
                    continued = expected - stamps[0]
                    self._shift += continued
                    stamps = stamps + continued
        if self._count == 0:
            self._x0, self._y0 = 0.0, float(stamps[0])
        counts = self._count + np.arange(stamps.size, dtype=float)
        self._recentre(float(counts[-1]), float(stamps[-1]))
        x = counts - self._x0
        y = stamps - self._y0
        weights = self._decay ** (x[-1] - x)
        fade = self._decay**stamps.size
        self._sw = self._sw * fade + weights.sum()
        self._sx = self._sx * fade + weights @ x
        self._sy = self._sy * fade + weights @ y
        self._sxx = self._sxx * fade + weights @ (x * x)
        self._sxy = self._sxy * fade + weights @ (x * y)
        self._count += stamps.size
        slope, intercept = self._line()
        return self._y0 + intercept + slope * x, jump

    def _line(self) -> tuple[float, float]:
        """Return slope and intercept of the fit in the current origins."""
        period = 1.0 / self.sfreq
        if self._sw == 0:
            return period, 0.0
        mean_x = self._sx / self._sw
        mean_y = self._sy / self._sw
        var_x = self._sxx - self._sw * mean_x * mean_x
        cov_xy = self._sxy - self._sw * mean_x * mean_y
        slope = (cov_xy + self._prior * period) / (var_x + self._prior)
        return slope, mean_y - slope * mean_x

    def _recentre(self, x_new: float, y_new: float) -> None:
        """Move the origins to ``(x_new, y_new)`` keeping the fit (for numerical accuracy)."""
        dx, dy = x_new - self._x0, y_new - self._y0
        self._sxx += -2 * dx * self._sx + dx * dx * self._sw
        self._sxy += -dx * self._sy - dy * self._sx + dx * dy * self._sw
        self._sx -= dx * self._sw
        self._sy -= dy * self._sw
        self._x0, self._y0 = x_new, y_new
