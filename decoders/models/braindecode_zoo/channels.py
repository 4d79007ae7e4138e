"""Channel descriptions (``chs_info``) for braindecode models that need names and positions.

Positions come from the data when the source has them (simulators, BIDS, FIF), else from a
standard MNE montage looked up by channel name (case-insensitive), also through clinical
referential labels such as TUH's ``EEG FP1-REF`` (:func:`electrode_of`). A model that needs
them and a channel that has none is refused with a message naming the ``montage`` option.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from decoders.datasets.errors import DataError

DEFAULT_MONTAGE = "colin27_1005"
"""Montage used to place channels by name when the data carry no positions."""

_REFERENTIAL = re.compile(r"^(?:EEG\s+)?(?P<electrode>[^\s-]+)-(?:REF|LE|AR|AVG)$", re.IGNORECASE)
"""A referential label: an optional ``EEG`` type prefix, the electrode, a reference suffix
(``REF``, linked ears ``LE``, average ``AR``/``AVG``), as TUH and clinical EDF files name
channels."""


def electrode_of(label: str) -> str:
    """Return the electrode of a referential label (``EEG FP1-REF`` gives ``FP1``), else ``label``."""
    found = _REFERENTIAL.match(label.strip())
    return found["electrode"] if found else label


@lru_cache(maxsize=8)
def montage_positions(montage: str) -> dict[str, np.ndarray]:
    """Return ``{lower-case name: position (m)}`` of an MNE standard montage.

    Raises
    ------
    DataError
        When ``montage`` is not one of MNE's standard montages.
    """
    import mne

    known = mne.channels.get_builtin_montages()
    if montage not in known:
        raise DataError(
            f"montage {montage!r}", f"is not an MNE standard montage (known: {', '.join(known)})"
        )
    positions = mne.channels.make_standard_montage(montage).get_positions()["ch_pos"]
    return {name.lower(): np.asarray(pos, dtype=float) for name, pos in positions.items()}


def channel_positions(
    ch_names: tuple[str, ...],
    data_positions: Mapping[str, np.ndarray] | None,
    montage: str | None,
) -> np.ndarray:
    """Return positions (n_channels, 3) in metres, NaN rows for channels placed nowhere.

    The data's own positions win; the others are looked up in ``montage`` (None: none).
    """
    lookup = montage_positions(montage) if montage else {}
    rows = []
    for name in ch_names:
        position = (data_positions or {}).get(name)
        if position is None:
            position = lookup.get(name.lower(), lookup.get(electrode_of(name).lower()))
        rows.append(np.full(3, np.nan) if position is None else np.asarray(position, float))
    return np.stack(rows) if rows else np.zeros((0, 3))


def chs_info(
    ch_names: tuple[str, ...],
    ch_types: tuple[str, ...],
    positions: np.ndarray,
    *,
    model: str,
    montage: str | None,
) -> list[dict]:
    """Return braindecode's ``chs_info``: name, type and 12-value ``loc`` of every channel.

    Raises
    ------
    DataError
        When a channel has no position: the message names the channels and the ``montage``
        option that would place them.
    """
    missing = [name for name, row in zip(ch_names, positions, strict=True) if np.isnan(row).any()]
    if missing:
        where = f"in montage {montage!r}" if montage else "(no montage set)"
        raise DataError(
            model,
            f"needs channel positions, and {len(missing)} channel(s) have none in the data or "
            f"{where}: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}; train on "
            "data that carry positions, or name the channels' montage with the decoder option "
            "montage (e.g. --set montage=colin27_1005; any MNE standard montage)",
        )
    info = []
    for name, kind, row in zip(ch_names, ch_types, positions, strict=True):
        loc = np.zeros(12)
        loc[:3] = row
        info.append({"ch_name": name, "kind": kind, "loc": loc})
    return info
