"""EEG channel layouts for the simulators: standard subsets of the 10-10 system by channel count."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .errors import SimulatorError

if TYPE_CHECKING:
    import mne

MONTAGE = "colin27_1020"
"""MNE's standard montage giving every electrode position (10-20/10-10 names)."""

# Old 10-20 aliases and ear/mastoid points of the montage: not offered for automatic layouts.
_ALIASES = ("T3", "T5", "T4", "T6", "A1", "A2", "M1", "M2")


def _layout(names: str) -> tuple[str, ...]:
    """Return the channel names of a space-separated list."""
    return tuple(names.split())


LAYOUTS: dict[int, tuple[str, ...]] = {
    8: _layout("Fz FC3 FC4 C3 Cz C4 CP3 CP4"),
    16: _layout("Fz FC3 FC1 FCz FC2 FC4 C3 C1 Cz C2 C4 CP3 CP1 CPz CP2 CP4"),
    # BCI Competition IV 2a.
    22: _layout("Fz FC3 FC1 FCz FC2 FC4 C5 C3 C1 Cz C2 C4 C6 CP3 CP1 CPz CP2 CP4 P1 Pz P2 POz"),
    # A common 32-channel 10-20 cap.
    32: _layout(
        "Fp1 Fz F3 F7 FT9 FC5 FC1 C3 T7 TP9 CP5 CP1 Pz P3 P7 O1 Oz O2 P4 P8 TP10 CP6 CP2 Cz C4 "
        "T8 FT10 FC6 FC2 F4 F8 Fp2"
    ),
    # The 64-channel 10-10 layout of BioSemi caps.
    64: _layout(
        "Fp1 AF7 AF3 F1 F3 F5 F7 FT7 FC5 FC3 FC1 C1 C3 C5 T7 TP7 CP5 CP3 CP1 P1 P3 P5 P7 P9 PO7 "
        "PO3 O1 Iz Oz POz Pz CPz Fpz Fp2 AF8 AF4 AFz Fz F2 F4 F6 F8 FT8 FC6 FC4 FC2 FCz Cz C2 C4 "
        "C6 T8 TP8 CP6 CP4 CP2 P2 P4 P6 P8 P10 PO8 PO4 O2"
    ),
}
"""Standard layouts for the usual channel counts."""

TUH_LAYOUT = _layout("Fp1 Fp2 F7 F3 Fz F4 F8 T3 C3 Cz C4 T4 T5 P3 Pz P4 T6 O1 O2")
"""The 19 electrodes of the 10-20 system, named as in the TUH EEG corpus (T3/T4/T5/T6)."""


@lru_cache(maxsize=1)
def electrode_positions() -> dict[str, np.ndarray]:
    """Return every electrode of :data:`MONTAGE` and the nasion, in metres, head frame."""
    import mne

    montage = mne.channels.make_standard_montage(MONTAGE)
    info = mne.create_info(montage.ch_names, 100.0, "eeg")
    info.set_montage(montage)
    head = info.get_montage().get_positions()
    positions = {name: np.asarray(pos, dtype=float) for name, pos in head["ch_pos"].items()}
    positions["nasion"] = np.asarray(head["nasion"], dtype=float)
    return positions


def dig_montage(ch_names: Sequence[str]) -> mne.channels.DigMontage:
    """Return the head-frame montage of ``ch_names`` (positions of :data:`MONTAGE`, nasion)."""
    import mne

    positions = electrode_positions()
    return mne.channels.make_dig_montage(
        ch_pos={name: positions[name] for name in ch_names},
        nasion=positions["nasion"],
        coord_frame="head",
    )


def select_channels(channels: int | Sequence[str]) -> tuple[str, ...]:
    """Return the channel names of a layout given by count or by names.

    Parameters
    ----------
    channels : int | sequence of str
        A count (8, 16, 22, 32 and 64 give the layouts of :data:`LAYOUTS`; any other count gives
        the 10-10 electrodes nearest to C3, Cz or C4, the sensorimotor strip) or explicit
        10-20/10-10 names (matched case-insensitively).

    Returns
    -------
    names : tuple of str
        Channel names as the montage spells them.
    """
    known = [name for name in electrode_positions() if name != "nasion"]
    if isinstance(channels, int | np.integer):
        return _by_count(int(channels), [name for name in known if name not in _ALIASES])
    if isinstance(channels, str):
        raise SimulatorError("channels", f"expected a count or a list of names, got '{channels}'")
    spelling = {name.lower(): name for name in known}
    names = tuple(spelling.get(str(name).lower(), str(name)) for name in channels)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SimulatorError("channels", f"not in the {MONTAGE} montage: {', '.join(unknown)}")
    if not names:
        raise SimulatorError("channels", "the channel list is empty")
    if len(set(names)) != len(names):
        raise SimulatorError("channels", f"repeated channel names in {list(names)}")
    return names


def _by_count(count: int, candidates: list[str]) -> tuple[str, ...]:
    """Return the standard layout of ``count`` channels or the ``count`` most central ones."""
    if count in LAYOUTS:
        return LAYOUTS[count]
    if not 1 <= count <= len(candidates):
        raise SimulatorError(
            "channels", f"a count between 1 and {len(candidates)} is needed, got {count}"
        )
    positions = electrode_positions()
    centres = np.array([positions[name] for name in ("C3", "Cz", "C4")])
    distance = [np.linalg.norm(centres - positions[name], axis=1).min() for name in candidates]
    order = np.argsort(distance, kind="stable")[:count]
    return tuple(candidates[i] for i in sorted(order))
