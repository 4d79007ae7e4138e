"""Simulated motor imagery EEG: mu/beta desynchronisation of sensorimotor sources.

Model
-----
Each subject has five sensorimotor generators (hand areas of both hemispheres, the medial
foot area, tongue areas of both hemispheres), dipoles placed about 2-3 cm below C3, C4, Cz, C5
and C6 and projected to the electrodes by a three-shell spherical forward model
(:mod:`.forward`). Each generator carries a mu (9-12.5 Hz) and a beta (17-26 Hz) rhythm:
Gaussian narrow-band noise with subject-specific peaks. Imagery of a class changes the power
of these rhythms from about 0.3 s after the cue to the end of the task period: left hand
desynchronises the right hand area (and, a third as much, the left one), right hand the
reverse, feet the foot area with a mild synchronisation of both hand areas, tongue both tongue
areas with the same surround synchronisation. Trials differ in how well the subject performs
(the depth varies, and one trial in ten has no imagery at all).

The background is 1/f^a activity of 300 random cortical dipoles (generated at the sensors from
their exact spatial covariance, which gives the same Gaussian process), two posterior alpha
generators, and white sensor noise. Artefacts: eye blinks on frontal channels and line noise.
Signals are referenced to linked mastoids.

Subjects differ in source positions (sd 6 mm per axis) and orientations, rhythm frequencies,
ERD depth per class, SNR (sd 1.5 dB), background level and spectrum, and noise levels.

SNR
---
``snr_db`` = 10 log10(P_task / P_background), where P_task is the 8-30 Hz power, summed over
all channels, of the sensorimotor generators at rest (no desynchronisation) and P_background
the 8-30 Hz power, summed over all channels, of the background (1/f sources, posterior alpha
and sensor noise); blinks and line noise are not counted. Each subject's SNR is ``snr_db``
plus a subject offset; the dipole moments are scaled so that the expected power ratio on the
simulated montage and sampling rate equals it (:meth:`SimulatedRecording.snr_db` measures it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .artifacts import blink_pattern, blinks, line_noise
from .background import Background, random_dipoles
from .errors import SimulatorError
from .forward import head_model, lead_field, place_dipoles
from .montages import electrode_positions, select_channels
from .options import level_problems, options_from
from .paradigm import CueTiming, Schedule, schedule_duration, schedule_labels
from .recording import SimulatedRecording, eeg_trials
from .registry import register
from .signals import band_fraction, fine_frequencies, frequencies, peak_spectrum, shaped_noise

if TYPE_CHECKING:
    import mne

    from decoders.datasets.trials import TrialSet

TASK = "motor_imagery"
CLASSES = ("left_hand", "right_hand", "feet", "tongue")
"""Every class the simulator knows; :class:`MotorImageryOptions` chooses among them."""

# Sensorimotor generators: electrode above, depth below the scalp (m), weights of the radial and
# anterior directions in the orientation, relative rhythm power.
_RHYTHM_SOURCES = {
    "hand_lh": ("C3", 0.022, 0.6, 0.8, 1.0),
    "hand_rh": ("C4", 0.022, 0.6, 0.8, 1.0),
    "foot": ("Cz", 0.032, 0.9, 0.4, 0.8),
    "tongue_lh": ("C5", 0.025, 0.7, 0.7, 0.6),
    "tongue_rh": ("C6", 0.025, 0.7, 0.7, 0.6),
}
_ALPHA_SOURCES = {"alpha_lh": ("O1", 0.025, 1.0, -0.3), "alpha_rh": ("O2", 0.025, 1.0, -0.3)}
# Relative power change of each generator's rhythms during imagery of each class, before the
# subject's scaling: positive values are desynchronisation (power lost), negative synchronisation.
_ERD_MAP = {
    "left_hand": {"hand_rh": 1.0, "hand_lh": 0.3},
    "right_hand": {"hand_lh": 1.0, "hand_rh": 0.3},
    "feet": {"foot": 1.0, "hand_lh": -0.25, "hand_rh": -0.25},
    "tongue": {"tongue_lh": 1.0, "tongue_rh": 1.0, "hand_lh": -0.25, "hand_rh": -0.25},
}
_N_BACKGROUND_SOURCES = 300
_LAPSE_RATE = 0.1  # trials without imagery
_ERD_RISE_S = 0.6
_ERD_FALL_S = 0.5
_LIVE_RUN = 1_000_000  # noise stream of the continuous recording for live use


@dataclass(frozen=True)
class MotorImageryOptions:
    """Options of the motor imagery simulator (all keyword options of the registry calls).

    Attributes
    ----------
    classes : tuple of str
        Imagined movements, any of ``left_hand``, ``right_hand``, ``feet``, ``tongue``.
    channels : int | tuple of str
        Channel count (see :func:`.montages.select_channels`) or 10-10 names.
    sfreq : float
        Sampling rate in Hz (at least 80).
    n_subjects, n_runs, trials_per_class : int
        Trial-set size: runs per subject, trials of each class per run.
    tmin, tmax : float
        Trial window of the trial set, in seconds from the cue.
    snr_db : float
        Mean SNR over subjects (see the module docstring for its definition).
    erd_depth : float
        Nominal fraction of rhythm power lost over the contralateral area during imagery, scaled
        per subject (x0.6-1.3), per class (x0.7-1.2) and per trial (x N(1, 0.3), and x0 in one
        trial in ten), capped at 0.95. 0 removes every task effect.
    background_uv : float
        Mean RMS over channels of the 1/f background, in microvolts.
    sensor_noise_uv : float
        RMS of the white sensor noise, in microvolts.
    line_freq : float, optional
        Power-line frequency in Hz; ``None`` for no line noise.
    line_noise_uv : float
        Line-noise amplitude in microvolts.
    blinks_per_min : float
        Mean eye-blink rate (0 for none).
    blink_uv : float
        Mean blink amplitude at Fpz in microvolts.
    fixation_s, task_s : float
        Fixation before the cue; cue to end of imagery.
    rest_s : tuple of float
        Range of the random rest after imagery.
    """

    classes: tuple[str, ...] = ("left_hand", "right_hand", "feet")
    channels: int | tuple[str, ...] = 22
    sfreq: float = 250.0
    n_subjects: int = 4
    n_runs: int = 3
    trials_per_class: int = 10
    tmin: float = 0.5
    tmax: float = 2.5
    snr_db: float = -4.0
    erd_depth: float = 0.6
    background_uv: float = 20.0
    sensor_noise_uv: float = 3.0
    line_freq: float | None = 50.0
    line_noise_uv: float = 5.0
    blinks_per_min: float = 15.0
    blink_uv: float = 100.0
    fixation_s: float = 2.0
    task_s: float = 4.0
    rest_s: tuple[float, float] = (1.5, 2.5)
    ch_names: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.channels, int | np.integer):
            object.__setattr__(self, "channels", int(self.channels))
        else:
            object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "rest_s", tuple(self.rest_s))
        object.__setattr__(self, "ch_names", select_channels(self.channels))
        self._check()

    @classmethod
    def from_options(cls, options: dict[str, object]) -> MotorImageryOptions:
        """Return the options from keyword arguments, naming any unknown one."""
        return options_from(cls, options, TASK)

    @property
    def timing(self) -> CueTiming:
        """Return the trial timing."""
        return CueTiming(self.fixation_s, self.task_s, self.rest_s)  # type: ignore[arg-type]

    def _check(self) -> None:
        problems = []
        unknown = [name for name in self.classes if name not in CLASSES]
        if unknown or len(set(self.classes)) != len(self.classes) or len(self.classes) < 2:
            problems.append(f"classes must be 2 or more distinct names of {CLASSES}")
        if self.sfreq < 80:
            problems.append(f"sfreq must be at least 80 Hz (beta reaches 30 Hz), got {self.sfreq}")
        for name in ("n_subjects", "n_runs", "trials_per_class"):
            if int(getattr(self, name)) < 1:
                problems.append(f"{name} must be at least 1")
        if not 0.0 <= self.erd_depth <= 0.95:
            problems.append(f"erd_depth must be within 0..0.95, got {self.erd_depth}")
        if not -self.fixation_s <= self.tmin < self.tmax <= self.task_s + self.rest_s[0]:
            problems.append(
                f"the trial window {self.tmin}..{self.tmax} s must lie within "
                f"-{self.fixation_s}..{self.task_s + self.rest_s[0]} s of the cue"
            )
        if not 0 < self.rest_s[0] <= self.rest_s[1]:
            problems.append(f"rest_s must be an increasing positive range, got {self.rest_s}")
        levels = ("background_uv", "sensor_noise_uv", "line_noise_uv", "blinks_per_min", "blink_uv")
        problems += level_problems(self, levels)
        if problems:
            raise SimulatorError(TASK, "; ".join(problems))


@dataclass(frozen=True)
class MotorImagerySubject:
    """The ground truth of one simulated subject.

    Attributes
    ----------
    index : int
        Subject index (``groups`` in the trial set).
    source_names : tuple of str
        Sensorimotor generators: ``hand_lh``, ``hand_rh``, ``foot``, ``tongue_lh``,
        ``tongue_rh`` (``lh``/``rh``: left/right hemisphere).
    source_pos : ndarray, shape (n_sources, 3)
        Dipole positions in metres, head frame.
    source_ori : ndarray, shape (n_sources, 3)
        Unit dipole orientations.
    source_power : ndarray, shape (n_sources,)
        Relative resting rhythm power of each generator.
    mu_hz, beta_hz : float
        Peak frequencies of the rhythms.
    mu_width_hz, beta_width_hz : float
        Widths (sd of the Gaussian power spectrum) of the rhythms.
    beta_share : float
        Fraction of the rhythm power in the beta band.
    power_change : dict of str to dict of str to float
        For each class and generator, the relative change of rhythm power during imagery in a
        fully performed trial: -0.5 means the power is halved (desynchronisation), +0.25 a 25 %
        increase (synchronisation). Generators not listed do not change.
    erd_latency_s : float
        Delay from the cue to the start of the change.
    snr_db : float
        This subject's SNR (see the module docstring).
    background_uv, sensor_noise_uv : float
        Background and sensor-noise levels in microvolts RMS.
    background_exponent : float
        Exponent a of the 1/f^a background spectrum.
    alpha_hz : float
        Peak frequency of the posterior alpha generators.
    blinks_per_min : float
        Eye-blink rate.
    """

    index: int
    source_names: tuple[str, ...]
    source_pos: np.ndarray
    source_ori: np.ndarray
    source_power: np.ndarray
    mu_hz: float
    mu_width_hz: float
    beta_hz: float
    beta_width_hz: float
    beta_share: float
    power_change: dict[str, dict[str, float]]
    erd_latency_s: float
    snr_db: float
    background_uv: float
    sensor_noise_uv: float
    background_exponent: float
    alpha_hz: float
    blinks_per_min: float


@dataclass(frozen=True)
class _SubjectModel:
    """A subject on one montage and sampling rate: patterns and levels ready to simulate."""

    truth: MotorImagerySubject
    rhythm_patterns: np.ndarray  # (n_channels, n_sources), volts per ampere-metre
    rhythm_moment: np.ndarray  # (n_sources,), RMS dipole moment at rest, ampere-metres
    background: Background
    blink_pattern: np.ndarray  # (n_channels,), volts of a mean blink
    line_amplitude: np.ndarray  # (n_channels,), volts


@register(TASK, "motor imagery: mu/beta desynchronisation over sensorimotor sources")
class MotorImagerySimulator:
    """Simulated motor imagery EEG of several subjects (see the module docstring).

    Parameters
    ----------
    seed : int
        Same seed and options give identical output. A subject's anatomy and physiology depend
        only on the seed and its index, not on the montage, sampling rate or trial counts.
    **options
        Fields of :class:`MotorImageryOptions`.
    """

    def __init__(self, seed: int = 0, **options: object) -> None:
        self.seed = int(seed)
        self.options = MotorImageryOptions.from_options(options)
        self.classes = self.options.classes
        self.ch_names = self.options.ch_names
        self.sfreq = float(self.options.sfreq)
        self._models: dict[int, _SubjectModel] = {}

    def subject(self, index: int) -> MotorImagerySubject:
        """Return the ground truth of subject ``index``."""
        return self._model(index).truth

    def source_patterns(self, index: int) -> np.ndarray:
        """Return the sensor patterns (n_channels, n_sources) of a subject's generators.

        Each column is the potential (V) that the generator's resting rhythm dipole, at its
        RMS moment, produces at the electrodes.
        """
        model = self._model(index)
        return model.rhythm_patterns * model.rhythm_moment

    def recording(self, subject: int = 0, run: int = 0) -> SimulatedRecording:
        """Return run ``run`` of ``subject`` as used in the trial set, with its components."""
        if not 0 <= run < _LIVE_RUN - 1:
            raise SimulatorError(TASK, f"run must be a non-negative index, got {run}")
        rng = self._rng(subject, 1 + run)
        per_class = np.repeat(np.arange(len(self.classes)), self.options.trials_per_class)
        schedule = schedule_labels(rng, rng.permutation(per_class), self.options.timing)
        return self._simulate(subject, schedule, rng, f"run {run}")

    def live_recording(self, duration_s: float = 60.0, subject: int = 0) -> SimulatedRecording:
        """Return a continuous recording of ``duration_s`` for live use, with its components.

        The noise and trial order differ from every run of the trial set.
        """
        if duration_s <= 0:
            raise SimulatorError(TASK, f"duration_s must be positive, got {duration_s}")
        rng = self._rng(subject, _LIVE_RUN)
        schedule = schedule_duration(rng, len(self.classes), self.options.timing, duration_s)
        return self._simulate(subject, schedule, rng, "live")

    task: str = TASK

    def trials(self) -> TrialSet:
        """Return the trials of every subject and run, cut from ``tmin`` to ``tmax`` after each cue."""
        data, labels, groups, blocks = [], [], [], []
        for subject, block, recording in self._recordings():
            data.append(recording.epochs(self.options.tmin, self.options.tmax))
            labels.append(recording.schedule.labels)
            groups.append(np.full(recording.schedule.n_trials, subject))
            blocks.append(np.full(recording.schedule.n_trials, block))
        return eeg_trials(
            self.task,
            np.concatenate(data),
            np.concatenate(labels),
            self.classes,
            self.sfreq,
            self.ch_names,
            np.concatenate(groups),
            np.concatenate(blocks),
        )

    def _recordings(self) -> Iterator[tuple[int, int, SimulatedRecording]]:
        """Yield (subject, block, recording) of the trial set, in recorded order."""
        for subject in range(self.options.n_subjects):
            for run in range(self.options.n_runs):
                yield subject, run, self.recording(subject, run)

    def raw(self, duration_s: float = 60.0, subject: int = 0) -> mne.io.RawArray:
        """Return a continuous recording for live use (see :meth:`live_recording`)."""
        return self.live_recording(duration_s, subject).to_raw()

    def _rng(self, subject: int, stream: int) -> np.random.Generator:
        """Return the random generator of one subject's anatomy (stream 0) or one recording."""
        if subject < 0:
            raise SimulatorError(TASK, f"subject must be a non-negative index, got {subject}")
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(subject, stream)))

    def _model(self, index: int) -> _SubjectModel:
        """Return subject ``index`` on this montage and sampling rate (built once)."""
        if index not in self._models:
            self._models[index] = _build_subject(index, self._rng(index, 0), self.options)
        return self._models[index]

    def _simulate(
        self,
        subject: int,
        schedule: Schedule,
        rng: np.random.Generator,
        label: str,
        model: _SubjectModel | None = None,
    ) -> SimulatedRecording:
        """Return the recording of ``schedule`` for ``subject`` (or for ``model`` of it)."""
        model = model or self._model(subject)
        n_times = round(schedule.duration_s * self.sfreq)
        task_signal = _rhythms(model, schedule, rng, self.options, n_times)
        background = model.background.simulate(rng, self.sfreq, n_times)
        artifacts = blinks(
            rng, model.blink_pattern, model.truth.blinks_per_min, self.sfreq, n_times
        )
        if self.options.line_freq is not None:
            artifacts += line_noise(
                rng, model.line_amplitude, self.options.line_freq, self.sfreq, n_times
            )
        description = (
            f"Simulated {TASK} ({', '.join(self.classes)}), seed {self.seed}, subject {subject}, "
            f"{label}; SNR {model.truth.snr_db:.1f} dB (8-30 Hz sensorimotor rhythm at rest vs "
            f"background, summed over channels)"
        )
        return SimulatedRecording(
            task_signal,
            background,
            artifacts,
            self.ch_names,
            self.sfreq,
            self.classes,
            schedule,
            description,
            self.options.line_freq,
        )


def _build_subject(
    index: int, rng: np.random.Generator, options: MotorImageryOptions
) -> _SubjectModel:
    """Draw a subject's anatomy and physiology and place it on the montage."""
    model = head_model()
    names = tuple(_RHYTHM_SOURCES)
    n_sources, n_electrodes = len(names), len(electrode_positions())
    # Every draw happens whatever the options, in this order, so that a subject stays the same.
    placement = [spec[:4] for spec in _RHYTHM_SOURCES.values()] + list(_ALPHA_SOURCES.values())
    position_jitter = rng.normal(0.0, 0.006, (len(placement), 3))
    orientation_jitter = rng.normal(0.0, 0.35, (len(placement), 3))
    source_power = np.array([spec[4] for spec in _RHYTHM_SOURCES.values()])
    source_power = source_power * rng.uniform(0.7, 1.3, n_sources)
    mu_hz, beta_hz = rng.uniform(9.0, 12.5), rng.uniform(17.0, 26.0)
    mu_width, beta_width = rng.uniform(0.8, 1.5), rng.uniform(2.0, 4.0)
    beta_share = rng.uniform(0.15, 0.5)
    erd_gain = rng.uniform(0.6, 1.3)
    class_gain = dict(zip(CLASSES, rng.uniform(0.7, 1.2, len(CLASSES)), strict=True))
    latency = rng.uniform(0.2, 0.5)
    snr_db = options.snr_db + rng.normal(0.0, 1.5)
    background_uv = options.background_uv * rng.uniform(0.75, 1.25)
    exponent = rng.uniform(0.9, 1.5)
    sensor_noise_uv = options.sensor_noise_uv * rng.uniform(0.6, 1.4)
    alpha_hz, alpha_share = rng.uniform(8.5, 11.5), rng.uniform(0.2, 0.8)
    blinks_per_min = options.blinks_per_min * rng.uniform(0.5, 1.5)
    background_dipoles = random_dipoles(rng, model, _N_BACKGROUND_SOURCES)
    channel_noise = rng.uniform(0.7, 1.3, n_electrodes)
    line_gain = rng.uniform(0.5, 1.5, n_electrodes)

    grid_index, orientation = place_dipoles(model, placement, position_jitter, orientation_jitter)
    power_change = {
        name: {
            source: 0.0 - float(min(weight * options.erd_depth * erd_gain * class_gain[name], 0.95))
            for source, weight in _ERD_MAP[name].items()
        }
        for name in options.classes
    }
    truth = MotorImagerySubject(
        index=index,
        source_names=names,
        source_pos=model.grid[grid_index[:n_sources]],
        source_ori=orientation[:n_sources],
        source_power=source_power,
        mu_hz=float(mu_hz),
        mu_width_hz=float(mu_width),
        beta_hz=float(beta_hz),
        beta_width_hz=float(beta_width),
        beta_share=float(beta_share),
        power_change=power_change,
        erd_latency_s=float(latency),
        snr_db=float(snr_db),
        background_uv=float(background_uv),
        sensor_noise_uv=float(sensor_noise_uv),
        background_exponent=float(exponent),
        alpha_hz=float(alpha_hz),
        blinks_per_min=float(blinks_per_min),
    )
    field_ = lead_field(options.ch_names)
    rows = [list(electrode_positions()).index(name) for name in options.ch_names]
    patterns = field_.pattern(grid_index, orientation)
    background = Background.build(
        field_,
        background_dipoles,
        truth.background_uv,
        truth.background_exponent,
        (patterns[:, n_sources:], truth.alpha_hz, alpha_share),
        truth.sensor_noise_uv * channel_noise[rows],
        options.sfreq,
    )
    rhythm_patterns = patterns[:, :n_sources]
    unit_power = np.sum(rhythm_patterns**2 * source_power) * _rhythm_band_fraction(
        truth, options.sfreq
    )
    scale = np.sqrt(10 ** (truth.snr_db / 10) * background.band_power(options.sfreq) / unit_power)
    return _SubjectModel(
        truth=truth,
        rhythm_patterns=rhythm_patterns,
        rhythm_moment=scale * np.sqrt(source_power),
        background=background,
        blink_pattern=blink_pattern(options.ch_names) * options.blink_uv * 1e-6,
        line_amplitude=line_gain[rows] * options.line_noise_uv * 1e-6,
    )


def _rhythm_band_fraction(truth: MotorImagerySubject, sfreq: float) -> float:
    """Return the share of a generator's rhythm power (mu and beta) that lies in 8-30 Hz."""
    freqs = fine_frequencies(sfreq)
    mu = band_fraction(peak_spectrum(freqs, truth.mu_hz, truth.mu_width_hz), freqs)
    beta = band_fraction(peak_spectrum(freqs, truth.beta_hz, truth.beta_width_hz), freqs)
    return (1 - truth.beta_share) * mu + truth.beta_share * beta


def _rhythms(
    model: _SubjectModel,
    schedule: Schedule,
    rng: np.random.Generator,
    options: MotorImageryOptions,
    n_times: int,
) -> np.ndarray:
    """Return the sensorimotor rhythms at the sensors, with the imagery's power changes."""
    truth = model.truth
    sfreq = options.sfreq
    freqs = frequencies(n_times, sfreq)
    n_sources = len(truth.source_names)
    mu = shaped_noise(rng, peak_spectrum(freqs, truth.mu_hz, truth.mu_width_hz), n_sources, n_times)
    beta = shaped_noise(
        rng, peak_spectrum(freqs, truth.beta_hz, truth.beta_width_hz), n_sources, n_times
    )
    moments = np.sqrt(1 - truth.beta_share) * mu + np.sqrt(truth.beta_share) * beta
    moments *= model.rhythm_moment[:, None]
    efficacy = np.clip(rng.normal(1.0, 0.3, schedule.n_trials), 0.0, 1.6)
    efficacy[rng.random(schedule.n_trials) < _LAPSE_RATE] = 0.0
    power = np.ones((n_sources, n_times))
    for cue, label, performed in zip(schedule.cue_onsets, schedule.labels, efficacy, strict=True):
        changes = truth.power_change.get(options.classes[label], {})
        start, shape = _imagery_shape(cue + truth.erd_latency_s, cue + options.task_s, sfreq)
        for source, change in changes.items():
            row = truth.source_names.index(source)
            stop = min(start + shape.size, n_times)
            power[row, start:stop] += change * performed * shape[: stop - start]
    moments *= np.sqrt(np.clip(power, 0.05, None))
    return model.rhythm_patterns @ moments


def _imagery_shape(start_s: float, end_s: float, sfreq: float) -> tuple[int, np.ndarray]:
    """Return the first sample and the 0..1 time course of an imagery period's power change."""
    rise = 0.5 - 0.5 * np.cos(np.pi * np.arange(int(_ERD_RISE_S * sfreq)) / (_ERD_RISE_S * sfreq))
    hold = np.ones(max(int((end_s - start_s - _ERD_RISE_S) * sfreq), 0))
    fall = 0.5 + 0.5 * np.cos(np.pi * np.arange(int(_ERD_FALL_S * sfreq)) / (_ERD_FALL_S * sfreq))
    return round(start_s * sfreq), np.concatenate([rise, hold, fall])
