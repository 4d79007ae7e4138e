"""The interface every preprocessing step implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

# Channel types that carry no signal to filter or rescale.
NON_SIGNAL_TYPES = frozenset({"stim"})


class Step(ABC):
    """One causal step that keeps its state between chunks.

    Parameters
    ----------
    ch_names, ch_types : sequence of str
        Names and MNE types of the input channels.
    sfreq : float
        Input sampling rate in Hz.

    Attributes
    ----------
    ch_names, ch_types, sfreq
        What comes out (a step may drop, rename or resample channels).
    """

    kind: ClassVar[str]

    def __init__(self, ch_names: Sequence[str], ch_types: Sequence[str], sfreq: float) -> None:
        if len(ch_names) != len(ch_types):
            raise ValueError(f"{len(ch_names)} channel names but {len(ch_types)} types")
        self.in_names = tuple(ch_names)
        self.in_types = tuple(ch_types)
        self.in_sfreq = float(sfreq)
        self.ch_names = self.in_names
        self.ch_types = self.in_types
        self.sfreq = self.in_sfreq

    @abstractmethod
    def process(self, data: np.ndarray) -> np.ndarray:
        """Process the next samples (n_channels, n_times) and return the output samples."""

    @abstractmethod
    def reset(self) -> None:
        """Forget the state: the next sample is treated as the first."""

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Return the keyword arguments that rebuild this step (JSON-able)."""

    def spec(self) -> dict[str, Any]:
        """Return the step as a spec entry: ``{"step": kind, **params}``."""
        return {"step": self.kind, **self.params()}

    def signal_picks(self, types: Sequence[str] | None) -> np.ndarray:
        """Return the indices of the input channels a step acts on (all but stim by default)."""
        if types is None:
            chosen = [t not in NON_SIGNAL_TYPES for t in self.in_types]
        else:
            chosen = [t in types for t in self.in_types]
        return np.flatnonzero(chosen)
