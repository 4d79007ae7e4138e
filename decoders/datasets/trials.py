"""The trial-set contract: labelled trials shaped (n_trials, n_channels, n_times) in volts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from .errors import DataError

if TYPE_CHECKING:
    import mne


@dataclass(frozen=True)
class TrialSet:
    """Labelled trials of one recording or data set.

    Parameters
    ----------
    data : ndarray, shape (n_trials, n_channels, n_times)
        Signals in SI units (volts for EEG/ECoG/sEEG, tesla for MEG).
    labels : ndarray of int, shape (n_trials,)
        Class codes, indices into ``classes``.
    classes : tuple of str
        Class names.
    sfreq : float
        Sampling rate in Hz.
    ch_names, ch_types : tuple of str
        Channel names and MNE channel types.
    name : str
        What the trials are (data set name, file, simulator).
    groups : ndarray of int, shape (n_trials,)
        Subject of each trial, for leave-one-subject-out; zeros when unknown.
    blocks : ndarray of int, shape (n_trials,)
        Recording block (run or session) of each trial, for splits by block; zeros when unknown.
    ch_pos : dict of str to ndarray, optional
        Sensor positions in metres (head frame) where the source has them.
    """

    data: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    sfreq: float
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    name: str
    groups: np.ndarray = field(default=None)  # type: ignore[assignment]
    blocks: np.ndarray = field(default=None)  # type: ignore[assignment]
    ch_pos: dict[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        data = np.asarray(self.data)
        labels = np.asarray(self.labels)
        n_trials = data.shape[0] if data.ndim else 0
        default_ids = np.zeros(n_trials, dtype=int)
        groups = default_ids if self.groups is None else np.asarray(self.groups, dtype=int)
        blocks = default_ids if self.blocks is None else np.asarray(self.blocks, dtype=int)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "labels", labels.astype(int))
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "blocks", blocks)
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "ch_names", tuple(self.ch_names))
        object.__setattr__(self, "ch_types", tuple(self.ch_types))
        self._check()

    def _check(self) -> None:
        if self.data.ndim != 3:
            raise DataError(
                self.name, f"trials must be 3-D (trials, channels, times), got {self.data.shape}"
            )
        n_trials, n_channels, _ = self.data.shape
        for what, values in (
            ("labels", self.labels),
            ("groups", self.groups),
            ("blocks", self.blocks),
        ):
            if values.shape != (n_trials,):
                raise DataError(
                    self.name, f"{what} has shape {values.shape}, expected ({n_trials},)"
                )
        if len(self.ch_names) != n_channels or len(self.ch_types) != n_channels:
            raise DataError(
                self.name,
                f"{n_channels} channels in the data but {len(self.ch_names)} names and "
                f"{len(self.ch_types)} types",
            )
        if n_trials and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            raise DataError(self.name, f"labels outside 0..{len(self.classes) - 1}")
        if self.sfreq <= 0:
            raise DataError(self.name, f"sampling rate must be positive, got {self.sfreq}")
        if not np.isfinite(self.data).all():
            bad = np.argwhere(~np.isfinite(self.data))[0]
            raise DataError(
                self.name,
                f"NaN or Inf samples (first in trial {bad[0]}, channel {self.ch_names[bad[1]]})",
            )

    @property
    def n_trials(self) -> int:
        """Return the number of trials."""
        return self.data.shape[0]

    @property
    def n_channels(self) -> int:
        """Return the number of channels."""
        return self.data.shape[1]

    @property
    def n_times(self) -> int:
        """Return the number of samples per trial."""
        return self.data.shape[2]

    @property
    def n_classes(self) -> int:
        """Return the number of classes."""
        return len(self.classes)

    def subset(self, index: np.ndarray | slice | list[int]) -> TrialSet:
        """Return the trials selected by ``index`` (positions or a boolean mask)."""
        return replace(
            self,
            data=self.data[index],
            labels=self.labels[index],
            groups=self.groups[index],
            blocks=self.blocks[index],
        )

    def concat(self, other: TrialSet) -> TrialSet:
        """Return these trials followed by ``other``'s (same channels, rate and classes)."""
        if (other.ch_names, other.sfreq, other.classes) != (
            self.ch_names,
            self.sfreq,
            self.classes,
        ):
            raise DataError(other.name, f"channels, rate or classes differ from {self.name}")
        return replace(
            self,
            data=np.concatenate([self.data, other.data]),
            labels=np.concatenate([self.labels, other.labels]),
            groups=np.concatenate([self.groups, other.groups]),
            blocks=np.concatenate([self.blocks, other.blocks]),
        )

    def require_classes(self, minimum: int = 2) -> None:
        """Raise when fewer than ``minimum`` classes are present in the labels."""
        present = np.unique(self.labels)
        if present.size < minimum:
            names = [self.classes[i] for i in present]
            raise DataError(
                self.name,
                f"labels hold {present.size} class(es) {names}; at least {minimum} needed",
            )

    def to_raw(self) -> mne.io.RawArray:
        """Return the trials back to back as one recording, each start annotated by its class.

        For replaying a trial set as a live stream with its markers.
        """
        import mne

        info = mne.create_info(list(self.ch_names), self.sfreq, list(self.ch_types))
        raw = mne.io.RawArray(np.concatenate(list(self.data), axis=1), info, verbose=False)
        starts = np.arange(self.n_trials) * self.n_times / self.sfreq
        labels = [self.classes[label] for label in self.labels]
        raw.set_annotations(mne.Annotations(starts, np.zeros(self.n_trials), labels))
        return raw

    def to_epochs(self) -> mne.EpochsArray:
        """Return the trials as :class:`mne.EpochsArray` with events coded by class."""
        import mne

        info = mne.create_info(list(self.ch_names), self.sfreq, list(self.ch_types))
        events = np.column_stack(
            [np.arange(self.n_trials) * self.n_times, np.zeros(self.n_trials, int), self.labels]
        )
        event_id = {name: code for code, name in enumerate(self.classes) if code in self.labels}
        epochs = mne.EpochsArray(self.data, info, events=events, event_id=event_id, verbose=False)
        if self.ch_pos:
            montage = mne.channels.make_dig_montage(ch_pos=self.ch_pos, coord_frame="head")
            epochs.set_montage(montage, on_missing="ignore")
        return epochs


PUBLISHED_SPLIT = "the data set's published train/test split"


@dataclass(frozen=True)
class OfficialSplit:
    """A train/test split fixed before any evaluation: published, or the user's own.

    Parameters
    ----------
    train, test : TrialSet
        The two parts; the test part is scored once per fitted model, never used to fit or
        to select.
    description : str
        Which split this is, stated beside every figure (the published split, the user's
        own train and test files, the ``test/`` folders, a BIDS session ...).
    """

    train: TrialSet
    test: TrialSet
    description: str = PUBLISHED_SPLIT

    @property
    def name(self) -> str:
        """Return the data set name."""
        return self.train.name.removesuffix("/train")
