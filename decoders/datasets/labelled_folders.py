"""Directories of recordings labelled by folder (the TUH abnormal-EEG layout).

Besides the class folders, two kinds of level are recognised anywhere in a file's path:
split folders (``train/``, ``test/`` or ``eval/``; ``dev/`` and ``valid/`` count as
training) and session folders (``session-1/``, ``ses-02/``). Split folders make the data
set's own train/test split; a session can be named as the test part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError
from .matching import TrialShape, match_trials
from .readers import read_recording
from .trials import OfficialSplit, TrialSet

TRAIN_FOLDERS = ("train", "dev", "valid")
TEST_FOLDERS = ("test", "eval")
SPLIT_FOLDERS = TRAIN_FOLDERS + TEST_FOLDERS
_SESSION = re.compile(r"^ses(?:sion)?[-_]?(.+)$", re.IGNORECASE)


def session_label(name: str) -> str | None:
    """Return the label of a session folder name (``session-2`` -> ``2``), else None."""
    found = _SESSION.match(name)
    return found.group(1) if found else None


@dataclass(frozen=True)
class LabelledFile:
    """A recording whose class is given by the folder it lies in."""

    path: Path
    label: str
    split: str | None
    subject: str
    session: str | None = None


def find_labelled_files(
    root: str | Path,
    *,
    classes: Iterable[str] | None = None,
    suffixes: tuple[str, ...] = (".edf",),
) -> list[LabelledFile]:
    """List recordings under ``root`` with the class named by one of their folders.

    For ``root/edf/train/abnormal/01_tcp_ar/aaaa_s001_t000.edf`` the class is ``abnormal``,
    the split ``train`` and the subject ``aaaa`` (the file name up to its first underscore);
    ``root/session-2/left/x.edf`` is class ``left`` of session ``2``.

    Parameters
    ----------
    root : str | Path
        Top folder.
    classes : iterable of str, optional
        Folder names that are classes. Default: the first folder after a split folder such
        as ``train``/``eval`` (or, without one, under ``root``) that is not a session folder
        such as ``session-1``.
    suffixes : tuple of str
        File suffixes to collect.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "directory not found")
    wanted = set(classes) if classes is not None else None
    found = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes):
        folders = path.relative_to(root).parts[:-1]
        at = next((i for i, part in enumerate(folders) if part.lower() in SPLIT_FOLDERS), -1)
        split = folders[at].lower() if at >= 0 else None
        session = next((session_label(p) for p in folders if session_label(p)), None)
        if wanted is not None:
            candidates = [part for part in folders if part.lower() != split and part in wanted]
        else:
            candidates = [part for part in folders[at + 1 :] if session_label(part) is None]
        if not candidates:
            continue
        found.append(LabelledFile(path, candidates[0], split, path.stem.split("_")[0], session))
    if not found:
        raise DataError(root, f"no {'/'.join(suffixes)} files inside class folders")
    return found


def labelled_windows(
    files: list[LabelledFile],
    window_s: float,
    *,
    max_windows_per_file: int | None = None,
    name: str = "labelled-folders",
) -> TrialSet:
    """Cut non-overlapping windows from labelled recordings into one :class:`TrialSet`.

    Every file must share the first file's sampling rate; channels are those common to all
    files, in the first file's order. ``groups`` holds the subject, ``blocks`` the file.
    """
    raws = [read_recording(item.path) for item in files]
    sfreq = raws[0].info["sfreq"]
    for item, raw in zip(files, raws, strict=True):
        if raw.info["sfreq"] != sfreq:
            raise DataError(item.path, f"sampled at {raw.info['sfreq']} Hz, not {sfreq} Hz")
    common = [ch for ch in raws[0].ch_names if all(ch in raw.ch_names for raw in raws)]
    if not common:
        raise DataError(files[0].path.parent, "the recordings share no channel names")
    n_window = round(window_s * sfreq)
    classes = sorted({item.label for item in files})
    subjects = sorted({item.subject for item in files})
    windows, labels, groups, blocks = [], [], [], []
    for index, (item, raw) in enumerate(zip(files, raws, strict=True)):
        data = raw.get_data(picks=common)
        count = data.shape[1] // n_window
        if count == 0:
            raise DataError(
                item.path,
                f"{data.shape[1] / sfreq:.2f} s long, shorter than one {window_s} s window",
            )
        count = min(count, max_windows_per_file or count)
        windows.append(
            data[:, : count * n_window].reshape(len(common), count, n_window).swapaxes(0, 1)
        )
        labels += [classes.index(item.label)] * count
        groups += [subjects.index(item.subject)] * count
        blocks += [index] * count
    kinds = dict(zip(raws[0].ch_names, raws[0].get_channel_types(), strict=True))
    return TrialSet(
        data=np.concatenate(windows),
        labels=np.array(labels),
        classes=tuple(classes),
        sfreq=sfreq,
        ch_names=tuple(common),
        ch_types=tuple(kinds[ch] for ch in common),
        name=name,
        groups=np.array(groups),
        blocks=np.array(blocks),
    )


def labelled_data(
    files: list[LabelledFile],
    window_s: float,
    *,
    test_session: str | None = None,
    name: str = "labelled-folders",
) -> TrialSet | OfficialSplit:
    """Return the windows of labelled files, split into train and test where the folders say.

    Parameters
    ----------
    files : list of LabelledFile
        From :func:`find_labelled_files`.
    window_s : float
        Window length in seconds.
    test_session : str, optional
        A session (``2`` or ``session-2``) whose files are the test part; the other sessions
        train.
    name : str
        Name of the data set.

    Returns
    -------
    TrialSet | OfficialSplit
        An :class:`OfficialSplit` for ``test_session`` or when the files lie in both training
        and test folders; all windows together otherwise.
    """
    if test_session is not None:
        wanted = session_label(test_session) or test_session
        sessions = sorted({item.session for item in files if item.session is not None})
        test = [item for item in files if item.session == wanted]
        if not test:
            raise DataError(
                files[0].path.parents[0],
                f"no session folder '{test_session}' (sessions found: {sessions or 'none'})",
            )
        train = [item for item in files if item.session != wanted]
        description = (
            f"session {wanted} as the test part, sessions {sorted(set(sessions) - {wanted})} train"
        )
    else:
        train = [item for item in files if item.split not in TEST_FOLDERS]
        test = [item for item in files if item.split in TEST_FOLDERS]
        description = "the data set's own train/ and test/ folders"
    if not test or not train:
        if test_session is not None:
            raise DataError(files[0].path.parent, f"session {test_session} holds every file")
        return labelled_windows(files, window_s, name=name)
    train_set = labelled_windows(train, window_s, name=f"{name}/train")
    test_set = labelled_windows(test, window_s, name=f"{name}/test")
    test_set, notes = match_trials(test_set, TrialShape.of(train_set))
    return OfficialSplit(
        train_set, test_set, description + "".join(f"; test {note}" for note in notes)
    )
