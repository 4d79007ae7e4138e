"""A chain of preprocessing steps, built from a JSON-able spec, fed chunk by chunk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..ringbuffer import Chunk
from .base import Step
from .channels import Bipolar, CommonAverage, Pick
from .iir import BandPass, Notch, SosFilter
from .resample import Resample, interpolate
from .scaling import RobustScale

STEPS: dict[str, type[Step]] = {
    cls.kind: cls
    for cls in (BandPass, Notch, SosFilter, CommonAverage, Bipolar, Pick, Resample, RobustScale)
}
"""Every step by its spec name."""


class Pipeline:
    """Causal preprocessing applied identically live (chunk by chunk) and offline (at once).

    Non-finite input values are replaced by zeros before processing (a NaN would poison the
    filters' state for good) and counted in :attr:`non_finite`.

    Parameters
    ----------
    spec : sequence of mapping
        One entry per step: ``{"step": name, **parameters}`` with names from :data:`STEPS`,
        e.g. ``[{"step": "notch", "freqs": [50]}, {"step": "bandpass", "l_freq": 1,
        "h_freq": 40}, {"step": "car"}, {"step": "resample", "sfreq_out": 250}]``.
    ch_names, ch_types : sequence of str
        Input channel names and MNE types.
    sfreq : float
        Input rate in Hz.

    Attributes
    ----------
    ch_names, ch_types, sfreq
        What comes out.
    """

    def __init__(
        self,
        spec: Sequence[Mapping[str, Any]],
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
    ) -> None:
        self.in_names, self.in_types, self.in_sfreq = tuple(ch_names), tuple(ch_types), sfreq
        self.steps: list[Step] = []
        names, types, rate = tuple(ch_names), tuple(ch_types), float(sfreq)
        for position, entry in enumerate(spec):
            params = dict(entry)
            kind = params.pop("step", None)
            if kind not in STEPS:
                raise ValueError(
                    f"preprocessing step {position} ({kind!r}) unknown; known: {', '.join(STEPS)}"
                )
            try:
                step = STEPS[kind](names, types, rate, **params)
            except TypeError as error:
                raise ValueError(f"preprocessing step {position} ({kind}): {error}") from error
            self.steps.append(step)
            names, types, rate = step.ch_names, step.ch_types, step.sfreq
        if sum(isinstance(step, Resample) for step in self.steps) > 1:
            raise ValueError("a pipeline resamples at most once")
        self.ch_names, self.ch_types, self.sfreq = names, types, rate
        self.non_finite = 0
        self._n_out = 0
        self._last_times: np.ndarray | None = None  # (2,) timestamp and arrival of last input

    def spec(self) -> list[dict[str, Any]]:
        """Return the spec that rebuilds this pipeline (JSON-able)."""
        return [step.spec() for step in self.steps]

    def reset(self) -> None:
        """Forget every step's state: the next sample is treated as the first."""
        for step in self.steps:
            step.reset()
        self._n_out = 0
        self._last_times = None

    def process(self, data: np.ndarray) -> np.ndarray:
        """Process the next samples (n_channels, n_times) and return the output samples."""
        n_times = np.shape(data)[-1]
        return self._run(data, np.zeros((2, n_times)))[0]

    def process_chunk(self, chunk: Chunk) -> Chunk:
        """Process a chunk of a stream, mapping its timestamps and arrival times through."""
        start = self._n_out
        data, times = self._run(chunk.data, np.vstack((chunk.timestamps, chunk.arrivals)))
        return Chunk(data, times[0], times[1], start)

    def _run(self, data: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        data = np.asarray(data, dtype=float)
        if data.ndim != 2 or data.shape[0] != len(self.in_names):
            raise ValueError(
                f"expected ({len(self.in_names)}, n_times) samples, got shape {data.shape}"
            )
        finite = np.isfinite(data)
        if not finite.all():
            self.non_finite += int((~finite).sum())
            data = np.where(finite, data, 0.0)
        for step in self.steps:
            data = step.process(data)
            if isinstance(step, Resample):
                times = self._resampled_times(times, step.last_positions)
        self._n_out += data.shape[1]
        return data, times

    def _resampled_times(self, times: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Map (timestamp, arrival) rows of an input chunk onto resampled positions."""
        if self._last_times is None:
            extended, shift = times, 0
        else:
            extended, shift = np.concatenate((self._last_times, times), axis=1), 1
        if times.shape[1]:
            self._last_times = times[:, -1:]
        stamps = interpolate(extended[0], positions + shift)
        needed = np.minimum(np.ceil(positions + shift - 1e-9).astype(int), extended.shape[1] - 1)
        return np.vstack((stamps, extended[1][needed]))
