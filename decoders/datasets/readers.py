"""One entry point that opens users' recordings and trial files.

Continuous recordings: FIF, EDF/BDF, BrainVision, EEGLAB, BIDS, XDF. Trials already cut:
UEA/aeon ``.ts``, MNE epochs (``-epo.fif``) and labelled arrays (``.npz``); for those,
:func:`read_trials` gives the trials and :func:`read_recording` lays them back to back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import DataError
from .integrity import check_brainvision_size, check_edf_size, check_fif_size

if TYPE_CHECKING:
    import mne

    from .trials import TrialSet

FORMATS = {
    "-epo.fif": "MNE epochs",
    "_epo.fif": "MNE epochs",
    "-epo.fif.gz": "MNE epochs",
    "_epo.fif.gz": "MNE epochs",
    ".ts": "UEA .ts",
    ".npz": "labelled arrays",
    ".fif": "FIF",
    ".fif.gz": "FIF",
    ".edf": "EDF",
    ".bdf": "BDF",
    ".vhdr": "BrainVision",
    ".set": "EEGLAB",
    ".xdf": "XDF",
    ".xdfz": "XDF",
}
TRIAL_FORMATS = ("MNE epochs", "UEA .ts", "labelled arrays")
"""Formats holding trials already cut and labelled."""
# A damaged file can make MNE's and mne-bids' parsers fail in any way (ValueError, KeyError,
# AttributeError, even AssertionError): at this boundary every failure to parse is the file's.
_READ_ERRORS = (Exception,)


def format_of(path: Path) -> str:
    """Return the format name of ``path`` from its suffix, or raise :class:`DataError`."""
    name = path.name.lower()
    for suffix, label in FORMATS.items():
        if name.endswith(suffix):
            return label
    known = ", ".join(sorted(FORMATS))
    raise DataError(
        path, f"unknown file format '{''.join(path.suffixes) or path.name}' (known: {known})"
    )


def is_trial_file(path: str | Path) -> bool:
    """Return True when ``path`` names a file of trials already cut (``.ts``, epochs, ``.npz``)."""
    path = Path(path)
    try:
        return not path.is_dir() and format_of(path) in TRIAL_FORMATS
    except DataError:
        return False


def read_trials(
    path: str | Path, *, sfreq: float | None = None, unit: str | None = None
) -> TrialSet:
    """Open a file of labelled trials: UEA/aeon ``.ts``, MNE ``-epo.fif`` or ``.npz`` arrays.

    Parameters
    ----------
    path : str | Path
        The file.
    sfreq : float, optional
        Sampling rate of formats that do not hold it (``.ts``); required for them.
    unit : str, optional
        Unit of the values of formats that do not hold it (``.ts``; default microvolts).

    Raises
    ------
    DataError
        For a missing file, a format that holds no trials, a truncated file, ragged or
        missing values, labels that do not fit the trials; the message names the file.
    """
    from .trial_files import read_epochs_file, read_npz_trials, read_ts_trials

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    fmt = format_of(path)
    if fmt not in TRIAL_FORMATS:
        raise DataError(path, f"is a continuous {fmt} recording, not a file of trials")
    _check_integrity(path, fmt)
    if fmt == "UEA .ts":
        return read_ts_trials(path, sfreq=sfreq, unit=unit)
    if fmt == "MNE epochs":
        return read_epochs_file(path)
    return read_npz_trials(path)


def read_recording(
    path: str | Path,
    *,
    stream: str | None = None,
    preload: bool = True,
    sfreq: float | None = None,
    unit: str | None = None,
) -> mne.io.BaseRaw:
    """Open a recording of any supported format, preloaded and checked.

    Parameters
    ----------
    path : str | Path
        A file (``.fif``, ``.edf``, ``.bdf``, ``.vhdr``, ``.set``, ``.xdf``), a file inside a
        BIDS data set (its sidecars then give channel types and events), a BIDS root holding
        exactly one recording, or a file of trials (``.ts``, ``-epo.fif``, ``.npz``: the
        trials come back to back, each start annotated with its class).
    stream : str, optional
        For XDF files holding several signal streams: the name or type of the one to read.
    preload : bool
        Load and check every sample now. With False the samples stay on disk and are read
        on demand (``raw.get_data(start=..., stop=...)``), which bounds memory for corpora
        larger than RAM; the caller then checks the samples it reads (XDF files and files
        of trials are always loaded).
    sfreq, unit : optional
        Sampling rate and unit of trial files that do not hold them (see :func:`read_trials`).

    Returns
    -------
    raw : mne.io.BaseRaw
        Data in SI units with channel types, positions and annotations where the file has them.

    Raises
    ------
    DataError
        For a missing file, an unknown format, a file whose header and data disagree, or
        NaN/Inf samples; the message names the file and the problem.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(path, "file not found")
    if path.is_dir():
        if not (path / "dataset_description.json").is_file():
            raise DataError(
                path,
                "is a directory but not a BIDS data set (no dataset_description.json); "
                "for folders of EDF files labelled by folder use read_labelled_directory",
            )
        raw = _read_bids_root(path, preload)
    elif is_trial_file(path):
        return read_trials(path, sfreq=sfreq, unit=unit).to_raw()
    else:
        fmt = format_of(path)
        _check_integrity(path, fmt)
        bids_root = _bids_root_of(path)
        if bids_root is not None and fmt != "XDF":
            raw = _read_bids_file(path, bids_root, preload)
        else:
            raw = _read_file(path, fmt, stream, preload)
    if preload:
        check_finite(raw, path)
    return raw


def check_finite(raw: mne.io.BaseRaw, source: str | Path) -> None:
    """Raise :class:`DataError` naming the first channel and time holding NaN or Inf."""
    data = raw.get_data()
    finite = np.isfinite(data)
    if finite.all():
        return
    channel, sample = np.argwhere(~finite)[0]
    raise DataError(
        source,
        f"NaN or Inf samples (first on channel {raw.ch_names[channel]} at "
        f"{sample / raw.info['sfreq']:.3f} s; {int((~finite).sum())} in all)",
    )


def _check_integrity(path: Path, fmt: str) -> None:
    if fmt in ("EDF", "BDF"):
        check_edf_size(path)
    elif fmt == "BrainVision":
        check_brainvision_size(path)
    elif fmt in ("FIF", "MNE epochs") and not path.name.lower().endswith(".gz"):
        check_fif_size(path)


def _read_file(path: Path, fmt: str, stream: str | None, preload: bool) -> mne.io.BaseRaw:
    import mne

    if fmt == "XDF":
        from .xdf import read_xdf

        return read_xdf(path, stream=stream)
    readers = {
        "FIF": mne.io.read_raw_fif,
        "EDF": mne.io.read_raw_edf,
        "BDF": mne.io.read_raw_bdf,
        "BrainVision": mne.io.read_raw_brainvision,
        "EEGLAB": mne.io.read_raw_eeglab,
    }
    try:
        return readers[fmt](path, preload=preload, verbose="error")
    except _READ_ERRORS as error:
        raise DataError(path, f"cannot be read as {fmt}: {error}") from error


def _bids_root_of(path: Path) -> Path | None:
    """Return the BIDS root above ``path`` when it lies in a ``sub-*`` folder of a BIDS tree."""
    parents = list(path.resolve().parents)
    for index, parent in enumerate(parents):
        if (parent / "dataset_description.json").is_file():
            inside_subject = index > 0 and parents[index - 1].name.startswith("sub-")
            return parent if inside_subject else None
    return None


def _read_bids_file(path: Path, root: Path, preload: bool) -> mne.io.BaseRaw:
    import mne_bids

    try:
        bids_path = mne_bids.get_bids_path_from_fname(path)
        bids_path.update(root=root)
        raw = mne_bids.read_raw_bids(bids_path, verbose="error")
        return raw.load_data(verbose="error") if preload else raw
    except _READ_ERRORS as error:
        raise DataError(path, f"cannot be read as BIDS: {error}") from error


def _read_bids_root(root: Path, preload: bool) -> mne.io.BaseRaw:
    import mne_bids

    suffixes = {".fif", ".edf", ".bdf", ".vhdr", ".set"}
    found = [
        p
        for p in mne_bids.find_matching_paths(root, extensions=sorted(suffixes))
        if p.suffix in {"eeg", "meg", "ieeg"}
    ]
    if len(found) != 1:
        listing = ", ".join(p.basename for p in found[:5]) or "none"
        raise DataError(
            root,
            f"BIDS data set holds {len(found)} recordings ({listing}); open one of their files",
        )
    return _read_bids_file(found[0].fpath, root, preload)
