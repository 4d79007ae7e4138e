"""Loaders of the fetched real recordings, returning MNE objects and trial sets in SI units."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .archives import ECOG_LFP, MEG_EEG, TRIAL_SETS
from .fetch import fetch
from .trials import OfficialSplit, TrialSet
from .uea import read_ts

if TYPE_CHECKING:
    import mne

# Channel names and units of the trial sets, from their descriptions (NAME.txt).
_FINGER_CHANNELS = [
    "F3",
    "F1",
    "Fz",
    "F2",
    "F4",
    "FC5",
    "FC3",
    "FC1",
    "FCz",
    "FC2",
    "FC4",
    "FC6",
    "C5",
    "C3",
    "C1",
    "Cz",
    "C2",
    "C4",
    "C6",
    "CP5",
    "CP3",
    "CP1",
    "CPz",
    "CP2",
    "CP4",
    "CP6",
    "O1",
    "O2",
]
_SCP_CHANNELS = ["A1-Cz", "A2-Cz", "C3f", "C3p", "C4f", "C4p"]


@dataclass(frozen=True)
class TrialSetInfo:
    """How one UEA trial set is turned into a :class:`TrialSet`."""

    name: str
    sfreq: float
    ch_names: tuple[str, ...]
    ch_type: str
    scale: float  # stored unit -> SI unit
    description: str


TRIAL_SET_INFO: dict[str, TrialSetInfo] = {
    "FingerMovements": TrialSetInfo(
        "FingerMovements",
        100.0,
        tuple(_FINGER_CHANNELS),
        "eeg",
        1e-6,  # microvolts
        "28-ch EEG, 100 Hz, 0.5 s before a key press; left vs right (BCI Competition II)",
    ),
    "HandMovementDirection": TrialSetInfo(
        "HandMovementDirection",
        400.0,
        tuple(f"MEG{i:02d}" for i in range(1, 11)),
        "mag",
        1e-15,  # unit not stated by the source; femtotesla matches the magnitudes
        "10-ch MEG over motor cortex, 400 Hz, -0.4..0.6 s; 4 wrist directions, 2 subjects "
        "(BCI Competition IV ds3)",
    ),
    "SelfRegulationSCP1": TrialSetInfo(
        "SelfRegulationSCP1",
        256.0,
        tuple(_SCP_CHANNELS),
        "eeg",
        1e-6,  # microvolts
        "6-ch EEG, 256 Hz, 3.5 s; slow-cortical-potential negativity vs positivity "
        "(BCI Competition II Ia)",
    ),
}

ECOG_SCALE = 1e-6
"""The intracranial file stores microvolts as if they were volts: this brings it to volts."""

_ECOG_BIDS = {
    "subject": "testsub",
    "session": "EphysMedOff",
    "task": "gripforce",
    "run": "0",
    "datatype": "ieeg",
}


def load_meg_eeg(home: Path | None = None) -> mne.io.Raw:
    """Load MNE's ``test_raw.fif`` (Neuromag MEG + EEG + EOG + stim, 600.6 Hz, 24 s).

    Returns
    -------
    raw : mne.io.Raw
        Preloaded, with sensor geometry and projectors from the file and the events of
        ``test-eve.fif`` as annotations (auditory/visual left/right, smiley, button).
    """
    import mne

    folder = fetch(MEG_EEG, home, log=_quiet)
    raw = mne.io.read_raw_fif(folder / "test_raw.fif", preload=True, verbose="error")
    events = mne.read_events(folder / "test-eve.fif", verbose="error")
    names = {1: "auditory/left", 2: "auditory/right", 3: "visual/left", 4: "visual/right"}
    names |= {5: "smiley", 32: "button"}
    annotations = mne.annotations_from_events(
        events,
        raw.info["sfreq"],
        event_desc=names,
        orig_time=raw.info["meas_date"],
        verbose="error",
    )
    raw.set_annotations(annotations)
    return raw


def load_ecog_lfp(home: Path | None = None) -> mne.io.Raw:
    """Load the human ECoG + subthalamic LFP + grip-force BIDS recording (1000 Hz, 19 s).

    Channel types are ecog/dbs/misc (from the BIDS sidecars), amplitudes are rescaled to
    volts, electrode MNI positions are kept, and each grip onset (force crossing half its
    range) is an annotation ``grip``.
    """
    import mne
    import mne_bids

    folder = fetch(ECOG_LFP, home, log=_quiet)
    path = mne_bids.BIDSPath(root=folder, **_ECOG_BIDS)
    raw = mne_bids.read_raw_bids(path, verbose="error").load_data(verbose="error")
    raw.apply_function(lambda x: x * ECOG_SCALE, picks="all", channel_wise=False)
    force = raw.get_data(picks="misc")[0]
    normalised = (force - force.min()) / np.ptp(force)
    onsets = np.flatnonzero(np.diff((normalised > 0.5).astype(int)) == 1) + 1
    raw.set_annotations(
        mne.Annotations(onsets / raw.info["sfreq"], np.zeros(onsets.size), ["grip"] * onsets.size)
    )
    return raw


def load_trial_set(name: str, home: Path | None = None) -> OfficialSplit:
    """Load one UEA trial set with its official train/test split, in SI units.

    Parameters
    ----------
    name : str
        ``FingerMovements``, ``HandMovementDirection`` or ``SelfRegulationSCP1``.
    home : Path, optional
        Cache directory (default: :func:`~decoders.datasets.cache.data_home`).
    """
    info = TRIAL_SET_INFO[name]
    folder = fetch(TRIAL_SETS, home, log=_quiet) / name
    parts = {}
    for part in ("train", "test"):
        data, labels, classes = read_ts(folder / f"{name}_{part.upper()}.ts")
        parts[part] = TrialSet(
            data=data * info.scale,
            labels=np.array([classes.index(label) for label in labels]),
            classes=tuple(classes),
            sfreq=info.sfreq,
            ch_names=info.ch_names,
            ch_types=(info.ch_type,) * len(info.ch_names),
            name=f"{name}/{part}",
            ch_pos=_standard_positions(info.ch_names) if info.ch_type == "eeg" else None,
        )
    return OfficialSplit(**parts)


def _standard_positions(ch_names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    import mne

    positions = mne.channels.make_standard_montage("colin27_1020").get_positions()["ch_pos"]
    lower = {key.lower(): value for key, value in positions.items()}
    found = {name: lower[name.lower()] for name in ch_names if name.lower() in lower}
    return found or None


def _quiet(message: str) -> None:
    """Swallow fetch progress messages inside loaders (the CLI's fetch prints them)."""
