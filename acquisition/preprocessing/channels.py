"""Channel steps: common-average and bipolar re-referencing, channel selection (stateless)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Step

# Types re-referenced together by default, each type against its own average.
REFERENCED_TYPES = ("eeg", "seeg", "ecog", "dbs")


class CommonAverage(Step):
    """Subtract, at each sample, the mean of a group of channels from each of them.

    Parameters
    ----------
    ch_names, ch_types, sfreq
        Input channels and rate.
    channels : sequence of str, optional
        The channels averaged and re-referenced; by default every channel of each type in
        ``eeg``, ``seeg``, ``ecog``, ``dbs``, each type against its own average.
    """

    kind = "car"

    def __init__(
        self,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
        *,
        channels: Sequence[str] | None = None,
    ) -> None:
        super().__init__(ch_names, ch_types, sfreq)
        self.channels = None if channels is None else list(channels)
        if channels is not None:
            self._groups = [_indices(self.in_names, channels)]
        else:
            self._groups = [
                np.flatnonzero([t == kind for t in self.in_types]) for kind in REFERENCED_TYPES
            ]
            self._groups = [g for g in self._groups if g.size > 1]
        if not self._groups:
            raise ValueError("common average needs at least two EEG/sEEG/ECoG/DBS channels")

    def process(self, data: np.ndarray) -> np.ndarray:
        """Re-reference the next samples."""
        out = np.array(data, dtype=float, copy=True)
        for group in self._groups:
            out[group] -= out[group].mean(axis=0, keepdims=True)
        return out

    def reset(self) -> None:
        """Nothing to forget (stateless)."""

    def params(self) -> dict[str, Any]:
        """Return the channel list (None for the per-type default)."""
        return {"channels": self.channels}


class Bipolar(Step):
    """Differences of channel pairs (anode minus cathode), such as neighbouring sEEG contacts.

    Parameters
    ----------
    ch_names, ch_types, sfreq
        Input channels and rate.
    pairs : sequence of (str, str)
        Anode and cathode names; the output channel is named ``anode-cathode`` and has the
        anode's type.
    keep_others : bool
        Also pass on the channels used in no pair (after the bipolar channels).
    """

    kind = "bipolar"

    def __init__(
        self,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
        *,
        pairs: Sequence[Sequence[str]],
        keep_others: bool = False,
    ) -> None:
        super().__init__(ch_names, ch_types, sfreq)
        if not pairs:
            raise ValueError("bipolar re-referencing needs at least one pair")
        self.pairs = [tuple(pair) for pair in pairs]
        if any(len(pair) != 2 for pair in self.pairs):
            raise ValueError(f"each bipolar pair is (anode, cathode), got {self.pairs}")
        self.keep_others = keep_others
        self._anodes = _indices(self.in_names, [a for a, _ in self.pairs])
        self._cathodes = _indices(self.in_names, [c for _, c in self.pairs])
        used = set(self._anodes) | set(self._cathodes)
        self._others = np.array(
            [i for i in range(len(self.in_names)) if keep_others and i not in used], dtype=int
        )
        self.ch_names = tuple(f"{a}-{c}" for a, c in self.pairs) + tuple(
            self.in_names[i] for i in self._others
        )
        self.ch_types = tuple(self.in_types[i] for i in self._anodes) + tuple(
            self.in_types[i] for i in self._others
        )

    def process(self, data: np.ndarray) -> np.ndarray:
        """Return the bipolar channels (then the others when kept)."""
        data = np.asarray(data, dtype=float)
        bipolar = data[self._anodes] - data[self._cathodes]
        return np.concatenate((bipolar, data[self._others]), axis=0)

    def reset(self) -> None:
        """Nothing to forget (stateless)."""

    def params(self) -> dict[str, Any]:
        """Return the pairs and whether other channels are kept."""
        return {"pairs": [list(p) for p in self.pairs], "keep_others": self.keep_others}


class Pick(Step):
    """Keep some channels, in the order given.

    Parameters
    ----------
    ch_names, ch_types, sfreq
        Input channels and rate.
    channels : sequence of str, optional
        Names kept, in this order.
    types : sequence of str, optional
        Types kept (in input order); used when ``channels`` is None.
    """

    kind = "pick"

    def __init__(
        self,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        sfreq: float,
        *,
        channels: Sequence[str] | None = None,
        types: Sequence[str] | None = None,
    ) -> None:
        super().__init__(ch_names, ch_types, sfreq)
        if (channels is None) == (types is None):
            raise ValueError("pick needs either channels or types")
        self.channels = None if channels is None else list(channels)
        self.types = None if types is None else list(types)
        if channels is not None:
            self._picks = _indices(self.in_names, channels)
        else:
            self._picks = np.flatnonzero([t in types for t in self.in_types])
            if self._picks.size == 0:
                raise ValueError(f"no channel of types {self.types} among {sorted(set(ch_types))}")
        self.ch_names = tuple(self.in_names[i] for i in self._picks)
        self.ch_types = tuple(self.in_types[i] for i in self._picks)

    def process(self, data: np.ndarray) -> np.ndarray:
        """Return the kept channels."""
        return np.asarray(data, dtype=float)[self._picks]

    def reset(self) -> None:
        """Nothing to forget (stateless)."""

    def params(self) -> dict[str, Any]:
        """Return the names or types kept."""
        return {"channels": self.channels, "types": self.types}


def _indices(names: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    """Return the positions of ``wanted`` in ``names``, naming any that are missing."""
    position = {name: index for index, name in enumerate(names)}
    missing = [name for name in wanted if name not in position]
    if missing:
        raise ValueError(f"channels not in the stream: {', '.join(missing)}")
    return np.array([position[name] for name in wanted], dtype=int)
