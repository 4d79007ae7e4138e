"""Simulated artefacts with known onsets: blinks, muscle bursts, electrode pops, drifts.

The ground truth for measuring artefact flags (``bench/quality.py``). Under the artefacts lies
the motor-imagery simulator's EEG (1/f background, alpha, mu/beta rhythms; no blinks of its
own) on a 10-20 montage, low-passed at 45 Hz (scalp EEG above that is weak; the simulator's
1/f spectrum runs to Nyquist), plus its line noise and 1 µV RMS white amplifier noise. On
top, at random times (Poisson, a rate per minute each) and never overlapping one another:

- eye blinks: the frontal blink field of :mod:`~decoders.simulators.artifacts` (``blink_uv``
  at Fpz, ±30 %), also on a vertical EOG channel (``EOG``, 2.5 x Fpz), 0.6 s;
- muscle bursts: broadband noise above 20 Hz, ``muscle_uv`` RMS under a smooth envelope, on
  the temporal channels of one side (all channels within 4 cm of T7 or T8, else the nearest
  one), 0.5-2 s;
- electrode pops: a step of 300-800 µV on one channel decaying with a 0.3-1 s time constant;
- drifts: one channel drifting at 60-150 µV/s for 3-6 s, then recovering as slowly (the
  event lasts both).

The stated SNR is the artefacts' own scale against the background: ``describe()`` gives the
RMS of each. Events come back as :class:`ArtifactEvent` and as annotations ``BAD_<kind>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.signal import butter, sosfiltfilt

from .artifacts import blink_course, blink_pattern
from .errors import SimulatorError
from .montages import dig_montage, electrode_positions, select_channels
from .options import options_from
from .registry import make_simulator, register

if TYPE_CHECKING:
    import mne

    from decoders.datasets.trials import TrialSet

TASK = "artifacts"
KINDS = ("blink", "muscle", "pop", "drift")
EOG_GAIN = 2.5  # vertical EOG blink amplitude relative to Fpz
_EEG_LOWPASS_HZ = 45.0
_AMPLIFIER_NOISE_V = 1e-6
_MUSCLE_RADIUS_M = 0.04
_BLINK_S = 0.6  # the blink waveform rises in 0.1 s and is back to zero at 0.6 s


@dataclass(frozen=True)
class ArtifactEvent:
    """One simulated artefact: its kind, onset and duration (s) and the channels it touches."""

    kind: str
    onset: float
    duration: float
    channels: tuple[str, ...]


@dataclass(frozen=True)
class ArtifactOptions:
    """Options of the artefact simulator.

    Parameters
    ----------
    channels : int | tuple of str
        Montage (a count of :func:`~decoders.simulators.montages.select_channels` or names).
    sfreq : float
        Sampling rate in Hz (at least 250, so that muscle reaches above 100 Hz).
    per_min : float
        Mean rate of each artefact kind, per minute.
    blink_uv, muscle_uv : float
        Mean blink amplitude at Fpz (µV); RMS of a muscle burst at its peak (µV).
    line_freq : float, optional
        Power-line frequency of the underlying EEG.
    """

    channels: int | tuple[str, ...] = 32
    sfreq: float = 500.0
    per_min: float = 6.0
    blink_uv: float = 150.0
    muscle_uv: float = 30.0
    line_freq: float | None = 50.0

    def __post_init__(self) -> None:
        problems = []
        if self.sfreq < 250:
            problems.append(f"sfreq must be at least 250 Hz, got {self.sfreq}")
        for name in ("per_min", "blink_uv", "muscle_uv"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive")
        if problems:
            raise SimulatorError(TASK, "; ".join(problems))


@register(TASK, "blinks, muscle bursts, electrode pops and drifts at known times, over EEG")
class ArtifactSimulator:
    """Continuous EEG with artefacts of known kind, time and channels.

    Parameters
    ----------
    seed : int
        Same seed and options give the same recording.
    **options
        :class:`ArtifactOptions`.
    """

    classes = ("clean", *KINDS)

    def __init__(self, seed: int = 0, **options: object) -> None:
        self.seed = seed
        self.options = options_from(ArtifactOptions, options, TASK)
        self.ch_names = select_channels(self.options.channels)

    def recording(
        self, duration_s: float = 60.0, subject: int = 0
    ) -> tuple[np.ndarray, list[ArtifactEvent]]:
        """Return the EEG with artefacts (n_channels + EOG, n_times) in volts, and the events."""
        if duration_s <= 0:
            raise SimulatorError(TASK, f"duration_s must be positive, got {duration_s}")
        options = self.options
        eeg = make_simulator(
            "motor_imagery",
            seed=self.seed,
            channels=self.ch_names,
            sfreq=options.sfreq,
            blinks_per_min=0.0,
            line_freq=options.line_freq,
        ).live_recording(duration_s, subject)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(subject, 7)))
        brain = sosfiltfilt(
            butter(4, _EEG_LOWPASS_HZ, fs=options.sfreq, output="sos"),
            eeg.task_signal + eeg.background,
            axis=1,
        )
        n_times = brain.shape[1]
        artifacts = np.zeros((len(self.ch_names) + 1, n_times))
        events = []
        for kind, onset, duration in _schedule(rng, options.per_min, duration_s):
            start = round(onset * options.sfreq)
            added, channels = _ARTIFACTS[kind](self, rng, start, duration, n_times)
            artifacts += added
            events.append(ArtifactEvent(kind, onset, duration, channels))
        amplifier = rng.normal(0.0, _AMPLIFIER_NOISE_V, (len(self.ch_names) + 1, n_times))
        eog = rng.normal(0.0, 5e-6, (1, n_times))  # the eye's own slow activity, roughly
        signals = np.vstack([brain + eeg.artifacts, eog]) + amplifier + artifacts
        return signals, events

    def raw(self, duration_s: float = 60.0, subject: int = 0) -> mne.io.RawArray:
        """Return the recording with EEG positions, an EOG channel and ``BAD_<kind>`` events."""
        import mne

        signals, events = self.recording(duration_s, subject)
        names = [*self.ch_names, "EOG"]
        info = mne.create_info(names, self.options.sfreq, ["eeg"] * len(self.ch_names) + ["eog"])
        info.set_montage(dig_montage(self.ch_names))
        info["line_freq"] = self.options.line_freq
        info["description"] = self.describe()
        raw = mne.io.RawArray(signals, info, verbose="error")
        raw.set_annotations(
            mne.Annotations(
                [e.onset for e in events],
                [e.duration for e in events],
                [f"BAD_{e.kind}" for e in events],
            )
        )
        return raw

    def trials(self) -> TrialSet:
        """Return 1 s windows of a 5-minute recording labelled by the artefact starting in them.

        Windows in which no artefact lies are ``clean``; windows touched by an artefact that
        started earlier are left out.
        """
        from decoders.datasets.trials import TrialSet

        signals, events = self.recording(300.0)
        sfreq = self.options.sfreq
        n_window = round(sfreq)
        count = signals.shape[1] // n_window
        labels = np.zeros(count, dtype=int)
        touched = np.zeros(count, dtype=bool)
        for event in events:
            first = int(event.onset)
            last = min(count - 1, int(event.onset + event.duration))
            touched[first : last + 1] = True
            labels[first] = self.classes.index(event.kind)
        keep = (labels > 0) | ~touched
        windows = signals[: len(self.ch_names), : count * n_window]
        windows = windows.reshape(len(self.ch_names), count, n_window).swapaxes(0, 1)
        return TrialSet(
            data=windows[keep],
            labels=labels[keep],
            classes=self.classes,
            sfreq=sfreq,
            ch_names=self.ch_names,
            ch_types=("eeg",) * len(self.ch_names),
            name=f"simulated/{TASK}",
        )

    def describe(self) -> str:
        """Return what is simulated, with the seed and the artefacts' scale."""
        options = self.options
        return (
            f"Simulated {TASK}, seed {self.seed}: {', '.join(KINDS)} at {options.per_min:g} per "
            f"minute each; blinks {options.blink_uv:g} µV at Fpz, muscle {options.muscle_uv:g} µV "
            "RMS, pops 300-800 µV, drifts 60-150 µV/s, over EEG of about 20 µV RMS below 45 Hz"
        )

    # ----------------------------------------------------------------- one artefact each
    def _blink(self, rng, start, duration, n_times):
        size = self.options.blink_uv * 1e-6 * rng.uniform(0.7, 1.3)
        course = blink_course(np.array([start]), np.array([size]), self.options.sfreq, n_times)
        pattern = np.append(blink_pattern(self.ch_names), EOG_GAIN)
        touched = tuple(n for n, share in zip(self.ch_names, pattern, strict=False) if share > 0.3)
        return pattern[:, None] * course, (*touched, "EOG")

    def _muscle(self, rng, start, duration, n_times):
        from scipy.signal import sosfilt

        positions = electrode_positions()
        side = positions["T7" if rng.random() < 0.5 else "T8"]
        distance = np.array([np.linalg.norm(positions[name] - side) for name in self.ch_names])
        # the channels over the muscle, or the nearest one on montages without temporal sites
        touched = list(np.flatnonzero(distance < _MUSCLE_RADIUS_M)) or [int(distance.argmin())]
        length = round(duration * self.options.sfreq)
        sos = butter(4, 20.0, "highpass", fs=self.options.sfreq, output="sos")
        burst = sosfilt(sos, rng.normal(size=(len(touched), length)), axis=1)
        burst *= self.options.muscle_uv * 1e-6 / burst.std() * np.hanning(length)
        added = np.zeros((len(self.ch_names) + 1, n_times))
        stop = min(n_times, start + length)
        added[touched, start:stop] = burst[:, : stop - start]
        return added, tuple(self.ch_names[i] for i in touched)

    def _pop(self, rng, start, duration, n_times):
        channel = int(rng.integers(len(self.ch_names)))
        step = rng.uniform(300e-6, 800e-6) * rng.choice([-1.0, 1.0])
        tau = rng.uniform(0.3, 1.0) * self.options.sfreq
        added = np.zeros((len(self.ch_names) + 1, n_times))
        added[channel, start:] = step * np.exp(-np.arange(n_times - start) / tau)
        return added, (self.ch_names[channel],)

    def _drift(self, rng, start, duration, n_times):
        channel = int(rng.integers(len(self.ch_names)))
        rate = rng.uniform(60e-6, 150e-6) * rng.choice([-1.0, 1.0])  # volts per second
        rise = round(duration / 2 * self.options.sfreq)
        ramp = np.concatenate([np.arange(rise), rise - np.arange(rise)]) / self.options.sfreq
        added = np.zeros((len(self.ch_names) + 1, n_times))
        stop = min(n_times, start + ramp.size)
        added[channel, start:stop] = rate * ramp[: stop - start]
        return added, (self.ch_names[channel],)


_ARTIFACTS = {
    "blink": ArtifactSimulator._blink,
    "muscle": ArtifactSimulator._muscle,
    "pop": ArtifactSimulator._pop,
    "drift": ArtifactSimulator._drift,
}
_DURATION_S = {"blink": (_BLINK_S, _BLINK_S), "muscle": (0.5, 2.0), "pop": (1.0, 1.0)}
_DURATION_S["drift"] = (6.0, 12.0)  # drifting away, then back


def _schedule(rng: np.random.Generator, per_min: float, duration_s: float) -> list:
    """Return (kind, onset, duration) of non-overlapping artefacts, 1 s apart at least."""
    events, busy_until = [], 1.0
    mean_gap = 60.0 / (per_min * len(KINDS))
    while True:
        onset = busy_until + rng.exponential(mean_gap)
        kind = KINDS[int(rng.integers(len(KINDS)))]
        low, high = _DURATION_S[kind]
        duration = float(rng.uniform(low, high))
        if onset + duration + 1.0 > duration_s:
            return events
        events.append((kind, float(onset), duration))
        busy_until = onset + duration + 1.0
