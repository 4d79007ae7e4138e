"""Causal IIR filters (second-order sections) whose state is carried from chunk to chunk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Step


class SosFilter(Step):
    """A causal filter given as second-order sections, with carried state.

    The state starts at the filter's steady state for the first sample's value (no
    start-up step from an amplifier's DC offset), so the result does not depend on how
    the signal is cut into chunks.

    Parameters
    ----------
    ch_names, ch_types, sfreq
        Input channels and rate.
    sos : ndarray, shape (n_sections, 6)
        The filter.
    types : sequence of str, optional
        Channel types filtered (default: all but stim).
    """

    kind = "sos"

    def __init__(
        self,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
        sos: np.ndarray,
        *,
        types: Sequence[str] | None = None,
    ) -> None:
        super().__init__(ch_names, ch_types, sfreq)
        self.sos = np.atleast_2d(np.asarray(sos, dtype=float))
        self.types = None if types is None else list(types)
        self._picks = self.signal_picks(types)
        self._state: np.ndarray | None = None

    def process(self, data: np.ndarray) -> np.ndarray:
        """Filter the next samples."""
        from scipy.signal import sosfilt, sosfilt_zi

        out = np.array(data, dtype=float, copy=True)
        if out.shape[1] == 0 or self._picks.size == 0:
            return out
        picked = out[self._picks]
        if self._state is None:
            unit = sosfilt_zi(self.sos)  # (n_sections, 2)
            self._state = unit[:, None, :] * picked[:, 0][None, :, None]
        out[self._picks], self._state = sosfilt(self.sos, picked, axis=1, zi=self._state)
        return out

    def reset(self) -> None:
        """Forget the filter state."""
        self._state = None

    def params(self) -> dict[str, Any]:
        """Return the sections and channel types."""
        return {"sos": self.sos.tolist(), "types": self.types}


class BandPass(SosFilter):
    """Butterworth band-pass, high-pass (no ``h_freq``) or low-pass (no ``l_freq``).

    Parameters
    ----------
    ch_names, ch_types, sfreq
        Input channels and rate.
    l_freq, h_freq : float, optional
        Edges in Hz.
    order : int
        Butterworth order (per edge).
    types : sequence of str, optional
        Channel types filtered (default: all but stim).
    """

    kind = "bandpass"

    def __init__(
        self,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
        *,
        l_freq: float | None = None,
        h_freq: float | None = None,
        order: int = 4,
        types: Sequence[str] | None = None,
    ) -> None:
        from scipy.signal import butter

        nyquist = sfreq / 2
        if l_freq is None and h_freq is None:
            raise ValueError("a band-pass needs l_freq, h_freq or both")
        for edge in (l_freq, h_freq):
            if edge is not None and not 0 < edge < nyquist:
                raise ValueError(f"filter edge {edge} Hz outside (0, {nyquist:g}) Hz")
        if l_freq is not None and h_freq is not None and l_freq >= h_freq:
            raise ValueError(f"l_freq {l_freq} Hz must be below h_freq {h_freq} Hz")
        if l_freq is None:
            sos = butter(order, h_freq, "lowpass", fs=sfreq, output="sos")
        elif h_freq is None:
            sos = butter(order, l_freq, "highpass", fs=sfreq, output="sos")
        else:
            sos = butter(order, [l_freq, h_freq], "bandpass", fs=sfreq, output="sos")
        super().__init__(ch_names, ch_types, sfreq, sos, types=types)
        self.l_freq, self.h_freq, self.order = l_freq, h_freq, order

    def params(self) -> dict[str, Any]:
        """Return the edges, order and channel types."""
        return {
            "l_freq": self.l_freq,
            "h_freq": self.h_freq,
            "order": self.order,
            "types": self.types,
        }


class Notch(SosFilter):
    """IIR notch filters at the line frequency (and optionally its harmonics).

    Parameters
    ----------
    ch_names, ch_types, sfreq
        Input channels and rate.
    freqs : sequence of float
        Frequencies removed, in Hz.
    quality : float
        Quality factor (centre frequency / bandwidth).
    harmonics : bool
        Also remove every multiple of each frequency below Nyquist.
    types : sequence of str, optional
        Channel types filtered (default: all but stim).
    """

    kind = "notch"

    def __init__(
        self,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
        *,
        freqs: Sequence[float] = (50.0,),
        quality: float = 30.0,
        harmonics: bool = False,
        types: Sequence[str] | None = None,
    ) -> None:
        from scipy.signal import iirnotch, tf2sos

        nyquist = sfreq / 2
        targets = []
        for freq in freqs:
            if not 0 < freq < nyquist:
                raise ValueError(f"notch frequency {freq} Hz outside (0, {nyquist:g}) Hz")
            multiples = np.arange(freq, nyquist, freq) if harmonics else [freq]
            targets.extend(float(f) for f in multiples)
        sections = [tf2sos(*iirnotch(f, quality, fs=sfreq)) for f in sorted(set(targets))]
        super().__init__(ch_names, ch_types, sfreq, np.vstack(sections), types=types)
        self.freqs, self.quality, self.harmonics = list(freqs), quality, harmonics

    def params(self) -> dict[str, Any]:
        """Return the frequencies, quality, harmonics flag and channel types."""
        return {
            "freqs": self.freqs,
            "quality": self.quality,
            "harmonics": self.harmonics,
            "types": self.types,
        }
