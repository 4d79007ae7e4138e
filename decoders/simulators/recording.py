"""One simulated continuous recording, kept as its separate components (the ground truth)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from decoders.datasets.trials import TrialSet

from .montages import dig_montage, electrode_positions
from .paradigm import Schedule
from .signals import BAND_HZ, band_power

if TYPE_CHECKING:
    import mne


@dataclass(frozen=True)
class SimulatedRecording:
    """A simulated recording: task signal, background and artefacts, in volts.

    Attributes
    ----------
    task_signal : ndarray, shape (n_channels, n_times)
        The generators the task acts on, at the sensors (for motor imagery: the mu/beta
        rhythms with their desynchronisation).
    background : ndarray, shape (n_channels, n_times)
        Ongoing brain activity not related to the task, plus sensor noise.
    artifacts : ndarray, shape (n_channels, n_times)
        Eye blinks and line noise.
    ch_names : tuple of str
        EEG channel names.
    sfreq : float
        Sampling rate in Hz.
    classes : tuple of str
        Class names, indexed by ``schedule.labels``.
    schedule : Schedule
        The paradigm: cue onsets, labels, rests.
    description : str
        What was simulated, with its seed, subject, run and stated SNR.
    line_freq : float, optional
        Power-line frequency, when line noise was simulated.
    """

    task_signal: np.ndarray
    background: np.ndarray
    artifacts: np.ndarray
    ch_names: tuple[str, ...]
    sfreq: float
    classes: tuple[str, ...]
    schedule: Schedule
    description: str
    line_freq: float | None

    @property
    def signals(self) -> np.ndarray:
        """Return the recorded signals: the sum of the components (n_channels, n_times)."""
        return self.task_signal + self.background + self.artifacts

    def cue_samples(self) -> np.ndarray:
        """Return the sample index of each cue onset."""
        return np.round(self.schedule.cue_onsets * self.sfreq).astype(int)

    def epochs(self, tmin: float, tmax: float) -> np.ndarray:
        """Return the trials (n_trials, n_channels, n_times) from ``tmin`` to ``tmax`` s after each cue."""
        start = round(tmin * self.sfreq)
        length = round((tmax - tmin) * self.sfreq)
        signals = self.signals
        return np.stack(
            [signals[:, cue + start : cue + start + length] for cue in self.cue_samples()]
        )

    def snr_db(self) -> float:
        """Return the measured SNR in dB: task-signal to background power, 8-30 Hz, at rest.

        Power is summed over channels and measured in the fixation periods, where the task
        generators are at rest (no desynchronisation).
        """
        fixation = round(self.schedule.timing.fixation_s * self.sfreq)
        cues = self.cue_samples()
        task = np.stack([self.task_signal[:, cue - fixation : cue] for cue in cues])
        background = np.stack([self.background[:, cue - fixation : cue] for cue in cues])
        ratio = band_power(task, self.sfreq, BAND_HZ) / band_power(background, self.sfreq, BAND_HZ)
        return float(10.0 * np.log10(ratio))

    def to_raw(self) -> mne.io.RawArray:
        """Return the recording as :class:`mne.io.RawArray` with positions and annotations."""
        raw = eeg_raw(self.signals, self.ch_names, self.sfreq, self.line_freq, self.description)
        raw.set_annotations(self.schedule.annotations(self.classes))
        return raw


def eeg_raw(
    signals: np.ndarray,
    ch_names: tuple[str, ...],
    sfreq: float,
    line_freq: float | None,
    description: str,
) -> mne.io.RawArray:
    """Return simulated EEG (volts) as :class:`mne.io.RawArray` with electrode positions.

    Parameters
    ----------
    signals : ndarray, shape (n_channels, n_times)
        Signals in volts.
    ch_names : tuple of str
        10-20/10-10 channel names (their montage positions are set).
    sfreq : float
        Sampling rate in Hz.
    line_freq : float, optional
        Power-line frequency recorded in the measurement info.
    description : str
        What was simulated, recorded in the measurement info.
    """
    import mne

    info = mne.create_info(list(ch_names), sfreq, "eeg")
    info.set_montage(dig_montage(ch_names))
    info["line_freq"] = line_freq
    info["description"] = description
    return mne.io.RawArray(signals, info, verbose="error")


def eeg_trials(
    task: str,
    data: np.ndarray,
    labels: np.ndarray,
    classes: tuple[str, ...],
    sfreq: float,
    ch_names: tuple[str, ...],
    groups: np.ndarray,
    blocks: np.ndarray,
) -> TrialSet:
    """Return simulated EEG trials (volts) of ``task`` with the electrodes' montage positions.

    ``groups`` holds the subject and ``blocks`` the run or recording of each trial.
    """
    positions = electrode_positions()
    return TrialSet(
        data=data,
        labels=labels,
        classes=classes,
        sfreq=sfreq,
        ch_names=ch_names,
        ch_types=("eeg",) * len(ch_names),
        name=f"simulated/{task}",
        groups=groups,
        blocks=blocks,
        ch_pos={name: positions[name] for name in ch_names},
    )
