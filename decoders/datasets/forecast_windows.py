"""Windows for seizure forecasting: preictal and interictal labels, and monitoring before a seizure.

Labels follow the seizure prediction horizon (SPH) and seizure occurrence period (SOP) of the
forecasting literature (Winterhalder et al. 2003; Maiwald et al. 2004): a window is
*preictal* when it lies within ``[onset - SPH - SOP, onset - SPH]`` of a leading seizure,
*interictal* when it lies at least ``interictal_gap_s`` from every seizure; other windows
(near a seizure, ictal, postictal) are not used for training. A seizure is *leading* when no
other seizure ended within ``lead_s`` before it; the seizures following it closely belong to
its cluster and are never forecast themselves.

For leave-one-seizure-out, each leading seizure owns the *block* of time from the end of the
previous cluster (plus the postictal period) to the end of its own cluster: its fold trains on
the windows of every other block and is scored on the continuous windows of its block that
end before its onset, within ``monitoring_s`` of it (90 minutes, as STAN's pre-seizure
monitoring) or over the whole block.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from bci_app.models.alarm import AlarmPolicy

from .errors import DataError
from .seizures import Seizure, SeizureCorpus, SeizureSubject
from .trials import TrialSet

CLASSES = ("interictal", "preictal")


@dataclass(frozen=True)
class ForecastSettings:
    """How windows are labelled and cut, and how alarms are raised from them.

    Parameters
    ----------
    window_s : float
        Window length.
    hop_s : float, optional
        Step between successive windows when monitoring (and the decoders' hop on a stream);
        default: the window length.
    preictal_hop_s : float, optional
        Step between preictal training windows (overlap augments the rare class); default:
        the monitoring hop.
    sph_s, sop_s : float
        Seizure prediction horizon and occurrence period (5 and 15 minutes by default).
    interictal_gap_s : float
        Interictal windows lie at least this far from every seizure (1 hour by default).
    postictal_s : float
        Time after a seizure excluded from monitoring and from false-alarm counts.
    lead_s : float, optional
        Seizure-free time a seizure needs before it to be forecast (default SPH + SOP).
    monitoring_s : float, optional
        Monitored time before each seizure's onset (90 minutes); None: its whole block.
    interictal_ratio : float
        Interictal training windows kept per preictal one (drawn at random, seeded).
    threshold, k, n : float, int, int
        Alarm policy: ``k`` of the last ``n`` windows at or above ``threshold``.
    refractory_s : float, optional
        Time after an alarm without another (default SPH + SOP).
    """

    window_s: float = 2.0
    hop_s: float | None = None
    preictal_hop_s: float | None = None
    sph_s: float = 300.0
    sop_s: float = 900.0
    interictal_gap_s: float = 3600.0
    postictal_s: float = 600.0
    lead_s: float | None = None
    monitoring_s: float | None = 5400.0
    interictal_ratio: float = 1.0
    threshold: float = 0.5
    k: int = 24
    n: int = 30
    refractory_s: float | None = None

    def __post_init__(self) -> None:
        positive = ("window_s", "sop_s", "interictal_ratio")
        problems = [f"{name} must be positive" for name in positive if getattr(self, name) <= 0]
        for name in ("hop_s", "preictal_hop_s", "monitoring_s"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                problems.append(f"{name} must be positive")
        problems += [
            f"{name} must not be negative"
            for name in ("sph_s", "interictal_gap_s", "postictal_s")
            if getattr(self, name) < 0
        ]
        if problems:
            raise DataError("forecast settings", "; ".join(problems))
        self.policy()  # checks the alarm settings

    @classmethod
    def from_options(cls, options: dict[str, Any], **defaults: Any) -> ForecastSettings:
        """Return settings from ``defaults`` updated by ``options``, naming unknown keys."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise DataError(
                "forecast settings",
                f"unknown setting(s) {', '.join(unknown)} (settings: {', '.join(known)})",
            )
        return cls(**{**defaults, **options})

    @property
    def monitor_hop_s(self) -> float:
        """Return the step between monitoring windows."""
        return self.hop_s or self.window_s

    @property
    def lead_time_s(self) -> float:
        """Return the seizure-free time a forecast seizure needs before it."""
        return self.sph_s + self.sop_s if self.lead_s is None else self.lead_s

    def policy(self) -> AlarmPolicy:
        """Return the alarm policy of these settings."""
        try:
            return AlarmPolicy(
                positive=CLASSES[1],
                threshold=self.threshold,
                k=self.k,
                n=self.n,
                refractory_s=self.sph_s + self.sop_s
                if self.refractory_s is None
                else self.refractory_s,
                sph_s=self.sph_s,
                sop_s=self.sop_s,
            )
        except ValueError as error:
            raise DataError("forecast settings", str(error)) from error

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-serialisable data."""
        return asdict(self)


@dataclass(frozen=True)
class SeizureBlock:
    """A leading seizure, the seizures of its cluster and the block of time it owns."""

    index: int
    seizure: Seizure
    cluster_end_s: float
    start_s: float
    end_s: float


@dataclass(frozen=True)
class MonitoringSet:
    """Successive windows before one seizure, scored per seizure.

    Attributes
    ----------
    name : str
        Subject and seizure (``chb01/seizure2``).
    data : ndarray, shape (n_windows, n_channels, n_times)
        The windows, in time order.
    times : ndarray, shape (n_windows,)
        Time of each window's last sample on the subject's time axis.
    gaps : ndarray of bool, shape (n_windows,)
        True where missing data (a gap between files) precede a window.
    seizure : Seizure
        The seizure the windows lead up to.
    spans : tuple of (float, float)
        The monitored time: stretches covered by successive windows.
    ch_names : tuple of str
        Channels.
    sfreq : float
        Sampling rate.
    """

    name: str
    data: np.ndarray
    times: np.ndarray
    gaps: np.ndarray
    seizure: Seizure
    spans: tuple[tuple[float, float], ...]
    ch_names: tuple[str, ...]
    sfreq: float

    @property
    def n_windows(self) -> int:
        """Return the number of windows."""
        return len(self.times)


@dataclass(frozen=True)
class ForecastFold:
    """One left-out seizure: training windows of the other blocks, monitoring before it."""

    name: str
    subject: str
    train: TrialSet
    test: MonitoringSet


def seizure_blocks(subject: SeizureSubject, settings: ForecastSettings) -> list[SeizureBlock]:
    """Return the leading seizures of ``subject`` with the blocks of time they own."""
    blocks: list[SeizureBlock] = []
    cluster_end = -np.inf
    for seizure in subject.seizures:
        if seizure.onset_s - cluster_end < settings.lead_time_s:
            if blocks:  # part of the previous cluster
                last = blocks[-1]
                blocks[-1] = replace(last, cluster_end_s=seizure.end_s, end_s=seizure.end_s)
            cluster_end = seizure.end_s
            continue
        start = subject.start_s if not blocks else blocks[-1].end_s
        blocks.append(SeizureBlock(len(blocks), seizure, seizure.end_s, start, seizure.end_s))
        cluster_end = seizure.end_s
    return blocks


def training_windows(
    subject: SeizureSubject,
    settings: ForecastSettings,
    *,
    exclude: SeizureBlock | None = None,
    seed: int = 0,
    group: int = 0,
) -> TrialSet:
    """Return labelled training windows of ``subject``, leaving out the block ``exclude``.

    Preictal windows come from every other leading seizure; interictal windows from the time
    far from every seizure outside the excluded block, drawn at random (``seed``) up to
    ``interictal_ratio`` per preictal window. ``blocks`` holds each window's block index
    (-1 for the time after the last seizure), ``groups`` the value ``group``.

    Raises
    ------
    DataError
        When no preictal or no interictal window remains.
    """
    blocks = seizure_blocks(subject, settings)
    preictal, preictal_blocks = [], []
    for block in blocks:
        if exclude is not None and block.index == exclude.index:
            continue
        starts = _preictal_starts(subject, block.seizure, settings)
        preictal.append(starts)
        preictal_blocks.append(np.full(starts.size, block.index))
    preictal_starts = np.concatenate(preictal) if preictal else np.zeros(0)
    interictal_starts = _interictal_starts(subject, settings)
    if exclude is not None:
        window_end = interictal_starts + settings.window_s
        outside = (window_end <= exclude.start_s) | (interictal_starts >= exclude.end_s)
        interictal_starts = interictal_starts[outside]
    if preictal_starts.size == 0:
        raise DataError(
            subject.name,
            f"no preictal window: no leading seizure with {settings.sph_s + settings.sop_s:g} s "
            "of recording before it" + (" outside the left-out one" if exclude is not None else ""),
        )
    if interictal_starts.size == 0:
        raise DataError(
            subject.name,
            f"no interictal window: no recorded time lies {settings.interictal_gap_s:g} s or "
            "more from every seizure (lower interictal_gap_s)",
        )
    rng = np.random.default_rng([seed, 11])
    keep = min(interictal_starts.size, round(settings.interictal_ratio * preictal_starts.size))
    interictal_starts = np.sort(rng.choice(interictal_starts, max(keep, 1), replace=False))
    starts = np.concatenate([interictal_starts, preictal_starts])
    labels = np.r_[np.zeros(interictal_starts.size, int), np.ones(preictal_starts.size, int)]
    block_of = np.concatenate(
        [_block_index(interictal_starts, blocks), *preictal_blocks]
        if preictal_blocks
        else [_block_index(interictal_starts, blocks)]
    )
    n_times = round(settings.window_s * subject.sfreq)
    return TrialSet(
        data=subject.windows(starts, n_times),
        labels=labels,
        classes=CLASSES,
        sfreq=subject.sfreq,
        ch_names=subject.ch_names,
        ch_types=("eeg",) * len(subject.ch_names),
        name=subject.name,
        groups=np.full(starts.size, group),
        blocks=block_of,
    )


def monitoring_windows(
    subject: SeizureSubject, block: SeizureBlock, settings: ForecastSettings
) -> MonitoringSet:
    """Return the successive windows of ``block`` that end before its seizure's onset.

    Monitoring starts ``monitoring_s`` before the onset (or at the block's start, after the
    previous cluster's postictal period, whichever is later).

    Raises
    ------
    DataError
        When no window fits before the onset.
    """
    onset = block.seizure.onset_s
    first = block.start_s + (settings.postictal_s if block.index > 0 else 0.0)
    if settings.monitoring_s is not None:
        first = max(first, onset - settings.monitoring_s)
    hop, length = settings.monitor_hop_s, settings.window_s
    candidates = np.arange(first, onset - length + 1e-9, hop)
    starts = np.array([s for s in candidates if _inside_one_file(subject, s, length)])
    if starts.size == 0:
        raise DataError(
            f"{subject.name}/seizure{block.index}",
            f"no {length:g} s window recorded before the onset at {onset:g} s",
        )
    ends = starts + length
    gaps = np.r_[False, np.diff(starts) > hop * 1.5]
    span_starts = np.r_[starts[0], starts[1:][gaps[1:]]]
    span_ends = np.r_[ends[:-1][gaps[1:]], ends[-1]]
    n_times = round(length * subject.sfreq)
    return MonitoringSet(
        name=f"{subject.name}/seizure{block.index}",
        data=subject.windows(starts, n_times),
        times=ends,
        gaps=gaps,
        seizure=block.seizure,
        spans=tuple(zip(span_starts.tolist(), span_ends.tolist(), strict=True)),
        ch_names=subject.ch_names,
        sfreq=subject.sfreq,
    )


def corpus_trials(corpus: SeizureCorpus, settings: ForecastSettings, seed: int = 0) -> TrialSet:
    """Return the training windows of every subject of ``corpus`` (groups: subject index).

    Subjects must share their channels.
    """
    trials = None
    for index, subject in enumerate(corpus.subjects):
        windows = training_windows(subject, settings, seed=seed, group=index)
        trials = windows if trials is None else trials.concat(windows)
    return replace(trials, name=corpus.name)


def _preictal_starts(
    subject: SeizureSubject, seizure: Seizure, settings: ForecastSettings
) -> np.ndarray:
    first = seizure.onset_s - settings.sph_s - settings.sop_s
    last = seizure.onset_s - settings.sph_s - settings.window_s
    hop = settings.preictal_hop_s or settings.monitor_hop_s
    candidates = np.arange(first, last + 1e-9, hop)
    return np.array(
        [s for s in candidates if _inside_one_file(subject, s, settings.window_s)], dtype=float
    )


def _interictal_starts(subject: SeizureSubject, settings: ForecastSettings) -> np.ndarray:
    hop, length, gap = settings.monitor_hop_s, settings.window_s, settings.interictal_gap_s
    starts = []
    for segment in subject.segments:
        candidates = np.arange(segment.start_s, segment.end_s - length + 1e-9, hop)
        far = np.ones(candidates.size, bool)
        for seizure in subject.seizures:
            far &= (candidates + length <= seizure.onset_s - gap) | (
                candidates >= seizure.end_s + gap
            )
        starts.append(candidates[far])
    return np.concatenate(starts) if starts else np.zeros(0)


def _inside_one_file(subject: SeizureSubject, start: float, length: float) -> bool:
    segment = subject.segment_at(start)
    return segment is not None and start + length <= segment.end_s + 1e-9


def _block_index(starts: np.ndarray, blocks: list[SeizureBlock]) -> np.ndarray:
    index = np.full(starts.size, -1)
    for block in blocks:
        index[(starts >= block.start_s) & (starts < block.end_s)] = block.index
    return index
