"""Trials of every recording of a BIDS data set, split by session, run or subject on request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from decoders.datasets.errors import DataError
from decoders.datasets.matching import TrialShape, match_trials
from decoders.datasets.trials import OfficialSplit, TrialSet

if TYPE_CHECKING:
    import mne

BIDS_ENTITIES = {"session": "session", "ses": "session", "run": "run"}
BIDS_ENTITIES |= {"subject": "subject", "sub": "subject"}
"""Entities a test part can be named by (``session:02``), with their short forms."""

_SUFFIXES = (".fif", ".edf", ".bdf", ".vhdr", ".set")


def bids_recordings(root: Path) -> list:
    """Return the BIDSPaths of the EEG/MEG/iEEG recordings under ``root``."""
    import mne_bids

    found = [
        path
        for path in mne_bids.find_matching_paths(root, extensions=list(_SUFFIXES))
        if path.suffix in {"eeg", "meg", "ieeg"}
    ]
    if not found:
        raise DataError(root, "BIDS data set holds no EEG, MEG or iEEG recording")
    return found


def bids_trials(
    root: Path,
    epoch: Callable[[mne.io.BaseRaw, str], TrialSet],
    test_part: tuple[str, str] | None = None,
) -> TrialSet | OfficialSplit:
    """Cut trials from every recording of a BIDS data set.

    Parameters
    ----------
    root : Path
        The BIDS root.
    epoch : callable
        Turns one recording (and its name) into trials, with the request's classes and window.
    test_part : tuple of str, optional
        ``(entity, value)`` (``("session", "02")``) naming the recordings of the test part.

    Returns
    -------
    TrialSet | OfficialSplit
        Trials of all recordings (subject in ``groups``, session and run in ``blocks``), or
        the split that ``test_part`` names. Recordings take the first one's channels.
    """
    from decoders.datasets.readers import read_recording

    paths = bids_recordings(root)
    parts = [(path, epoch(read_recording(path.fpath), path.basename)) for path in paths]
    classes = tuple(sorted({name for _, trials in parts for name in trials.classes}))
    if test_part is None:
        return _pooled(parts, classes, root.name)
    entity, value = BIDS_ENTITIES[test_part[0]], test_part[1]
    values = sorted({str(getattr(path, entity)) for path, _ in parts})
    chosen = [getattr(path, entity) == value for path, _ in parts]
    if not any(chosen):
        raise DataError(root, f"has no {entity} '{value}' (found: {values})")
    if all(chosen):
        raise DataError(root, f"every recording is {entity} '{value}': nothing left to train on")
    train = _pooled([p for p, c in zip(parts, chosen, strict=True) if not c], classes, root.name)
    test = _pooled([p for p, c in zip(parts, chosen, strict=True) if c], classes, root.name)
    test, notes = match_trials(
        replace(test, name=f"{root.name}/{entity}-{value}"), TrialShape.of(train)
    )
    description = f"BIDS {entity} {value} as the test part, the other recordings train"
    return OfficialSplit(train, test, description + "".join(f"; test {note}" for note in notes))


def _pooled(parts: list, classes: tuple[str, ...], name: str) -> TrialSet:
    """Concatenate recordings' trials: subjects in ``groups``, (session, run) in ``blocks``."""
    subjects = sorted({str(path.subject) for path, _ in parts})
    blocks = sorted({(str(path.subject), str(path.session), str(path.run)) for path, _ in parts})
    first = parts[0][1]
    target = TrialShape(first.ch_names, first.sfreq, first.n_times, classes, parts[0][0].basename)
    pooled = []
    for path, trials in parts:
        matched, _ = match_trials(trials, target)
        key = (str(path.subject), str(path.session), str(path.run))
        pooled.append(
            replace(
                matched,
                name=name,
                groups=np.full(matched.n_trials, subjects.index(str(path.subject))),
                blocks=np.full(matched.n_trials, blocks.index(key)),
            )
        )
    result = pooled[0]
    for trials in pooled[1:]:
        result = result.concat(trials)
    return result
