"""Simulated clinical EEG, normal or abnormal: minutes-long recordings on the 10-20 montage.

Model
-----
Each subject has a resting EEG (:mod:`.resting_eeg`: 1/f background with a subject-specific
exponent, posterior alpha at 8-11 Hz that reacts to eye opening and drowsiness, central beta,
drowsy theta, sensor noise) and artefacts (eye blinks, temporal muscle bursts, line noise),
projected to the electrodes by the three-shell spherical forward model (:mod:`.forward`) and
referenced to linked mastoids. A share of the subjects are patients: each has a lesion, a
dipole 1.5-3 cm below a lateral electrode (temporal ones three times as likely), and each of
their recordings carries one or more abnormal features (:mod:`.abnormalities`: focal slowing,
interictal spikes, hemispheric asymmetry on the lesion's side, diffuse slowing): one drawn
among ``kinds`` with the chances of :data:`KIND_CHANCES` (diffuse slowing, the most common
finding of clinical EEG, the most likely), and each other one with probability 1/4. The label
(``normal``/``abnormal``) is the subject's, as in clinical corpora where a report labels each
session.

SNR
---
Each feature's SNR is its power over the normal background's in the feature's band, summed
over channels, where the feature is expressed (see :mod:`.abnormalities`). Each feature of a
recording aims at ``snr_db`` plus a recording offset (sd 2 dB), within physiological limits
(focal features at most 150-250 µV, asymmetry and diffuse slowing at most their full extent).
The SNR reached is stated in the ground truth and in each recording's description;
:meth:`AbnormalRecording.snr_db` measures it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .abnormal_options import MIN_DURATION_S, TASK, AbnormalEEGOptions
from .abnormal_recording import ABNORMAL, CLASSES, NORMAL, AbnormalRecording
from .abnormalities import Abnormality, Lesion, simulate_abnormality
from .artifacts import blink_pattern, blinks, line_noise, muscle_bursts, muscle_patterns
from .errors import SimulatorError
from .forward import head_model, lead_field, place_dipoles
from .montages import electrode_positions
from .recording import eeg_trials
from .registry import register
from .resting_eeg import RestingEEG, RestingPhysiology

if TYPE_CHECKING:
    import mne

    from decoders.datasets.trials import TrialSet

# Focus candidates: (electrode, relative chance); temporal foci are the most common.
_FOCI = {
    **dict.fromkeys(("F7", "T3", "T5", "F8", "T4", "T6"), 3.0),
    **dict.fromkeys(("Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2"), 1.0),
}
KIND_CHANCES = {"focal_slowing": 0.3, "spikes": 0.2, "asymmetry": 0.15, "diffuse_slowing": 0.35}
"""Relative chance of each kind to be a patient recording's main abnormality."""
_EXTRA_KIND_CHANCE = 0.25
_RECORDING_SNR_SD_DB = 2.0
_BLINK_UV = 100.0
_MUSCLE_UV = 20.0
_LINE_NOISE_UV = 5.0
_LABEL_STREAM = 2**20  # random stream choosing the abnormal subjects
_LIVE_RECORDING = 1_000_000  # noise stream of the continuous recording for live use


@dataclass(frozen=True)
class AbnormalSubject:
    """The ground truth of one simulated subject.

    Attributes
    ----------
    index : int
        Subject index.
    label : str
        ``normal`` or ``abnormal``.
    sfreq : float
        Sampling rate of the subject's recordings.
    physiology : RestingPhysiology
        Resting-EEG parameters.
    focus_pos, focus_ori : ndarray, shape (3,)
        Position (m, head frame) and unit orientation of the lesion's dipole (drawn for every
        subject, used for patients).
    focus_electrode : str
        The recorded electrode nearest to the focal dipole.
    blinks_per_min, muscle_per_min : float
        Artefact rates.
    """

    index: int
    label: str
    sfreq: float
    physiology: RestingPhysiology
    focus_pos: np.ndarray
    focus_ori: np.ndarray
    focus_electrode: str
    blinks_per_min: float
    muscle_per_min: float


@dataclass(frozen=True)
class _SubjectModel:
    """A subject on one montage and sampling rate: parts ready to simulate."""

    truth: AbnormalSubject
    resting: RestingEEG
    lesion: Lesion
    blink_pattern: np.ndarray  # (n_channels,), volts of a mean blink
    muscle_patterns: np.ndarray  # (n_channels, 2), volts RMS of a mean burst
    line_amplitude: np.ndarray  # (n_channels,), volts


@register(TASK, "abnormal EEG: focal slowing, spikes, asymmetry, diffuse slowing vs normal")
class AbnormalEEGSimulator:
    """Simulated normal and abnormal clinical EEG of several subjects (see the module docstring).

    Parameters
    ----------
    seed : int
        Same seed and options give identical output. A subject's anatomy, physiology and lesion
        depend only on the seed and its index; which subjects are patients depends on the seed,
        ``n_subjects`` and ``abnormal_fraction``.
    **options
        Fields of :class:`AbnormalEEGOptions`.
    """

    classes = CLASSES

    def __init__(self, seed: int = 0, **options: object) -> None:
        self.seed = int(seed)
        self.options = AbnormalEEGOptions.from_options(options)
        self.ch_names = self.options.ch_names
        n_subjects = self.options.n_subjects
        n_abnormal = round(self.options.abnormal_fraction * n_subjects)
        chosen = self._rng(_LABEL_STREAM, 0).permutation(n_subjects)[:n_abnormal]
        self.labels = tuple(ABNORMAL if s in chosen else NORMAL for s in range(n_subjects))
        self._models: dict[int, _SubjectModel] = {}

    def sfreq_of(self, subject: int) -> float:
        """Return the sampling rate of ``subject``'s recordings."""
        return self.options.sfreqs[subject % len(self.options.sfreqs)]

    def subject(self, index: int) -> AbnormalSubject:
        """Return the ground truth of subject ``index``."""
        return self._model(index).truth

    def recording(self, subject: int = 0, index: int = 0) -> AbnormalRecording:
        """Return recording ``index`` of ``subject``, lasting ``recording_s``, with its components."""
        if not 0 <= index < self.options.recordings_per_subject:
            raise SimulatorError(
                TASK,
                f"recording must be within 0..{self.options.recordings_per_subject - 1}, "
                f"got {index}",
            )
        return self._simulate(subject, 1 + index, self.options.recording_s, f"recording {index}")

    def live_recording(self, duration_s: float = 60.0, subject: int = 0) -> AbnormalRecording:
        """Return a continuous recording of ``duration_s`` for live use, with its components.

        Its noise and abnormal events differ from every recording of the corpus.
        """
        if duration_s < MIN_DURATION_S:
            raise SimulatorError(
                TASK, f"duration_s must be at least {MIN_DURATION_S:.0f} s, got {duration_s}"
            )
        return self._simulate(subject, _LIVE_RECORDING, duration_s, "live")

    def trials(self) -> TrialSet:
        """Return every recording cut into non-overlapping ``window_s`` windows.

        ``groups`` holds the subject and ``blocks`` the recording of each window.

        Raises
        ------
        SimulatorError
            When subjects have different sampling rates (a trial set has one).
        """
        if len(set(self.options.sfreqs)) > 1:
            raise SimulatorError(
                TASK,
                f"a trial set has one sampling rate, not {self.options.sfreqs}; write the corpus "
                "(bci-app data simulate) and resample it, or give one sfreq",
            )
        sfreq = self.options.sfreqs[0]
        n_window = round(self.options.window_s * sfreq)
        data, labels, groups, blocks = [], [], [], []
        for subject in range(self.options.n_subjects):
            for index in range(self.options.recordings_per_subject):
                signals = self.recording(subject, index).signals
                count = signals.shape[1] // n_window
                windows = signals[:, : count * n_window].reshape(len(self.ch_names), count, -1)
                data.append(windows.swapaxes(0, 1))
                labels += [CLASSES.index(self.labels[subject])] * count
                groups += [subject] * count
                blocks += [index] * count
        return eeg_trials(
            TASK,
            np.concatenate(data),
            np.array(labels),
            CLASSES,
            sfreq,
            self.ch_names,
            np.array(groups),
            np.array(blocks),
        )

    def raw(self, duration_s: float = 60.0, subject: int = 0) -> mne.io.RawArray:
        """Return a continuous recording for live use (see :meth:`live_recording`)."""
        return self.live_recording(duration_s, subject).to_raw()

    def write_corpus(self, root: str | Path) -> Path:
        """Write every recording as a TUH-layout EDF corpus under ``root`` (see :mod:`.tuh_corpus`)."""
        from .tuh_corpus import write_corpus

        return write_corpus(self, root)

    def _rng(self, subject: int, stream: int) -> np.random.Generator:
        """Return the random generator of one subject's anatomy (stream 0) or one recording."""
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(subject, stream)))

    def _model(self, index: int) -> _SubjectModel:
        """Return subject ``index`` on this montage and sampling rate (built once)."""
        if not 0 <= index < self.options.n_subjects:
            raise SimulatorError(
                TASK, f"subject must be within 0..{self.options.n_subjects - 1}, got {index}"
            )
        if index not in self._models:
            self._models[index] = self._build(index)
        return self._models[index]

    def _build(self, index: int) -> _SubjectModel:
        """Draw a subject's anatomy, physiology and lesion and place it on the montage."""
        rng = self._rng(index, 0)
        sfreq = self.sfreq_of(index)
        resting = RestingEEG.draw(rng, self.ch_names, sfreq)
        # Every draw happens whatever the options, in this order, so that a subject stays the same.
        foci = list(_FOCI)
        chances = np.array(list(_FOCI.values()))
        electrode = foci[rng.choice(len(foci), p=chances / chances.sum())]
        depth = rng.uniform(0.015, 0.030)
        grid, orientation = place_dipoles(
            head_model(),
            [(electrode, depth, 1.0, 0.0)],
            rng.normal(0.0, 0.005, (1, 3)),
            rng.normal(0.0, 0.3, (1, 3)),
        )
        blinks_per_min = rng.uniform(5.0, 25.0)
        muscle_per_min = rng.uniform(0.5, 3.0)
        line_gain = rng.uniform(0.5, 1.5, len(electrode_positions()))

        field_ = lead_field(self.ch_names)
        position = head_model().grid[grid[0]]
        nearest = int(np.argmin(np.linalg.norm(field_.ch_pos - position, axis=1)))
        pattern = field_.pattern(grid, orientation)[:, 0]
        truth = AbnormalSubject(
            index=index,
            label=self.labels[index],
            sfreq=sfreq,
            physiology=resting.physiology,
            focus_pos=position,
            focus_ori=orientation[0],
            focus_electrode=self.ch_names[nearest],
            blinks_per_min=float(blinks_per_min),
            muscle_per_min=float(muscle_per_min),
        )
        rows = [list(electrode_positions()).index(name) for name in self.ch_names]
        return _SubjectModel(
            truth=truth,
            resting=resting,
            lesion=Lesion(pattern * np.sign(pattern[nearest]), int(position[0] > 0)),
            blink_pattern=blink_pattern(self.ch_names) * _BLINK_UV * 1e-6,
            muscle_patterns=muscle_patterns(self.ch_names) * _MUSCLE_UV * 1e-6,
            line_amplitude=line_gain[rows] * _LINE_NOISE_UV * 1e-6,
        )

    def _simulate(
        self, subject: int, stream: int, duration_s: float, label: str
    ) -> AbnormalRecording:
        """Return one recording of ``subject`` drawn from random stream ``stream``."""
        model = self._model(subject)
        truth = model.truth
        sfreq = truth.sfreq
        rng = self._rng(subject, stream)
        n_times = round(duration_s * sfreq)
        resting = model.resting.simulate(rng, sfreq, n_times)
        artifacts = blinks(rng, model.blink_pattern, truth.blinks_per_min, sfreq, n_times)
        artifacts += muscle_bursts(rng, model.muscle_patterns, truth.muscle_per_min, sfreq, n_times)
        if self.options.line_freq is not None:
            artifacts += line_noise(
                rng, model.line_amplitude, self.options.line_freq, sfreq, n_times
            )
        abnormalities: tuple[Abnormality, ...] = ()
        if truth.label == ABNORMAL:
            context = (model.resting, resting, model.lesion)
            abnormalities = tuple(
                simulate_abnormality(
                    kind,
                    rng,
                    self.options.snr_db + rng.normal(0.0, _RECORDING_SNR_SD_DB),
                    context,
                    sfreq,
                    self.options.spikes_per_min * rng.uniform(0.5, 1.5),
                )
                for kind in self._kinds(rng)
            )
        stated = ", ".join(f"{item.kind} {item.snr_db:.1f} dB" for item in abnormalities)
        description = (
            f"Simulated {TASK}, seed {self.seed}, subject {subject}, {label}: {truth.label}"
            + (f"; SNR {stated} (feature vs background in its band)" if stated else "")
        )
        return AbnormalRecording(
            background=resting.signals,
            abnormalities=abnormalities,
            artifacts=artifacts,
            ch_names=self.ch_names,
            sfreq=sfreq,
            label=truth.label,
            subject=subject,
            index=stream - 1,
            focus_electrode=truth.focus_electrode,
            periods_s={"eyes_open": resting.eyes_open_s, "drowsy": resting.drowsy_s},
            description=description,
            line_freq=self.options.line_freq,
        )

    def _kinds(self, rng: np.random.Generator) -> list[str]:
        """Return the abnormality kinds of one recording: one drawn, each other one by chance."""
        kinds = self.options.kinds
        chances = np.array([KIND_CHANCES[kind] for kind in kinds])
        first = kinds[rng.choice(len(kinds), p=chances / chances.sum())]
        extra = rng.random(len(kinds)) < _EXTRA_KIND_CHANCE
        return [kind for kind, more in zip(kinds, extra, strict=True) if kind == first or more]
