"""Simulated long-term scalp EEG of people with focal epilepsy, for seizure forecasting.

Model
-----
Each subject has an epileptogenic focus: four dipoles about 2.5 cm below one electrode (a
temporal, frontal, central or parietal one, drawn per subject), projected with the other
generators by the three-shell spherical forward model of :mod:`.forward` to 21 electrodes
of the 10-20 system, referenced to linked mastoids, and recorded in the bipolar
double-banana montage of the CHB-MIT database (22 distinct derivations such as ``FP1-F7``;
the files repeat ``T8-P8`` as the database does).

- *Interictal background*: 1/f cortical activity of 300 random dipoles, posterior alpha,
  white sensor noise (:mod:`.background`), eye blinks and line noise (60 Hz); the focal
  generators carry a narrow-band rhythm (peak 5-20 Hz per subject) whose power wanders
  slowly (log-normal, sd ``fluctuation``, 5-minute time scale) and which fires interictal
  spikes (``spikes_per_min``). None of this depends on the time to the next seizure.
- *Preictal change*: during the ``preictal_s`` before each onset (per subject, 15-45 minutes
  by default), the focal rhythm's power grows linearly up to ``1 + preictal_power_gain``
  times its interictal level, and the focal generators' synchrony (the correlation of their
  rhythms) rises linearly from ``synchrony[0]`` to ``synchrony[1]``.
- *Seizure*: rhythmic spike-and-wave discharges whose frequency falls from 5-8 Hz to about
  3 Hz, starting at the focus and recruiting three neighbouring regions 2-6 s later and the
  contralateral homologous region 6-15 s later; then a postictal suppression of the
  background (70 % at the end, recovering over ``postictal_s``).

Recordings are hours long, cut into files (``file_s``, one hour as in CHB-MIT) separated by
gaps of a few seconds; no seizure straddles two files. Every file is generated on demand from
a random stream of its own (seed, subject, file), so a subject's files are the same however
they are read. Subjects differ in focus, rhythms, preictal duration, SNR (sd 1.5 dB),
background and noise levels.

SNR
---
``snr_db`` = 10 log10(dP_preictal / P_background), where dP_preictal is the power the
focal generators add at the sensors at seizure onset over their interictal level (the full
preictal change of power and synchrony, without the slow fluctuation) and P_background the
power of the background (1/f activity, alpha and sensor noise), both 1-30 Hz and summed over
the 22 bipolar derivations; blinks, line noise, spikes and seizures are not counted. Each
subject's SNR is ``snr_db`` plus its offset; :meth:`SeizureSimulator.measured_snr_db`
measures it on simulated signals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from decoders.datasets.forecast_windows import CLASSES, ForecastSettings, corpus_trials
from decoders.datasets.seizures import Segment, Seizure, SeizureCorpus, SeizureSubject

from .artifacts import blink_pattern, blinks, line_noise
from .background import Background, random_dipoles
from .errors import SimulatorError
from .forward import HeadModel, head_model, lead_field
from .montages import electrode_positions
from .options import level_problems, options_from
from .registry import register
from .signals import (
    band_fraction,
    band_power,
    fine_frequencies,
    frequencies,
    peak_spectrum,
    shaped_noise,
)

if TYPE_CHECKING:
    import mne

    from decoders.datasets.trials import TrialSet

TASK = "seizure"
ELECTRODES = (
    *("Fp1", "F7", "T7", "P7", "O1", "F3", "C3", "P3", "Fp2", "F4", "C4"),
    *("P4", "O2", "F8", "T8", "P8", "Fz", "Cz", "Pz", "FT9", "FT10"),
)
CHBMIT_CHANNELS = (
    *("FP1-F7", "F7-T7", "T7-P7", "P7-O1", "FP1-F3", "F3-C3", "C3-P3", "P3-O1"),
    *("FP2-F4", "F4-C4", "C4-P4", "P4-O2", "FP2-F8", "F8-T8", "T8-P8", "P8-O2"),
    *("FZ-CZ", "CZ-PZ", "P7-T7", "T7-FT9", "FT9-FT10", "FT10-T8", "T8-P8"),
)
"""The 23 derivations of a CHB-MIT file, in order (``T8-P8`` twice, as in the database)."""
CHANNELS = tuple(dict.fromkeys(CHBMIT_CHANNELS))
"""The 22 distinct derivations a simulated subject provides."""
FOCI = ("T7", "T8", "F7", "F8", "P7", "P8", "F3", "F4", "C3", "C4")
SNR_BAND_HZ = (1.0, 30.0)

_N_FOCUS = 4
_N_BACKGROUND_SOURCES = 300
_FLUCTUATION_TAU_S = 300.0
_SUPPRESSION = 0.7
_FOCUS_DEPTH_M = 0.025
_CACHE_BYTES = 1.5e9  # generated files kept in memory (folds read a subject's files again)


@dataclass(frozen=True)
class SeizureOptions:
    """Options of the seizure simulator (keyword options of the registry calls).

    Durations are in seconds; a pair is the range a subject's or a seizure's value is drawn
    from. Defaults are a CHB-MIT-like scale (hours of EEG per subject); tests scale them down.

    Attributes
    ----------
    n_subjects, seizures_per_subject : int
        Subjects, and seizures in each subject's recording.
    seizure_interval_s : tuple of float
        Time from one seizure's onset to the next (the first onset follows one interval).
    seizure_duration_s, preictal_s : tuple of float
        Seizure length; duration of the preictal change (per subject).
    postictal_s : float
        Duration of the postictal suppression.
    file_s : float
        Nominal length of a file (longer when a seizure would straddle two).
    file_gap_s : tuple of float
        Gap between files (rounded to whole seconds, as files last whole seconds).
    sfreq : float
        Sampling rate (at least 64 Hz).
    snr_db : float
        Mean SNR of the preictal change (module docstring).
    preictal_power_gain : float
        Focal power at onset relative to its interictal level, minus one.
    synchrony : tuple of float
        Correlation of the focal generators interictally and at onset.
    fluctuation : float
        Sd of the slow interictal fluctuation of the focal log-power.
    focal_hz : tuple of float
        Range of the focal rhythm's peak frequency.
    ictal_uv : float
        Peak of the discharges at the derivation nearest the focus, microvolts.
    spikes_per_min : float
        Interictal spike rate.
    background_uv, sensor_noise_uv : float
        RMS of the 1/f background and of the white sensor noise, microvolts.
    line_freq : float, optional
        Power-line frequency (None: no line noise).
    line_noise_uv, blinks_per_min, blink_uv : float
        Line-noise amplitude, blink rate and mean blink amplitude at Fp1/Fp2.
    """

    n_subjects: int = 3
    seizures_per_subject: int = 4
    seizure_interval_s: tuple[float, float] = (10800.0, 21600.0)
    seizure_duration_s: tuple[float, float] = (30.0, 90.0)
    preictal_s: tuple[float, float] = (900.0, 2700.0)
    postictal_s: float = 600.0
    file_s: float = 3600.0
    file_gap_s: tuple[float, float] = (1.0, 10.0)
    sfreq: float = 256.0
    snr_db: float = -8.0
    preictal_power_gain: float = 1.0
    synchrony: tuple[float, float] = (0.1, 0.7)
    fluctuation: float = 0.3
    focal_hz: tuple[float, float] = (5.0, 20.0)
    ictal_uv: float = 150.0
    spikes_per_min: float = 0.5
    background_uv: float = 20.0
    sensor_noise_uv: float = 2.0
    line_freq: float | None = 60.0
    line_noise_uv: float = 3.0
    blinks_per_min: float = 10.0
    blink_uv: float = 80.0
    ranges: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pairs = [
            f.name
            for f in fields(self)
            if f.init and isinstance(getattr(self, f.name), list | tuple)
        ]
        for name in pairs:
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
        object.__setattr__(self, "ranges", tuple(pairs))
        self._check()

    @classmethod
    def from_options(cls, options: dict[str, object]) -> SeizureOptions:
        """Return the options from keyword arguments, naming any unknown one."""
        return options_from(cls, options, TASK)

    def _check(self) -> None:
        problems = []
        for name in self.ranges:
            pair = getattr(self, name)
            if len(pair) != 2 or not 0 <= pair[0] <= pair[1]:
                problems.append(f"{name} must be an increasing pair of non-negative values")
        if problems:
            raise SimulatorError(TASK, "; ".join(problems))
        for name in ("n_subjects", "seizures_per_subject"):
            if int(getattr(self, name)) < 1:
                problems.append(f"{name} must be at least 1")
        if self.sfreq < 64:
            problems.append(f"sfreq must be at least 64 Hz, got {self.sfreq}")
        if self.focal_hz[1] >= self.sfreq / 2 - 2:
            problems.append("focal_hz must stay below the Nyquist frequency")
        if self.seizure_interval_s[0] <= self.seizure_duration_s[1] + self.postictal_s:
            problems.append("seizure_interval_s must exceed the longest seizure plus postictal_s")
        if not 0 <= self.synchrony[0] <= self.synchrony[1] <= 1:
            problems.append("synchrony must be an increasing pair within 0..1")
        if self.file_s <= self.seizure_duration_s[1] + 10:
            problems.append("file_s must be longer than a seizure")
        levels = (
            "postictal_s",
            "preictal_power_gain",
            "fluctuation",
            "ictal_uv",
            "spikes_per_min",
            "background_uv",
            "sensor_noise_uv",
            "line_noise_uv",
            "blinks_per_min",
            "blink_uv",
        )
        problems += level_problems(self, levels)
        if problems:
            raise SimulatorError(TASK, "; ".join(problems))


@dataclass(frozen=True)
class SeizureSubjectTruth:
    """The ground truth of one simulated subject.

    Attributes
    ----------
    index : int
        Subject index.
    name : str
        Its CHB-MIT-style name (``chb01``).
    focus : str
        Electrode above the focus.
    recruited : tuple of str
        Electrodes above the regions the seizures spread to (neighbours, then contralateral).
    focal_hz, focal_width_hz : float
        Peak and width of the focal rhythm.
    preictal_s : float
        Duration of the preictal change before each onset.
    power_gain : float
        Focal power at onset over its interictal level, minus one.
    synchrony : tuple of float
        Focal correlation interictally and at onset.
    ictal_hz : tuple of float
        Discharge frequency at seizure onset and at its end.
    snr_db : float
        This subject's SNR.
    seizures : tuple of Seizure
        Onsets and ends on the subject's time axis.
    files : tuple of (float, float)
        Start and duration of each file.
    """

    index: int
    name: str
    focus: str
    recruited: tuple[str, ...]
    focal_hz: float
    focal_width_hz: float
    preictal_s: float
    power_gain: float
    synchrony: tuple[float, float]
    ictal_hz: tuple[float, float]
    snr_db: float
    seizures: tuple[Seizure, ...]
    files: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class _SubjectModel:
    """A subject's generators at the sensors and their levels."""

    truth: SeizureSubjectTruth
    background: Background
    focal_patterns: np.ndarray  # (n_electrodes, _N_FOCUS), volts per ampere-metre
    focal_moment: float  # interictal RMS moment of each focal generator
    ictal_patterns: np.ndarray  # (n_electrodes, n_recruited)
    ictal_moments: np.ndarray  # (n_recruited,) peak moment
    ictal_delays: np.ndarray  # (n_recruited,) seconds after onset
    blink_pattern: np.ndarray  # (n_electrodes,), volts
    blinks_per_min: float
    line_amplitude: np.ndarray  # (n_channels,), volts


@register(TASK, "seizure forecasting: hours of bipolar scalp EEG, preictal focal changes, seizures")
class SeizureSimulator:
    """Simulated long-term EEG with seizures of several subjects (module docstring).

    Parameters
    ----------
    seed : int
        Same seed and options give identical recordings.
    **options
        Fields of :class:`SeizureOptions`.
    """

    classes = CLASSES

    def __init__(self, seed: int = 0, **options: object) -> None:
        self.seed = int(seed)
        self.options = SeizureOptions.from_options(options)
        self.sfreq = float(self.options.sfreq)
        self.ch_names = CHANNELS
        self._models: dict[int, _SubjectModel] = {}
        file_bytes = 4 * len(CHANNELS) * self.options.file_s * self.sfreq
        self._file = lru_cache(maxsize=max(4, int(_CACHE_BYTES // file_bytes)))(self._simulate_file)

    # ------------------------------------------------------------------ what it offers
    def subject(self, index: int) -> SeizureSubjectTruth:
        """Return the ground truth of subject ``index``."""
        return self._model(index).truth

    def seizure_subject(self, index: int) -> SeizureSubject:
        """Return subject ``index`` as recordings on one time axis (files generated on read)."""
        truth = self.subject(index)
        segments = tuple(
            Segment(
                f"{truth.name}_{number + 1:02d}.edf",
                start,
                duration,
                lambda number=number: self._file(index, number),
            )
            for number, (start, duration) in enumerate(truth.files)
        )
        return SeizureSubject(truth.name, self.sfreq, CHANNELS, segments, truth.seizures)

    def corpus(self) -> SeizureCorpus:
        """Return every subject as a seizure corpus."""
        subjects = tuple(self.seizure_subject(i) for i in range(self.options.n_subjects))
        snrs = ", ".join(f"{self.subject(i).snr_db:.1f}" for i in range(len(subjects)))
        return SeizureCorpus(
            name=f"simulated/{TASK}",
            subjects=subjects,
            description=f"Simulated {TASK}, seed {self.seed}; SNR per subject {snrs} dB "
            "(preictal focal change vs background, 1-30 Hz, summed over derivations)",
        )

    def trials(self) -> TrialSet:
        """Return interictal and preictal windows of every subject (default forecast settings)."""
        return corpus_trials(self.corpus(), ForecastSettings(), seed=self.seed)

    def raw(self, duration_s: float = 60.0, subject: int = 0) -> mne.io.RawArray:
        """Return the ``duration_s`` leading to 30 s after the subject's first seizure, for live use.

        The seizure is annotated ``seizure`` (onset and duration); files are joined end to end.
        """
        import mne

        if duration_s <= 0:
            raise SimulatorError(TASK, f"duration_s must be positive, got {duration_s}")
        recording = self.seizure_subject(subject)
        seizure = recording.seizures[0]
        end = min(seizure.end_s + 30.0, recording.end_s)
        start = max(end - duration_s, recording.start_s)
        pieces, onset = [], None
        for segment in recording.segments:
            lo, hi = max(start, segment.start_s), min(end, segment.end_s)
            if hi <= lo:
                continue
            if segment.start_s <= seizure.onset_s < segment.end_s:
                onset = sum(p.shape[1] for p in pieces) / self.sfreq + seizure.onset_s - lo
            first = round((lo - segment.start_s) * self.sfreq)
            pieces.append(segment.read()[:, first : first + round((hi - lo) * self.sfreq)])
        info = mne.create_info(list(CHANNELS), self.sfreq, "eeg")
        info["line_freq"] = self.options.line_freq
        info["description"] = self.corpus().description
        raw = mne.io.RawArray(np.concatenate(pieces, axis=1), info, verbose="error")
        if onset is not None and onset >= 0:
            raw.set_annotations(mne.Annotations([onset], [seizure.duration_s], ["seizure"]))
        return raw

    def write_corpus(self, out: str | Path) -> Path:
        """Write every subject in the CHB-MIT layout (``out/chbNN/``) under ``out``; return it."""
        from decoders.datasets.chbmit import write_chbmit_subject

        for index in range(self.options.n_subjects):
            clock = 8 * 3600.0 + 600.0 * index
            write_chbmit_subject(
                out, self.seizure_subject(index), list(CHBMIT_CHANNELS), clock_start_s=clock
            )
        return Path(out)

    def measured_snr_db(self, subject: int = 0, seconds: float = 600.0) -> float:
        """Return the SNR measured on ``seconds`` of simulated focal and background signals."""
        model = self._model(subject)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(subject, 999)))
        n = round(seconds * self.sfreq)
        derivation = bipolar_matrix()
        before = derivation @ self._focal(model, rng, np.zeros(n), np.ones(n))
        at_onset = derivation @ self._focal(model, rng, np.ones(n), np.ones(n))
        background = derivation @ model.background.simulate(rng, self.sfreq, n)
        change = _band_power(at_onset, self.sfreq) - _band_power(before, self.sfreq)
        return float(10 * np.log10(change / _band_power(background, self.sfreq)))

    # ------------------------------------------------------------------ the signals
    def _simulate_file(self, subject: int, number: int) -> np.ndarray:
        """Return file ``number`` of ``subject``: (n_channels, n_times) volts, float32."""
        model = self._model(subject)
        truth, options, sfreq = model.truth, self.options, self.sfreq
        start, duration = truth.files[number]
        rng = self._rng(subject, 1 + number)
        n = round(duration * sfreq)
        times = start + np.arange(n) / sfreq
        coarse = start + np.arange(math.ceil(duration) + 2, dtype=float)
        ramp = np.interp(times, coarse, self._ramp(truth, coarse))
        wander = _slow_log_normal(rng, coarse.size, options.fluctuation)
        gain = np.interp(times, coarse, wander)
        suppression = np.interp(times, coarse, self._suppression(truth, coarse))
        signals = model.background.simulate(rng, sfreq, n)
        signals += self._focal(model, rng, ramp, gain)
        signals *= suppression
        signals += model.ictal_patterns @ self._discharges(model, times)
        signals += self._spikes(model, rng, n)
        signals += blinks(rng, model.blink_pattern, model.blinks_per_min, sfreq, n)
        bipolar = bipolar_matrix() @ signals
        if options.line_freq is not None:
            bipolar += line_noise(rng, model.line_amplitude, options.line_freq, sfreq, n)
        return bipolar.astype(np.float32)

    def _focal(
        self, model: _SubjectModel, rng: np.random.Generator, ramp: np.ndarray, gain: np.ndarray
    ) -> np.ndarray:
        """Return the focal rhythm at the electrodes for a preictal ramp (0..1) and power gain."""
        truth, n = model.truth, ramp.size
        spectrum = peak_spectrum(frequencies(n, self.sfreq), truth.focal_hz, truth.focal_width_hz)
        own = shaped_noise(rng, spectrum, _N_FOCUS, n)
        common = shaped_noise(rng, spectrum, 1, n)
        low, high = truth.synchrony
        coupling = low + (high - low) * ramp
        power = (1.0 + truth.power_gain * ramp) * gain
        moments = np.sqrt(1.0 - coupling) * own + np.sqrt(coupling) * common
        return model.focal_patterns @ (moments * (model.focal_moment * np.sqrt(power)))

    def _discharges(self, model: _SubjectModel, times: np.ndarray) -> np.ndarray:
        """Return the ictal discharges of each recruited generator (n_recruited, n_times)."""
        truth = model.truth
        out = np.zeros((model.ictal_moments.size, times.size))
        f_start, f_end = truth.ictal_hz
        for seizure in truth.seizures:
            if seizure.end_s <= times[0] or seizure.onset_s > times[-1]:
                continue
            length = seizure.duration_s
            for row, delay in enumerate(model.ictal_delays):
                if delay >= length - 3.0:
                    continue
                inside = (times >= seizure.onset_s + delay) & (times < seizure.end_s)
                since = times[inside] - seizure.onset_s
                lag = since - delay  # the discharge reaches this region ``delay`` late
                phase = 2 * np.pi * (f_start * lag + (f_end - f_start) * lag**2 / (2 * length))
                envelope = np.clip(lag / 2.0, 0, 1) * np.clip((length - since) / 3.0, 0, 1)
                out[row, inside] = model.ictal_moments[row] * envelope * spike_wave(phase)
        return out

    def _spikes(self, model: _SubjectModel, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return interictal spike-and-wave complexes at the focus (n_electrodes, n)."""
        count = rng.poisson(self.options.spikes_per_min * n / self.sfreq / 60.0)
        onsets = rng.integers(0, n, count)
        phase = np.linspace(-np.pi, np.pi, round(0.25 * self.sfreq))
        waveform = spike_wave(phase)
        course = np.zeros(n)
        for onset, size in zip(onsets, rng.uniform(0.3, 0.6, count), strict=True):
            stop = min(onset + waveform.size, n)
            course[onset:stop] += size * waveform[: stop - onset]
        return model.ictal_patterns[:, 0][:, None] * (model.ictal_moments[0] * course)[None]

    def _ramp(self, truth: SeizureSubjectTruth, times: np.ndarray) -> np.ndarray:
        ramp = np.zeros(times.size)
        for seizure in truth.seizures:
            rising = (times >= seizure.onset_s - truth.preictal_s) & (times < seizure.onset_s)
            ramp[rising] = np.maximum(
                ramp[rising], 1.0 - (seizure.onset_s - times[rising]) / truth.preictal_s
            )
        return ramp

    def _suppression(self, truth: SeizureSubjectTruth, times: np.ndarray) -> np.ndarray:
        factor = np.ones(times.size)
        postictal = self.options.postictal_s
        for seizure in truth.seizures:
            after = (times >= seizure.end_s) & (times < seizure.end_s + postictal)
            decay = np.exp(-(times[after] - seizure.end_s) / max(postictal / 3.0, 1e-9))
            factor[after] = np.minimum(factor[after], 1.0 - _SUPPRESSION * decay)
        return factor

    # ------------------------------------------------------------------ subjects
    def _rng(self, subject: int, stream: int) -> np.random.Generator:
        if not 0 <= subject < self.options.n_subjects:
            raise SimulatorError(
                TASK, f"subject must be within 0..{self.options.n_subjects - 1}, got {subject}"
            )
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(subject, stream)))

    def _model(self, index: int) -> _SubjectModel:
        if index not in self._models:
            self._models[index] = _build_subject(index, self._rng(index, 0), self.options)
        return self._models[index]


def bipolar_matrix() -> np.ndarray:
    """Return the derivation matrix (22 derivations x 21 electrodes) of :data:`CHANNELS`."""
    spelling = {name.upper(): name for name in ELECTRODES}
    matrix = np.zeros((len(CHANNELS), len(ELECTRODES)))
    for row, label in enumerate(CHANNELS):
        first, second = label.split("-")
        matrix[row, ELECTRODES.index(spelling[first])] = 1.0
        matrix[row, ELECTRODES.index(spelling[second])] = -1.0
    return matrix


def spike_wave(phase: np.ndarray) -> np.ndarray:
    """Return a spike-and-wave cycle (peak 1, zero mean over a cycle) at ``phase`` (radians)."""
    spike = np.exp(12.0 * (np.cos(phase) - 1.0))
    wave = np.exp(1.5 * (np.cos(phase - 2.2) - 1.0))
    grid = np.linspace(0, 2 * np.pi, 512, endpoint=False)
    mean = np.mean(
        np.exp(12.0 * (np.cos(grid) - 1.0)) - 0.45 * np.exp(1.5 * (np.cos(grid - 2.2) - 1.0))
    )
    return spike - 0.45 * wave - mean


def _schedule(
    rng: np.random.Generator, options: SeizureOptions
) -> tuple[tuple[Seizure, ...], tuple[tuple[float, float], ...]]:
    """Draw seizure times and file boundaries; no seizure straddles two files or a gap."""
    onsets, t = [], 0.0
    for _ in range(options.seizures_per_subject):
        t += rng.uniform(*options.seizure_interval_s)
        onsets.append(t)
    durations = rng.uniform(*options.seizure_duration_s, len(onsets))
    gaps = np.round(rng.uniform(*options.file_gap_s, 10_000))  # clock times are whole seconds
    seizures = [(onset, onset + length) for onset, length in zip(onsets, durations, strict=True)]
    total = seizures[-1][1] + options.postictal_s + 60.0
    files, start, margin = [], 0.0, 5.0
    while start < total:
        end = start + options.file_s
        for onset, stop in seizures:
            if onset - margin < end + gaps[len(files)] and stop + margin > end:
                end = stop + margin
        if total - end < options.file_s / 4:
            end = max(end, total)
        end = float(np.ceil(end))  # EDF records of one second
        files.append((start, end - start))
        start = end + gaps[len(files) - 1]
    named = tuple(Seizure(float(onset), float(stop), "simulated") for onset, stop in seizures)
    return named, tuple((float(start), float(length)) for start, length in files)


def _build_subject(index: int, rng: np.random.Generator, options: SeizureOptions) -> _SubjectModel:
    """Draw a subject's anatomy, physiology and schedule and place them on the montage."""
    model = head_model()
    positions = electrode_positions()
    # Every draw happens whatever the options, in this order, so a subject stays the same.
    focus = FOCI[rng.integers(len(FOCI))]
    focus_jitter = rng.normal(0.0, 0.008, (_N_FOCUS, 3))
    orientation_jitter = rng.normal(0.0, 0.3, (_N_FOCUS + 5, 3))
    focal_hz = rng.uniform(*options.focal_hz)
    focal_width = rng.uniform(1.0, 3.0)
    preictal = rng.uniform(*options.preictal_s)
    gain = options.preictal_power_gain * rng.uniform(0.7, 1.3)
    ictal_hz = (rng.uniform(5.0, 8.0), rng.uniform(2.5, 3.5))
    snr_db = options.snr_db + rng.normal(0.0, 1.5)
    background_uv = options.background_uv * rng.uniform(0.75, 1.25)
    exponent = rng.uniform(0.9, 1.5)
    alpha_hz, alpha_share = rng.uniform(8.5, 11.5), rng.uniform(0.2, 0.8)
    noise_uv = options.sensor_noise_uv * rng.uniform(0.6, 1.4, len(ELECTRODES))
    blink_rate = options.blinks_per_min * rng.uniform(0.5, 1.5)
    line_gain = rng.uniform(0.5, 1.5, len(CHANNELS))
    near_delays, far_delays = rng.uniform(2.0, 6.0, 3), rng.uniform(6.0, 15.0, 2)
    background_dipoles = random_dipoles(rng, model, _N_BACKGROUND_SOURCES)
    seizures, files = _schedule(rng, options)

    recruited = _recruited(focus, positions)
    centres = [model.depth_below(name, _FOCUS_DEPTH_M) for name in (focus, *recruited)]
    points = np.vstack([centres[0] + focus_jitter, np.array(centres[1:])])
    grid_index = model.nearest(points)
    orientation = _radial(model, grid_index) + orientation_jitter
    orientation /= np.linalg.norm(orientation, axis=1, keepdims=True)
    alpha_index = model.nearest(np.array([model.depth_below(n, 0.025) for n in ("O1", "O2")]))
    field_ = lead_field(ELECTRODES)
    patterns = field_.pattern(
        np.r_[grid_index, alpha_index], np.vstack([orientation, _radial(model, alpha_index)])
    )
    n_sources = grid_index.size
    background = Background.build(
        field_,
        background_dipoles,
        background_uv,
        exponent,
        (patterns[:, n_sources:], alpha_hz, alpha_share),
        noise_uv,
        options.sfreq,
    )
    derivation = bipolar_matrix()
    focal_patterns = patterns[:, :_N_FOCUS]
    low, high = options.synchrony
    bipolar = derivation @ focal_patterns

    def spread(coupling: float) -> float:
        return (1 - coupling) * np.sum(bipolar**2) + coupling * np.sum(bipolar.sum(axis=1) ** 2)

    freqs = fine_frequencies(options.sfreq)
    share = band_fraction(peak_spectrum(freqs, focal_hz, focal_width), freqs, SNR_BAND_HZ)
    change = ((1 + gain) * spread(high) - spread(low)) * share
    target = 10 ** (snr_db / 10) * background.band_power(options.sfreq, SNR_BAND_HZ, derivation)
    ictal_patterns = np.column_stack([focal_patterns.mean(axis=1), patterns[:, _N_FOCUS:n_sources]])
    peak = np.max(np.abs(derivation @ ictal_patterns[:, 0]))
    ictal_moment = options.ictal_uv * 1e-6 / peak
    truth = SeizureSubjectTruth(
        index=index,
        name=f"chb{index + 1:02d}",
        focus=focus,
        recruited=recruited,
        focal_hz=float(focal_hz),
        focal_width_hz=float(focal_width),
        preictal_s=float(preictal),
        power_gain=float(gain),
        synchrony=(float(low), float(high)),
        ictal_hz=(float(ictal_hz[0]), float(ictal_hz[1])),
        snr_db=float(snr_db),
        seizures=seizures,
        files=files,
    )
    return _SubjectModel(
        truth=truth,
        background=background,
        focal_patterns=focal_patterns,
        focal_moment=float(np.sqrt(target / change)) if change > 0 else 0.0,
        ictal_patterns=ictal_patterns,
        ictal_moments=ictal_moment * np.r_[1.0, 0.6, 0.6, 0.6, 0.4, 0.4],
        ictal_delays=np.r_[rng.uniform(0.0, 1.0), near_delays, far_delays],
        blink_pattern=blink_pattern(ELECTRODES) * options.blink_uv * 1e-6,
        blinks_per_min=float(blink_rate),
        line_amplitude=line_gain * options.line_noise_uv * 1e-6,
    )


def _recruited(focus: str, positions: dict[str, np.ndarray]) -> tuple[str, ...]:
    """Return the three electrodes nearest the focus, then the contralateral homologue and its nearest."""
    candidates = [name for name in ELECTRODES if name not in (focus, "FT9", "FT10")]
    distance = {name: np.linalg.norm(positions[name] - positions[focus]) for name in candidates}
    near = sorted(candidates, key=distance.get)[:3]
    mirror = positions[focus] * np.array([-1.0, 1.0, 1.0])
    far = sorted(
        (name for name in candidates if name not in near),
        key=lambda name: np.linalg.norm(positions[name] - mirror),
    )[:2]
    return (*near, *far)


def _radial(model: HeadModel, index: np.ndarray) -> np.ndarray:
    radial = model.grid[index] - model.center
    return radial / np.linalg.norm(radial, axis=1, keepdims=True)


def _slow_log_normal(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    """Return a unit-mean log-normal series at 1 Hz whose log is an AR(1) of time scale 5 min."""
    keep = np.exp(-1.0 / _FLUCTUATION_TAU_S)
    log = np.empty(n)
    log[0] = rng.normal(0.0, sd)
    steps = rng.normal(0.0, sd * np.sqrt(1 - keep**2), n)
    for i in range(1, n):
        log[i] = keep * log[i - 1] + steps[i]
    return np.exp(log - sd**2 / 2)


def _band_power(signals: np.ndarray, sfreq: float) -> float:
    return band_power(signals, sfreq, SNR_BAND_HZ)
