"""Long recordings of people with epilepsy: files on one time axis per subject, and seizures.

A :class:`SeizureSubject` is what seizure forecasting trains and is scored on: the subject's
recording files (:class:`Segment`, read on demand so that days of EEG need not fit in
memory) placed on one time axis in seconds, with the annotated seizures on the same axis.
The CHB-MIT reader (:mod:`.chbmit`) and the seizure simulator
(:mod:`decoders.simulators.seizure`) both produce a :class:`SeizureCorpus` of subjects.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import DataError


@dataclass(frozen=True)
class Seizure:
    """One annotated seizure: onset and end in seconds on its subject's time axis."""

    onset_s: float
    end_s: float
    source: str = ""
    """The file (and annotation) it was read from, for messages."""

    @property
    def duration_s(self) -> float:
        """Return the seizure's length in seconds."""
        return self.end_s - self.onset_s


@dataclass(frozen=True)
class Segment:
    """One recording file of a subject, placed on the subject's time axis.

    Parameters
    ----------
    name : str
        The file name.
    start_s, duration_s : float
        Where it lies on the subject's time axis and how long it is.
    read : callable
        Returns its signals (n_channels, n_times) in volts, channels in the subject's order.
    """

    name: str
    start_s: float
    duration_s: float
    read: Callable[[], np.ndarray] = field(repr=False, compare=False)

    @property
    def end_s(self) -> float:
        """Return the end of the file on the subject's time axis."""
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class SeizureSubject:
    """A subject's recordings and seizures on one time axis.

    Parameters
    ----------
    name : str
        Subject name (``chb01``).
    sfreq : float
        Sampling rate of every file.
    ch_names : tuple of str
        Channels every file provides, in order.
    segments : tuple of Segment
        The files, in time order, not overlapping.
    seizures : tuple of Seizure
        The seizures, in time order, not overlapping, each inside a file.
    notes : tuple of str
        What the reader skipped and why (files missing, channels left out).

    Raises
    ------
    DataError
        When files overlap, seizures overlap, end before they start, or lie outside the files.
    """

    name: str
    sfreq: float
    ch_names: tuple[str, ...]
    segments: tuple[Segment, ...]
    seizures: tuple[Seizure, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        segments = tuple(sorted(self.segments, key=lambda s: s.start_s))
        seizures = tuple(sorted(self.seizures, key=lambda s: s.onset_s))
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "seizures", seizures)
        if not segments:
            raise DataError(self.name, "has no recording files")
        for before, after in itertools.pairwise(segments):
            if after.start_s < before.end_s - 1e-6:
                raise DataError(
                    after.name,
                    f"starts at {after.start_s:.0f} s, before {before.name} ends "
                    f"({before.end_s:.0f} s): the files overlap",
                )
        for seizure in seizures:
            if seizure.end_s <= seizure.onset_s:
                raise DataError(
                    seizure.source or self.name,
                    f"seizure ends at {seizure.end_s:g} s, not after its onset "
                    f"{seizure.onset_s:g} s",
                )
            if self.segment_at(seizure.onset_s) is None:
                raise DataError(
                    seizure.source or self.name,
                    f"seizure onset {seizure.onset_s:g} s lies in no recording file",
                )
        for before, after in itertools.pairwise(seizures):
            if after.onset_s < before.end_s:
                raise DataError(
                    after.source or self.name,
                    f"seizure at {after.onset_s:g} s overlaps the one at {before.onset_s:g}-"
                    f"{before.end_s:g} s ({before.source or self.name})",
                )

    @property
    def start_s(self) -> float:
        """Return the start of the first file."""
        return self.segments[0].start_s

    @property
    def end_s(self) -> float:
        """Return the end of the last file."""
        return self.segments[-1].end_s

    @property
    def recorded_s(self) -> float:
        """Return the total duration of the files (gaps between them not counted)."""
        return float(sum(segment.duration_s for segment in self.segments))

    def segment_at(self, time_s: float) -> Segment | None:
        """Return the file recording at ``time_s``, if any."""
        for segment in self.segments:
            if segment.start_s <= time_s < segment.end_s:
                return segment
        return None

    def windows(self, starts: np.ndarray, n_times: int) -> np.ndarray:
        """Return the windows (len(starts), n_channels, n_times) starting at ``starts`` (s).

        Each window must lie inside one file; every file is read at most once.

        Raises
        ------
        DataError
            When a window is not inside one file.
        """
        starts = np.asarray(starts, dtype=float)
        out = np.empty((starts.size, len(self.ch_names), n_times), dtype=np.float32)
        first = np.round(starts * self.sfreq).astype(np.int64)
        done = np.zeros(starts.size, bool)
        for segment in self.segments:
            offset = round(segment.start_s * self.sfreq)
            length = round(segment.duration_s * self.sfreq)
            inside = np.flatnonzero((first >= offset) & (first + n_times <= offset + length))
            if inside.size == 0:
                continue
            data = segment.read()
            for index in inside:
                begin = first[index] - offset
                out[index] = data[:, begin : begin + n_times]
            done[inside] = True
        if not done.all():
            missing = starts[~done][0]
            raise DataError(self.name, f"the window at {missing:.1f} s lies in no single file")
        return out


@dataclass(frozen=True)
class SeizureCorpus:
    """Subjects with long recordings and annotated seizures (a CHB-MIT-like data set).

    Parameters
    ----------
    name : str
        What the corpus is (its folder, or the simulator).
    subjects : tuple of SeizureSubject
        The subjects; they share a sampling rate but may differ in channels.
    description : str
        Provenance (the simulator's seed and SNR, or the folder read).
    """

    name: str
    subjects: tuple[SeizureSubject, ...]
    description: str = ""

    def __post_init__(self) -> None:
        if not self.subjects:
            raise DataError(self.name, "holds no subject")
        rates = {subject.sfreq for subject in self.subjects}
        if len(rates) > 1:
            raise DataError(self.name, f"subjects sampled at different rates {sorted(rates)}")

    @property
    def sfreq(self) -> float:
        """Return the sampling rate shared by every subject."""
        return self.subjects[0].sfreq

    def subject(self, name: str) -> SeizureSubject:
        """Return the subject called ``name``."""
        for subject in self.subjects:
            if subject.name == name:
                return subject
        known = ", ".join(s.name for s in self.subjects)
        raise DataError(self.name, f"has no subject {name} (subjects: {known})")
