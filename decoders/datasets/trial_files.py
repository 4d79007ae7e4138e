"""Files that hold trials already cut: UEA/aeon ``.ts``, MNE epochs, labelled arrays (``.npz``).

Each reader returns a :class:`~decoders.datasets.trials.TrialSet` in SI units or raises a
:class:`~decoders.datasets.errors.DataError` naming the file and the problem. They are
reached through :func:`decoders.datasets.readers.read_trials` (and
:func:`~decoders.datasets.readers.read_recording`, which lays the trials back to back).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import DataError
from .trials import TrialSet

UNITS = {
    "V": (1.0, "eeg"),
    "mV": (1e-3, "eeg"),
    "uV": (1e-6, "eeg"),
    "µV": (1e-6, "eeg"),
    "nV": (1e-9, "eeg"),
    "T": (1.0, "mag"),
    "pT": (1e-12, "mag"),
    "fT": (1e-15, "mag"),
}
"""Units a file without units may be read in: scale to SI and the channel type it implies."""

TS_DEFAULT_UNIT = "uV"
"""The unit of ``.ts`` values when none is given: the archive's EEG sets store microvolts."""

DATA_CHANNEL_TYPES = ("eeg", "mag", "grad", "seeg", "ecog", "dbs")
NPZ_KEYS = ("X", "y", "sfreq")
_POSITIONED = ("eeg", "seeg", "ecog", "dbs")  # types whose positions a montage carries


def unit_scale(unit: str, source: str | Path) -> tuple[float, str]:
    """Return the factor to SI and the channel type of ``unit`` (``uV``, ``fT``, ...)."""
    if unit not in UNITS:
        raise DataError(source, f"unknown unit '{unit}' (known: {', '.join(UNITS)})")
    return UNITS[unit]


def read_ts_trials(path: Path, *, sfreq: float | None, unit: str | None = None) -> TrialSet:
    """Read a UEA/aeon ``.ts`` file of equal-length labelled cases as trials.

    Parameters
    ----------
    path : Path
        The file.
    sfreq : float
        Sampling rate in Hz (the format does not hold it).
    unit : str, optional
        Unit of the values (default :data:`TS_DEFAULT_UNIT`); channels are ``eeg`` for
        voltages and ``mag`` for magnetic fields, named ``dim0``, ``dim1``, ...
    """
    from .uea import read_ts

    if sfreq is None or sfreq <= 0:
        raise DataError(path, "a .ts file does not state its sampling rate: give it (--sfreq HZ)")
    scale, kind = unit_scale(unit or TS_DEFAULT_UNIT, path)
    data, labels, classes = read_ts(path)
    n_channels = data.shape[1]
    return TrialSet(
        data=data * scale,
        labels=np.array([classes.index(label) for label in labels]),
        classes=tuple(classes),
        sfreq=float(sfreq),
        ch_names=tuple(f"dim{i}" for i in range(n_channels)),
        ch_types=(kind,) * n_channels,
        name=path.name,
    )


def read_epochs_file(path: Path) -> TrialSet:
    """Read MNE epochs (``-epo.fif``): data channels, classes from the event names."""
    import mne

    try:
        epochs = mne.read_epochs(path, preload=True, verbose="error")
    except Exception as error:  # a damaged file can fail anywhere in MNE's parser
        raise DataError(path, f"cannot be read as MNE epochs: {error}") from error
    if len(epochs) == 0:
        raise DataError(path, "holds no epochs (all dropped?)")
    types = epochs.get_channel_types()
    picks = [i for i, kind in enumerate(types) if kind in DATA_CHANNEL_TYPES]
    if not picks:
        raise DataError(path, "holds no EEG/MEG/sEEG/ECoG/DBS channels to decode")
    names_by_code = {code: name for name, code in epochs.event_id.items()}
    codes = epochs.events[:, 2]
    unnamed = sorted({int(c) for c in codes} - set(names_by_code))
    if unnamed:
        raise DataError(path, f"events {unnamed} have no name in the epochs' event_id")
    classes = sorted(set(epochs.event_id), key=lambda name: epochs.event_id[name])
    classes = [name for name in classes if epochs.event_id[name] in set(codes.tolist())]
    positions = _positions(epochs.info, [i for i in picks if types[i] in _POSITIONED])
    return TrialSet(
        data=epochs.get_data(picks=picks),
        labels=np.array([classes.index(names_by_code[c]) for c in codes]),
        classes=tuple(classes),
        sfreq=float(epochs.info["sfreq"]),
        ch_names=tuple(epochs.ch_names[i] for i in picks),
        ch_types=tuple(types[i] for i in picks),
        name=path.name,
        ch_pos=positions,
    )


def read_npz_trials(path: Path) -> TrialSet:
    """Read labelled arrays: ``X`` (trials, channels, times) in SI units, ``y``, ``sfreq``.

    Optional keys: ``ch_names``, ``ch_types`` (default ``eeg``) and ``classes`` (names of
    integer labels, in code order; default: the sorted distinct labels). Nothing is
    unpickled: a file holding Python objects is refused.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # not a zip, damaged member, ...
        raise DataError(path, f"cannot be read as a .npz archive: {error}") from error
    with archive:
        missing = [key for key in NPZ_KEYS if key not in archive.files]
        if missing:
            raise DataError(
                path,
                f"lacks {', '.join(missing)} (found: {', '.join(archive.files) or 'nothing'}); "
                "a labelled-array file holds X (trials, channels, times), y and sfreq",
            )
        try:
            content = {key: archive[key] for key in archive.files}
        except ValueError as error:
            raise DataError(
                path, f"holds Python objects, which are never unpickled ({error})"
            ) from error
    data, labels = content["X"], content["y"]
    if data.ndim != 3:
        raise DataError(path, f"X must be 3-D (trials, channels, times), got shape {data.shape}")
    if labels.ndim != 1 or labels.shape[0] != data.shape[0]:
        raise DataError(
            path, f"y holds {labels.shape} labels for {data.shape[0]} trials in X: lengths differ"
        )
    if not np.issubdtype(data.dtype, np.number):
        raise DataError(path, f"X holds {data.dtype} values, not numbers")
    n_channels = data.shape[1]
    names = _strings(content.get("ch_names"), [f"ch{i}" for i in range(n_channels)])
    types = _strings(content.get("ch_types"), ["eeg"] * n_channels)
    codes, classes = _label_codes(path, labels, content.get("classes"))
    return TrialSet(
        data=data.astype(float),
        labels=codes,
        classes=classes,
        sfreq=float(np.asarray(content["sfreq"]).reshape(-1)[0]),
        ch_names=tuple(names),
        ch_types=tuple(types),
        name=path.name,
    )


def _strings(values: np.ndarray | None, default: Sequence[str]) -> list[str]:
    return list(default) if values is None else [str(v) for v in np.asarray(values).reshape(-1)]


def _label_codes(
    path: Path, labels: np.ndarray, names: np.ndarray | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Return class codes and names of ``y`` (integer codes with names, or names)."""
    if names is not None:
        classes = tuple(_strings(names, ()))
        if not np.issubdtype(labels.dtype, np.integer):
            return _codes_of_names(path, labels, classes), classes
        outside = sorted({int(v) for v in labels} - set(range(len(classes))))
        if outside:
            raise DataError(
                path, f"labels {outside} have no entry in classes ({len(classes)} names)"
            )
        return labels.astype(int), classes
    if np.issubdtype(labels.dtype, np.floating) and not np.all(labels == np.round(labels)):
        raise DataError(path, "y holds non-integer numbers: class labels must be names or codes")
    classes = tuple(str(v) for v in sorted(set(labels.tolist())))
    return _codes_of_names(path, labels, classes), classes


def _codes_of_names(path: Path, labels: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    as_text = [str(v) for v in labels.tolist()]
    unknown = sorted(set(as_text) - set(classes))
    if unknown:
        raise DataError(path, f"labels {unknown} are not among the classes {list(classes)}")
    return np.array([classes.index(v) for v in as_text], dtype=int)


def _positions(info, picks: list[int]) -> dict[str, np.ndarray] | None:
    found = {}
    for index in picks:
        location = info["chs"][index]["loc"][:3]
        if np.isfinite(location).all() and np.any(location != 0):
            found[info["ch_names"][index]] = location.copy()
    return found or None
