"""Directories of recordings labelled by folder (the TUH abnormal-EEG layout)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError
from .readers import read_recording
from .trials import TrialSet

SPLIT_FOLDERS = ("train", "eval", "test", "dev", "valid")


@dataclass(frozen=True)
class LabelledFile:
    """A recording whose class is given by the folder it lies in."""

    path: Path
    label: str
    split: str | None
    subject: str


def find_labelled_files(
    root: str | Path,
    *,
    classes: Iterable[str] | None = None,
    suffixes: tuple[str, ...] = (".edf",),
) -> list[LabelledFile]:
    """List recordings under ``root`` with the class named by one of their folders.

    For ``root/edf/train/abnormal/01_tcp_ar/aaaa_s001_t000.edf`` the class is ``abnormal``,
    the split ``train`` and the subject ``aaaa`` (the file name up to its first underscore).

    Parameters
    ----------
    root : str | Path
        Top folder.
    classes : iterable of str, optional
        Folder names that are classes. Default: the folder right after a split folder such as
        ``train``/``eval`` or, without one, the first folder under ``root``.
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
        split = folders[at] if at >= 0 else None
        if wanted is not None:
            candidates = [part for part in folders if part != split and part in wanted]
        else:
            candidates = list(folders[at + 1 :])
        if not candidates:
            continue
        found.append(LabelledFile(path, candidates[0], split, path.stem.split("_")[0]))
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
