"""Cutting labelled trials out of continuous recordings."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from acquisition.annotations import annotation_onsets
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet

if TYPE_CHECKING:
    import mne

DATA_CHANNEL_TYPES = ("eeg", "mag", "grad", "seeg", "ecog", "dbs")


def read_label_file(path: Path) -> tuple[np.ndarray, list[str]]:
    """Read a CSV/TSV label file with columns ``onset`` (seconds) and ``label``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "label file not found")
    text = path.read_text(encoding="utf-8")
    dialect = csv.excel_tab if "\t" in text.splitlines()[0] else csv.excel
    rows = list(csv.DictReader(text.splitlines(), dialect=dialect))
    if not rows or not {"onset", "label"} <= set(rows[0]):
        raise DataError(path, "a label file needs a header with 'onset' and 'label' columns")
    try:
        onsets = np.array([float(row["onset"]) for row in rows])
    except ValueError as error:
        raise DataError(path, f"non-numeric onset ({error})") from error
    return onsets, [row["label"].strip() for row in rows]


def epochs_from_annotations(
    raw: mne.io.BaseRaw,
    *,
    source: str,
    classes: list[str] | None = None,
    tmin: float = 0.0,
    tmax: float = 1.0,
) -> TrialSet:
    """Cut one trial per annotation from ``tmin`` to ``tmax`` seconds around its onset.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        A recording with annotations naming the classes.
    source : str
        Name used in messages and as the trial set's name.
    classes : list of str, optional
        Annotation descriptions to use as classes (default: all but ``BAD*``/``EDGE*``).
    tmin, tmax : float
        Window relative to each onset, in seconds.
    """
    sfreq = raw.info["sfreq"]
    descriptions = np.asarray(raw.annotations.description)
    if classes is None:
        classes = sorted({d for d in descriptions if not d.upper().startswith(("BAD", "EDGE"))})
    unknown = sorted(set(classes) - set(descriptions))
    if unknown:
        raise DataError(
            source, f"has no events named {unknown} (found: {sorted(set(descriptions))})"
        )
    n_times = round((tmax - tmin) * sfreq)
    if n_times <= 0:
        raise DataError(source, f"empty window: tmax {tmax} s is not after tmin {tmin} s")
    if n_times > raw.n_times:
        raise DataError(
            source,
            f"{raw.n_times / sfreq:.2f} s long, shorter than one {tmax - tmin:.2f} s window",
        )
    picks = [i for i, kind in enumerate(raw.get_channel_types()) if kind in DATA_CHANNEL_TYPES]
    if not picks:
        raise DataError(source, "holds no EEG/MEG/sEEG/ECoG/DBS channels to decode")
    data = raw.get_data(picks=picks)
    onsets = annotation_onsets(raw)
    trials, labels = [], []
    for onset, description in zip(onsets, descriptions, strict=True):
        if description not in classes:
            continue
        start = round((onset + tmin) * sfreq)
        if start < 0 or start + n_times > data.shape[1]:
            continue  # the window runs off the recording
        trials.append(data[:, start : start + n_times])
        labels.append(classes.index(description))
    if not trials:
        raise DataError(
            source, f"no {list(classes)} event has a whole {tmin}..{tmax} s window inside the data"
        )
    types = raw.get_channel_types()
    return TrialSet(
        data=np.stack(trials),
        labels=np.array(labels),
        classes=tuple(classes),
        sfreq=sfreq,
        ch_names=tuple(raw.ch_names[i] for i in picks),
        ch_types=tuple(types[i] for i in picks),
        name=source,
    )


def crop_trials(trials: TrialSet, start_s: float, stop_s: float) -> TrialSet:
    """Keep the part of every trial from ``start_s`` to ``stop_s`` (seconds from its start)."""
    from dataclasses import replace

    duration = trials.n_times / trials.sfreq
    if stop_s > duration + 1e-9 or start_s < 0 or stop_s <= start_s:
        raise DataError(
            trials.name,
            f"window {start_s}..{stop_s} s does not fit trials of {duration:.3f} s: windows "
            "longer than the trials",
        )
    first, last = round(start_s * trials.sfreq), round(stop_s * trials.sfreq)
    return replace(trials, data=trials.data[:, :, first:last])
