"""Read a BIDS M/EEG speech-listening data set into (brain window, speech segment) pairs.

Each recording's ``*_events.tsv`` names the sound played at each event, in one of the two
ways public data sets do: the BIDS ``stim_file`` column (a path under ``stimuli/``, as in
Brennan's EEG data set), or a ``trial_type`` holding a Python-style dictionary with a
``sound`` path and the event's ``start`` within that sound (as in Gwilliams' MEG data set,
one event per word: the sound's onset is the event's onset minus its start). Sounds are read
from the data set (``stimuli/...`` or a path from the root), their rates checked against a
JSON sidecar where there is one. Subjects and recording blocks (session and run) are
numbered in sorted order, the same block number holding the same sounds for every subject
where the data set is built that way.
"""

from __future__ import annotations

import ast
import csv
from pathlib import Path

from decoders.datasets.errors import DataError

from .audio import Presentation, Sound, read_sound
from .pairing import ListeningRun, PairingSettings, pair_runs
from .trials import SpeechTrials

_RECORDING_SUFFIXES = ("meg", "eeg", "ieeg")
_EXTENSIONS = (".fif", ".vhdr", ".edf", ".bdf", ".set")
_MISSING = ("", "n/a")


def read_listening_bids(
    root: Path, settings: PairingSettings | None = None, *, subjects: list[str] | None = None
) -> SpeechTrials:
    """Return the pairs of every listening recording of the BIDS data set at ``root``.

    Parameters
    ----------
    root : Path
        The data set's root (holding ``dataset_description.json``).
    settings : PairingSettings, optional
        Window, lag, rate, alignment and features (defaults: 3 s, 150 ms, 120 Hz, markers,
        log-mel).
    subjects : list of str, optional
        Subject labels to read (default: all).

    Raises
    ------
    DataError
        When the folder is not a BIDS data set, holds no listening recording, or an event
        names a sound file that is missing or at another rate than declared.
    """
    import mne_bids

    from decoders.datasets.readers import read_recording

    root = Path(root)
    settings = settings or PairingSettings()
    if not (root / "dataset_description.json").is_file():
        raise DataError(root, "is not a BIDS data set (no dataset_description.json)")
    found = [
        path
        for path in mne_bids.find_matching_paths(
            root, subjects=subjects, extensions=list(_EXTENSIONS)
        )
        if path.suffix in _RECORDING_SUFFIXES
    ]
    if not found:
        raise DataError(root, "holds no M/EEG recording")
    subject_ids = sorted({path.subject for path in found})
    block_ids = sorted({(path.session or "", path.run or "") for path in found})
    sounds: dict[Path, Sound] = {}
    runs = []
    for path in sorted(found, key=lambda p: p.basename):
        events = path.copy().update(suffix="events", extension=".tsv").fpath
        presentations = _presentations(events, root, sounds)
        if not presentations:
            continue
        runs.append(
            ListeningRun(
                raw=read_recording(path.fpath),
                presentations=presentations,
                subject=subject_ids.index(path.subject),
                block=block_ids.index((path.session or "", path.run or "")),
                name=path.basename,
            )
        )
    if not runs:
        raise DataError(
            root, "no events file names a sound (stim_file, or a 'sound' in trial_type)"
        )
    return pair_runs(runs, settings, root.name)


def _presentations(events: Path, root: Path, sounds: dict[Path, Sound]) -> list[Presentation]:
    """Return the sounds an events file names, with their onsets (one per presentation)."""
    if not events.is_file():
        return []
    with open(events, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    onsets: dict[tuple[Path, float], Presentation] = {}
    for line, row in enumerate(rows, start=2):
        named = _sound_of(row)
        if named is None:
            continue
        relative, start = named
        path = _sound_path(root, relative)
        if path is None:
            raise DataError(
                events, f"line {line} names sound {relative!r}, but no such file is in {root}"
            )
        if path not in sounds:
            sounds[path] = read_sound(path, name=str(path.relative_to(root)))
        onset = round(float(row["onset"]) - start, 3)
        onsets.setdefault((path, onset), Presentation(onset, sounds[path]))
    return list(onsets.values())


def _sound_of(row: dict[str, str]) -> tuple[str, float] | None:
    """Return the sound an event names and the event's start within it, or None."""
    stim_file = (row.get("stim_file") or "").strip()
    if stim_file not in _MISSING:
        return stim_file, 0.0
    trial_type = (row.get("trial_type") or "").strip()
    if trial_type.startswith("{"):
        try:
            description = ast.literal_eval(trial_type)
        except (ValueError, SyntaxError):
            return None
        if isinstance(description, dict) and description.get("sound"):
            return str(description["sound"]), float(description.get("start", 0.0))
    return None


def _sound_path(root: Path, relative: str) -> Path | None:
    for candidate in (root / "stimuli" / relative, root / relative):
        if candidate.is_file():
            return candidate
    return None
