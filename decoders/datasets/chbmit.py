"""The CHB-MIT Scalp EEG Database layout: ``chbNN/chbNN_MM.edf`` and ``chbNN/chbNN-summary.txt``.

Each subject folder holds EDF files (bipolar double-banana derivations such as ``FP1-F7``,
256 Hz) and a summary listing, per file, its clock start and end times, its number of
seizures and each seizure's start and end in seconds from the file's start (``Seizure Start
Time:`` or ``Seizure 2 Start Time:``). :func:`read_chbmit` opens a copy of the database (or
one subject's folder) as a :class:`~.seizures.SeizureCorpus`, files read only when used;
:func:`write_chbmit_subject` writes a subject in the same layout (the seizure simulator uses
it), so a user's real copy and a simulated one open with the same command.

What the summary says is checked against the EDF files: a seizure past the end of its file,
seizures that overlap, a count of seizures that disagrees with the listed times, or files
that overlap in time are refused with the summary, the file and the problem named. Files
listed but missing are skipped and noted; channels not present in every file of a subject,
dummy channels (``-``) and non-EEG channels (ECG, VNS, ...) are left out and noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import DataError
from .seizures import Segment, Seizure, SeizureCorpus, SeizureSubject

if TYPE_CHECKING:
    import mne

SUMMARY_SUFFIX = "-summary.txt"
SUBJECT_PATTERN = re.compile(r"^chb\d+[a-z]?$", re.IGNORECASE)
DAY_S = 86400.0
NON_EEG = ("ECG", "EKG", "VNS", "LOC", "ROC")
_DUPLICATE = re.compile(r"^(.+-.+)-\d+$")  # MNE's suffix for repeated labels: T8-P8-0


@dataclass
class SummaryFile:
    """One file's entry in a summary."""

    name: str
    start_s: float | None = None
    end_s: float | None = None
    declared: int | None = None
    seizures: list[tuple[float, float]] = field(default_factory=list)
    line: int = 0


@dataclass
class Summary:
    """A parsed ``chbNN-summary.txt``."""

    path: Path
    sfreq: float | None
    channels: list[str]
    files: list[SummaryFile]


def is_chbmit(path: str | Path) -> bool:
    """Return True when ``path`` is a CHB-MIT subject folder or a folder of them."""
    path = Path(path)
    if not path.is_dir():
        return False
    return bool(_summary_of(path)) or any(_summary_of(child) for child in _subject_folders(path))


def read_chbmit(path: str | Path) -> SeizureCorpus:
    """Open a CHB-MIT copy (the root or one ``chbNN`` folder) as a seizure corpus.

    Raises
    ------
    DataError
        When no subject folder with a summary is found, or a summary disagrees with its files.
    """
    path = Path(path)
    if not path.is_dir():
        raise DataError(path, "not a folder")
    folders = [path] if _summary_of(path) else _subject_folders(path)
    folders = [folder for folder in folders if _summary_of(folder)]
    if not folders:
        raise DataError(
            path, f"holds no CHB-MIT subject folder (chbNN/ with chbNN{SUMMARY_SUFFIX})"
        )
    subjects = tuple(read_chbmit_subject(folder) for folder in folders)
    return SeizureCorpus(
        name=path.name, subjects=subjects, description=f"CHB-MIT layout read from {path}"
    )


def read_chbmit_subject(folder: str | Path) -> SeizureSubject:
    """Return one subject of the CHB-MIT layout, checked against its EDF headers."""
    from .readers import read_recording

    folder = Path(folder)
    summary_path = _summary_of(folder)
    if summary_path is None:
        raise DataError(folder, f"no {folder.name}{SUMMARY_SUFFIX} in it")
    summary = parse_summary(summary_path)
    notes: list[str] = []
    headers: list[tuple[SummaryFile, Path, mne.io.BaseRaw]] = []
    for entry in summary.files:
        edf = folder / entry.name
        if not edf.is_file():
            notes.append(f"{entry.name}: listed in the summary but not in the folder; skipped")
            continue
        headers.append((entry, edf, read_recording(edf, preload=False)))
    if not headers:
        raise DataError(summary_path, "none of the files it lists is in the folder")
    rates = {raw.info["sfreq"] for _, _, raw in headers}
    if len(rates) > 1:
        raise DataError(folder, f"files sampled at different rates {sorted(rates)}")
    channels = _common_channels([raw.ch_names for _, _, raw in headers], notes)
    if not channels:
        raise DataError(folder, "its files share no EEG channel")
    segments, seizures = [], []
    previous_end, day = None, 0.0
    origin = None
    for entry, edf, raw in headers:
        duration = raw.n_times / raw.info["sfreq"]
        start, day = _placement(entry, previous_end, day)
        origin = start if origin is None else origin
        start -= origin
        for number, (onset, end) in enumerate(entry.seizures, start=1):
            where = f"{summary_path.name}, {entry.name} seizure {number}"
            if end > duration + 1e-6 or onset >= duration:
                raise DataError(
                    summary_path,
                    f"{entry.name}: seizure {number} ({onset:g}-{end:g} s) runs past the end of "
                    f"the EDF file ({duration:g} s long)",
                )
            seizures.append(Seizure(start + onset, start + end, where))
        picks = [_original_name(raw.ch_names, name) for name in channels]
        segments.append(Segment(entry.name, start, duration, _edf_reader(edf, picks)))
        previous_end = start + origin + duration
    return SeizureSubject(
        name=folder.name,
        sfreq=float(rates.pop()),
        ch_names=tuple(channels),
        segments=tuple(segments),
        seizures=tuple(seizures),
        notes=tuple(notes),
    )


def parse_summary(path: str | Path) -> Summary:
    """Parse a CHB-MIT summary; raise :class:`DataError` naming the line of any problem."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        raise DataError(path, f"cannot be read ({error})") from error
    sfreq, channels, files = None, [], []
    current: SummaryFile | None = None
    pending_start: float | None = None
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.strip()
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "data sampling rate":
            sfreq = _number(value.split()[0], path, number)
        elif re.fullmatch(r"channel \d+", key):
            channels.append(value)
        elif key == "file name":
            current = SummaryFile(value, line=number)
            files.append(current)
            pending_start = None
        elif current is None:
            continue
        elif key == "file start time":
            current.start_s = _clock(value, path, number)
        elif key == "file end time":
            current.end_s = _clock(value, path, number)
        elif key == "number of seizures in file":
            current.declared = int(_number(value, path, number))
        elif re.fullmatch(r"seizure(\s+\d+)?\s+start time", key):
            pending_start = _number(value.split()[0], path, number)
        elif re.fullmatch(r"seizure(\s+\d+)?\s+end time", key):
            if pending_start is None:
                raise DataError(path, f"line {number}: a seizure end without its start")
            current.seizures.append((pending_start, _number(value.split()[0], path, number)))
            pending_start = None
    if not files:
        raise DataError(path, "lists no file ('File Name:' lines)")
    for entry in files:
        if entry.declared is not None and entry.declared != len(entry.seizures):
            raise DataError(
                path,
                f"line {entry.line}: {entry.name} declares {entry.declared} seizure(s) but "
                f"lists {len(entry.seizures)}",
            )
        for onset, end in entry.seizures:
            if end <= onset:
                raise DataError(
                    path, f"{entry.name}: a seizure ends at {end:g} s, not after {onset:g} s"
                )
    return Summary(path, sfreq, channels, files)


def write_chbmit_subject(
    root: str | Path,
    subject: SeizureSubject,
    channels: list[str],
    *,
    clock_start_s: float = 9 * 3600.0,
) -> Path:
    """Write ``subject`` as ``root/NAME/NAME_MM.edf`` files and ``NAME-summary.txt``.

    Parameters
    ----------
    root : Path
        Folder receiving the subject's folder.
    subject : SeizureSubject
        Its segments become the EDF files (in order, numbered from 01), its seizures the
        summary's entries (and EDF+ annotations named ``seizure``).
    channels : list of str
        The labels written, in order, each one of the subject's channels (a label may repeat,
        as ``T8-P8`` does in the database).
    clock_start_s : float
        Clock time of the subject's time 0, in seconds after midnight.

    Returns
    -------
    Path
        The subject's folder.
    """
    import datetime

    import edfio

    folder = Path(root) / subject.name
    folder.mkdir(parents=True, exist_ok=True)
    rows = [subject.ch_names.index(label) for label in channels]
    lines = [
        f"Data Sampling Rate: {subject.sfreq:g} Hz",
        "*************************",
        "",
        "Channels in EDF Files:",
        "**********************",
        *[f"Channel {i}: {label}" for i, label in enumerate(channels, start=1)],
        "",
    ]
    for number, segment in enumerate(subject.segments, start=1):
        name = f"{subject.name}_{number:02d}.edf"
        if abs(segment.duration_s - round(segment.duration_s)) > 1e-9:
            raise ValueError(
                f"{segment.name} lasts {segment.duration_s} s: EDF files here last whole seconds"
            )
        data = segment.read()[rows] * 1e6
        inside = [s for s in subject.seizures if segment.start_s <= s.onset_s < segment.end_s]
        signals = [
            edfio.EdfSignal(
                row.astype(np.float64),
                subject.sfreq,
                label=label,
                physical_dimension="uV",
                physical_range=_physical_range(row),
            )
            for label, row in zip(channels, data, strict=True)
        ]
        clock = clock_start_s + segment.start_s
        annotations = [
            edfio.EdfAnnotation(s.onset_s - segment.start_s, s.duration_s, "seizure")
            for s in inside
        ]
        start_of_day = datetime.time(*_hms(clock % DAY_S))
        edfio.Edf(signals, starttime=start_of_day, annotations=annotations).write(folder / name)
        lines += [
            f"File Name: {name}",
            f"File Start Time: {_clock_text(clock)}",
            f"File End Time: {_clock_text(clock + segment.duration_s)}",
            f"Number of Seizures in File: {len(inside)}",
        ]
        for index, seizure in enumerate(inside, start=1):
            label = "Seizure" if len(inside) == 1 else f"Seizure {index}"
            lines.append(f"{label} Start Time: {round(seizure.onset_s - segment.start_s)} seconds")
            lines.append(f"{label} End Time: {round(seizure.end_s - segment.start_s)} seconds")
        lines.append("")
    (folder / f"{subject.name}{SUMMARY_SUFFIX}").write_text("\n".join(lines) + "\n")
    return folder


def _summary_of(folder: Path) -> Path | None:
    path = folder / f"{folder.name}{SUMMARY_SUFFIX}"
    return path if path.is_file() else None


def _subject_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and SUBJECT_PATTERN.match(p.name))


def _canonical(name: str) -> str | None:
    """Return a channel's label without MNE's duplicate suffix; None for unusable channels."""
    name = name.strip().upper()
    match = _DUPLICATE.match(name)
    if match:
        name = match.group(1)
    if not name.strip("-. ") or name.startswith(NON_EEG):
        return None
    return name


def _common_channels(names_per_file: list[list[str]], notes: list[str]) -> list[str]:
    """Return the labels every file has, in the first file's order (first of duplicates)."""
    per_file = [{_canonical(n) for n in names} - {None} for names in names_per_file]
    first = list(dict.fromkeys(c for n in names_per_file[0] if (c := _canonical(n))))
    common = [name for name in first if all(name in names for names in per_file)]
    left_out = sorted(set().union(*per_file) - set(common))
    if left_out:
        notes.append(f"channels not in every file, left out: {', '.join(left_out)}")
    return common


def _original_name(names: list[str], label: str) -> str:
    return next(name for name in names if _canonical(name) == label)


def _edf_reader(path: Path, picks: list[str]):
    def read() -> np.ndarray:
        from .readers import check_finite, read_recording

        raw = read_recording(path, preload=False)
        raw.pick(picks)
        raw.load_data(verbose="error")
        check_finite(raw, path)
        return raw.get_data()

    return read


def _placement(entry: SummaryFile, previous_end: float | None, day: float) -> tuple[float, float]:
    """Return a file's start (clock seconds, days unwrapped) and the day offset after it."""
    if entry.start_s is None:
        return (previous_end if previous_end is not None else 0.0), day
    start = entry.start_s + day
    if previous_end is not None:
        while start < previous_end - DAY_S / 2:  # the clock passed midnight
            day += DAY_S
            start += DAY_S
    return start, day


def _clock(text: str, path: Path, line: int) -> float:
    match = re.fullmatch(r"(\d+):(\d{1,2}):(\d{1,2})", text.strip())
    if not match:
        raise DataError(path, f"line {line}: '{text}' is not a clock time HH:MM:SS")
    hours, minutes, seconds = (int(part) for part in match.groups())
    return hours * 3600.0 + minutes * 60.0 + seconds


def _number(text: str, path: Path, line: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise DataError(path, f"line {line}: '{text}' is not a number") from None


def _hms(seconds: float) -> tuple[int, int, int]:
    total = round(seconds)
    return total // 3600, total % 3600 // 60, total % 60


def _clock_text(seconds: float) -> str:
    hours, minutes, secs = _hms(seconds % DAY_S)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _physical_range(row: np.ndarray) -> tuple[float, float]:
    bound = float(np.ceil(np.max(np.abs(row)) + 1.0))
    return -bound, bound
