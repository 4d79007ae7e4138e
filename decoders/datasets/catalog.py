"""Every real recording by name: what it is, where it comes from and how to load it."""

from __future__ import annotations

from dataclasses import dataclass

from .archives import ECOG_LFP, MEG_EEG, TRIAL_SETS, Archive
from .loaders import TRIAL_SET_INFO


@dataclass(frozen=True)
class CatalogEntry:
    """A named real recording or trial set."""

    name: str
    kind: str  # "continuous" or "trials"
    archive: Archive
    description: str


CATALOG: dict[str, CatalogEntry] = {
    "meg-eeg": CatalogEntry(
        "meg-eeg",
        "continuous",
        MEG_EEG,
        "Neuromag MEG (204 grad + 102 mag) + 60 EEG + EOG + stim, 600.6 Hz, 24 s, "
        "auditory/visual stimuli (MNE test_raw.fif)",
    ),
    "ecog-lfp": CatalogEntry(
        "ecog-lfp",
        "continuous",
        ECOG_LFP,
        "human ECoG (6) + subthalamic LFP (3) + grip force, 1000 Hz, 19 s, three grips (BIDS)",
    ),
} | {
    name: CatalogEntry(name, "trials", TRIAL_SETS, info.description)
    for name, info in TRIAL_SET_INFO.items()
}
