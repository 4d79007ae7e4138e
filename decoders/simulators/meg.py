"""Simulated MEG on a real VectorView: auditory and visual evoked fields over resting activity.

Model
-----
Sensors are the 306 MEG sensors (102 magnetometers, 204 planar gradiometers) of the real
recording ``bci-app data fetch`` brings (MNE's ``test_raw.fif``), with its coil definitions and
head position; a three-shell sphere is fitted to its digitised head shape, and lead fields are
computed by :func:`mne.make_forward_solution` for each subject's dipoles at each session's head
position. The classes are the real recording's paradigm: auditory and visual stimuli on the
left or right. Each subject has four generators, the left and right auditory cortex (about 3 cm
below T7 and T8) and the left and right visual cortex (2.5 cm below O1 and O2), oriented
tangentially (the part of a current a sphere model lets MEG see) with a per-subject jitter. An
auditory stimulus evokes an M50/M100/M200 complex in both auditory cortices, the
contralateral one stronger (x1 against x0.6); a visual stimulus an M90/M140/M220 complex mostly
in the contralateral visual cortex (x1 against x0.2). Latencies shift per subject (sd 12 ms) and
per trial (sd 8 ms), amplitudes per trial (x N(1, 0.25)).

The background is 300 random cortical dipoles with a 1/f^a spectrum (drawn at the sensors from
their exact covariance), two posterior alpha generators (below PO7 and PO8, waxing and waning)
and white sensor noise, plus 50 Hz line noise. Levels are in fT for magnetometers and fT/cm
for gradiometers (comparable numbers for the two sensor types).

Subjects differ in generator positions (sd 6 mm) and orientations, latencies, SNR (sd 1.5 dB),
background level, spectrum and alpha frequency, and sensor noise. Sessions of a subject differ
in head position (rotations of sd 1.5 degrees about each axis, shifts of sd 3 mm), sensor noise
and background level (x 0.8-1.2): the changes that make decoding across sessions harder.

SNR
---
``snr_db`` = 10 log10 of the evoked fields' power over the background's (brain activity and
sensor noise), each channel against its own background, averaged over channels; powers in 1-40
Hz, the evoked power over the first 0.5 s after the stimulus averaged over classes, at the
subject's first session. Each subject's SNR is ``snr_db`` plus a subject offset; the evoked
moments are scaled to reach it (:meth:`MegRecording.snr_db` measures it on a recording).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .background import Background, random_dipoles
from .errors import SimulatorError
from .forward import GRID_SPACING_M, HeadModel, LeadField, place_dipoles
from .options import options_from
from .registry import register
from .signals import band_power

if TYPE_CHECKING:
    import mne

    from decoders.datasets.trials import TrialSet

TASK = "meg"
CLASSES = ("auditory_left", "auditory_right", "visual_left", "visual_right")
CHANNEL_SETS = ("meg", "mag", "grad")
SNR_BAND_HZ = (1.0, 40.0)
EVOKED_S = 0.5

# Generators: electrode above, depth below the scalp (m), radial and anterior weights.
_GENERATORS = {
    "auditory_lh": ("T7", 0.030, 0.0, 1.0),
    "auditory_rh": ("T8", 0.030, 0.0, 1.0),
    "visual_lh": ("O1", 0.025, 0.0, 1.0),
    "visual_rh": ("O2", 0.025, 0.0, 1.0),
}
_ALPHA = {"alpha_lh": ("PO7", 0.030, 0.0, 1.0), "alpha_rh": ("PO8", 0.030, 0.0, 1.0)}
_GAINS = {
    "auditory_left": {"auditory_rh": 1.0, "auditory_lh": 0.6},
    "auditory_right": {"auditory_lh": 1.0, "auditory_rh": 0.6},
    "visual_left": {"visual_rh": 1.0, "visual_lh": 0.2},
    "visual_right": {"visual_lh": 1.0, "visual_rh": 0.2},
}
# Evoked components of each modality: latency (s), width (sd, s), relative amplitude.
_WAVES = {
    "auditory": ((0.05, 0.012, 0.4), (0.10, 0.020, -1.0), (0.18, 0.030, 0.6)),
    "visual": ((0.09, 0.015, -0.5), (0.14, 0.025, 1.0), (0.22, 0.040, -0.4)),
}
_N_BACKGROUND = 300
_UNITS = {"mag": 1e-15, "grad": 1e-13}  # SI per fT and per fT/cm
_LIVE_SESSION = 1_000


@dataclass(frozen=True)
class MegOptions:
    """Options of the MEG simulator (all keyword options of the registry calls).

    Attributes
    ----------
    classes : tuple of str
        Stimuli, any of ``auditory_left``, ``auditory_right``, ``visual_left``,
        ``visual_right``.
    channels : str
        ``meg`` (all 306 sensors), ``mag`` (102 magnetometers) or ``grad`` (204 gradiometers).
    sfreq : float
        Sampling rate in Hz (at least 100).
    n_subjects, n_sessions, trials_per_class : int
        Trial-set size: sessions per subject, trials of each class per session.
    tmin, tmax : float
        Trial window of the trial set, in seconds from the stimulus.
    snr_db : float
        Mean SNR over subjects (see the module docstring).
    background_ft : float
        RMS over channels of the 1/f brain background, fT (magnetometers) or fT/cm.
    sensor_noise_ft : float
        RMS of the white sensor noise, fT or fT/cm.
    line_freq : float, optional
        Power-line frequency in Hz; ``None`` for no line noise.
    line_noise_ft : float
        Line-noise amplitude, fT or fT/cm.
    isi_s : tuple of float
        Range of the random time between two stimuli.
    rest_s : float
        Length of each resting recording that :meth:`MegSimulator.write_corpus` writes.
    """

    classes: tuple[str, ...] = CLASSES
    channels: str = "meg"
    sfreq: float = 200.0
    n_subjects: int = 4
    n_sessions: int = 2
    trials_per_class: int = 20
    tmin: float = -0.1
    tmax: float = 0.5
    snr_db: float = -5.0
    background_ft: float = 150.0
    sensor_noise_ft: float = 5.0
    line_freq: float | None = 50.0
    line_noise_ft: float = 5.0
    isi_s: tuple[float, float] = (0.9, 1.3)
    rest_s: float = 60.0
    ch_names: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "isi_s", tuple(self.isi_s))
        self._check()
        object.__setattr__(self, "ch_names", tuple(sensor_info(self.channels).ch_names))

    @classmethod
    def from_options(cls, options: dict[str, object]) -> MegOptions:
        """Return the options from keyword arguments, naming any unknown one."""
        return options_from(cls, options, TASK)

    def _check(self) -> None:
        problems = []
        unknown = [name for name in self.classes if name not in CLASSES]
        if unknown or len(set(self.classes)) != len(self.classes) or len(self.classes) < 2:
            problems.append(f"classes must be 2 or more distinct names of {CLASSES}")
        if self.channels not in CHANNEL_SETS:
            problems.append(f"channels must be one of {', '.join(CHANNEL_SETS)}")
        if self.sfreq < 100:
            problems.append(
                f"sfreq must be at least 100 Hz (responses reach 40 Hz), got {self.sfreq}"
            )
        for name in ("n_subjects", "n_sessions", "trials_per_class"):
            if int(getattr(self, name)) < 1:
                problems.append(f"{name} must be at least 1")
        if not -0.5 <= self.tmin < self.tmax <= self.isi_s[0]:
            problems.append(
                f"the trial window {self.tmin}..{self.tmax} s must lie within -0.5..{self.isi_s[0]} "
                "s of the stimulus (before the next one)"
            )
        if not EVOKED_S < self.isi_s[0] <= self.isi_s[1]:
            problems.append(f"isi_s must be an increasing range above {EVOKED_S} s")
        levels = ("background_ft", "sensor_noise_ft", "line_noise_ft", "rest_s")
        problems += [f"{name} must not be negative" for name in levels if getattr(self, name) < 0]
        if self.background_ft <= 0 and self.sensor_noise_ft <= 0:
            problems.append("background_ft or sensor_noise_ft must be positive")
        if problems:
            raise SimulatorError(TASK, "; ".join(problems))


@lru_cache(maxsize=3)
def sensor_info(channels: str = "meg") -> mne.Info:
    """Return the measurement info of the real recording's MEG sensors (no projectors).

    Raises
    ------
    DataError
        When the real recording cannot be fetched (it is fetched on first use).
    """
    import mne

    from decoders.datasets.archives import MEG_EEG
    from decoders.datasets.fetch import fetch

    folder = fetch(MEG_EEG, log=lambda message: None)
    info = mne.io.read_info(folder / "test_raw.fif", verbose="error")
    picks = mne.pick_types(info, meg=True if channels == "meg" else channels, eeg=False, exclude=())
    info = mne.pick_info(info, picks)
    with info._unlock():
        info["projs"], info["bads"] = [], []
    return info


@lru_cache(maxsize=1)
def head_model() -> HeadModel:
    """Return the sphere fitted to the real recording's head shape and a 7 mm source grid."""
    import mne

    sphere = mne.make_sphere_model("auto", "auto", sensor_info("meg"), verbose="error")
    center = np.asarray(sphere["r0"], dtype=float)
    radii = [layer["rad"] for layer in sphere["layers"]]
    brain, scalp = float(radii[0]), float(radii[-1])
    axis = np.arange(-scalp, scalp + 1e-9, GRID_SPACING_M)
    offsets = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    radius = np.linalg.norm(offsets, axis=1)
    keep = (radius > 0.030) & (radius < brain - 0.007) & (offsets[:, 2] > -0.045)
    return HeadModel(sphere, center, scalp, brain, center + offsets[keep])


def unit_scale(info: mne.Info) -> np.ndarray:
    """Return SI units per fT (magnetometers) or per fT/cm (gradiometers), per channel."""
    return np.array([_UNITS[kind] for kind in info.get_channel_types()])


def lead_field(info: mne.Info, positions: np.ndarray) -> LeadField:
    """Return the free-orientation lead field of dipoles at ``positions`` (n, 3), in fT(/cm)."""
    import mne

    source_space = mne.setup_volume_source_space(
        pos={"rr": positions, "nn": np.tile([0.0, 0.0, 1.0], (len(positions), 1))},
        verbose="error",
    )
    forward = mne.make_forward_solution(
        info, trans=None, src=source_space, bem=head_model().sphere, eeg=False, verbose="error"
    )
    gain = forward["sol"]["data"].reshape(len(info.ch_names), len(positions), 3)
    locations = np.array([ch["loc"][:3] for ch in info["chs"]])
    return LeadField(tuple(info.ch_names), locations, gain / unit_scale(info)[:, None, None])


@dataclass(frozen=True)
class MegSubject:
    """The ground truth of one simulated subject.

    Attributes
    ----------
    index : int
        Subject index (``groups`` in the trial set).
    generators : tuple of str
        ``auditory_lh``, ``auditory_rh``, ``visual_lh``, ``visual_rh``.
    positions, orientations : ndarray, shape (4, 3)
        Generator positions (m, head frame) and unit orientations.
    latency_shift_s : float
        The subject's shift of every evoked latency.
    snr_db : float
        This subject's SNR (see the module docstring).
    background_ft : float
        RMS of the 1/f background.
    background_exponent, alpha_hz : float
        Exponent of the background's spectrum; alpha peak frequency.
    """

    index: int
    generators: tuple[str, ...]
    positions: np.ndarray
    orientations: np.ndarray
    latency_shift_s: float
    snr_db: float
    background_ft: float
    background_exponent: float
    alpha_hz: float


@dataclass(frozen=True)
class MegRecording:
    """One simulated recording: evoked fields, background and line noise, in tesla (T/m).

    Attributes
    ----------
    evoked, background, artifacts : ndarray, shape (n_channels, n_times)
        The components; the recording is their sum.
    onsets : ndarray of float
        Stimulus onsets in seconds.
    labels : ndarray of int
        Class of each stimulus.
    classes : tuple of str
        Class names.
    info : mne.Info
        Sensors, head position and sampling rate.
    description : str
        What was simulated.
    """

    evoked: np.ndarray
    background: np.ndarray
    artifacts: np.ndarray
    onsets: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    info: mne.Info
    description: str

    @property
    def signals(self) -> np.ndarray:
        """Return the recorded signals (n_channels, n_times)."""
        return self.evoked + self.background + self.artifacts

    @property
    def sfreq(self) -> float:
        """Return the sampling rate."""
        return float(self.info["sfreq"])

    def epochs(self, tmin: float, tmax: float, signals: np.ndarray | None = None) -> np.ndarray:
        """Return the trials (n_trials, n_channels, n_times) from ``tmin`` to ``tmax`` s."""
        signals = self.signals if signals is None else signals
        start, length = round(tmin * self.sfreq), round((tmax - tmin) * self.sfreq)
        samples = np.round(self.onsets * self.sfreq).astype(int) + start
        return np.stack([signals[:, s : s + length] for s in samples])

    def snr_db(self) -> float:
        """Return the measured SNR (module docstring) over this recording's trials."""
        evoked = self.epochs(0.0, EVOKED_S, self.evoked)
        background = self.epochs(0.0, EVOKED_S, self.background)
        ratio = _channel_power(evoked, self.sfreq) / _channel_power(background, self.sfreq)
        return float(10 * np.log10(np.mean(ratio)))

    def to_raw(self) -> mne.io.RawArray:
        """Return the recording with its sensors and the stimuli as annotations."""
        import mne

        info = self.info.copy()
        with info._unlock():
            info["description"] = self.description
            info["line_freq"] = 50.0
        raw = mne.io.RawArray(self.signals, info, verbose="error")
        names = [self.classes[label] for label in self.labels]
        raw.set_annotations(mne.Annotations(self.onsets, [EVOKED_S] * len(names), names))
        return raw


def _channel_power(windows: np.ndarray, sfreq: float) -> np.ndarray:
    """Return each channel's 1-40 Hz power, averaged over windows (n, channels, times)."""
    return np.array(
        [band_power(windows[:, row], sfreq, SNR_BAND_HZ) for row in range(windows.shape[1])]
    ) / len(windows)


@dataclass(frozen=True)
class _Session:
    """A subject at one head position: sensor patterns and levels ready to simulate."""

    info: mne.Info
    generator_patterns: np.ndarray  # (n_channels, 4), fT(/cm) per unit moment
    background: Background
    line_amplitude: np.ndarray  # (n_channels,), fT(/cm)


@register(TASK, "MEG on a real VectorView: auditory/visual evoked fields, subjects and sessions")
class MegSimulator:
    """Simulated MEG of several subjects and sessions (see the module docstring).

    Parameters
    ----------
    seed : int
        Same seed and options give identical output. A subject depends only on the seed and
        its index; a session on the seed, the subject and the session index.
    **options
        Fields of :class:`MegOptions`.
    """

    def __init__(self, seed: int = 0, **options: object) -> None:
        self.seed = int(seed)
        self.options = MegOptions.from_options(options)
        self.classes = self.options.classes
        self.sfreq = float(self.options.sfreq)
        self._subjects: dict[int, tuple[MegSubject, dict]] = {}
        self._sessions: dict[tuple[int, int], _Session] = {}
        self._scales: dict[int, float] = {}

    def subject(self, index: int) -> MegSubject:
        """Return the ground truth of subject ``index``."""
        return self._subject(index)[0]

    def recording(self, subject: int = 0, session: int = 0) -> MegRecording:
        """Return the stimulus run of ``subject`` in ``session`` used in the trial set."""
        rng = self._rng(subject, 2, session)
        per_class = np.repeat(np.arange(len(self.classes)), self.options.trials_per_class)
        return self._simulate(subject, session, rng, rng.permutation(per_class), None)

    def rest(self, subject: int = 0, session: int = 0, duration_s: float | None = None):
        """Return a resting recording (no stimuli) of ``subject`` in ``session``."""
        duration = self.options.rest_s if duration_s is None else duration_s
        rng = self._rng(subject, 3, session)
        return self._simulate(subject, session, rng, np.zeros(0, int), duration)

    def trials(self) -> TrialSet:
        """Return every subject's and session's trials (``groups``: subject, ``blocks``: session)."""
        from decoders.datasets.trials import TrialSet

        data, labels, groups, blocks = [], [], [], []
        for subject in range(self.options.n_subjects):
            for session in range(self.options.n_sessions):
                recording = self.recording(subject, session)
                data.append(recording.epochs(self.options.tmin, self.options.tmax))
                labels.append(recording.labels)
                groups.append(np.full(len(recording.labels), subject))
                blocks.append(np.full(len(recording.labels), session))
        info = sensor_info(self.options.channels)
        return TrialSet(
            data=np.concatenate(data),
            labels=np.concatenate(labels),
            classes=self.classes,
            sfreq=self.sfreq,
            ch_names=tuple(info.ch_names),
            ch_types=tuple(info.get_channel_types()),
            name=f"simulated/{TASK}",
            groups=np.concatenate(groups),
            blocks=np.concatenate(blocks),
            ch_pos={ch["ch_name"]: np.array(ch["loc"][:3]) for ch in info["chs"]},
        )

    def raw(self, duration_s: float = 60.0, subject: int = 0) -> mne.io.RawArray:
        """Return a continuous stimulus run for live use (a session of its own)."""
        if duration_s <= 2.0:
            raise SimulatorError(TASK, f"duration_s must exceed 2 s, got {duration_s}")
        rng = self._rng(subject, 2, _LIVE_SESSION)
        count = int((duration_s - 2.0) / self.options.isi_s[1])
        labels = rng.integers(0, len(self.classes), count)
        return self._simulate(subject, _LIVE_SESSION, rng, labels, duration_s).to_raw()

    def write_corpus(self, root: str | Path) -> Path:
        """Write every subject's sessions as FIF files (a rest and a stimulus run each).

        Layout: ``ROOT/sub-NN/ses-NN/sub-NN_ses-NN_task-{rest,av}_meg.fif`` and
        ``ROOT/truth.json`` (options, seed, each subject's SNR and generators).
        """
        root = Path(root)
        if root.exists() and any(root.iterdir()):
            raise SimulatorError(str(root), "exists and is not empty: give a new folder")
        truth = {"task": TASK, "seed": self.seed, "options": _plain(self.options), "subjects": []}
        for subject in range(self.options.n_subjects):
            for session in range(self.options.n_sessions):
                folder = root / f"sub-{subject + 1:02d}" / f"ses-{session + 1:02d}"
                folder.mkdir(parents=True, exist_ok=True)
                stem = f"sub-{subject + 1:02d}_ses-{session + 1:02d}_task"
                for name, recording in (
                    ("rest", self.rest(subject, session)),
                    ("av", self.recording(subject, session)),
                ):
                    recording.to_raw().save(folder / f"{stem}-{name}_meg.fif", verbose="error")
            truth["subjects"].append(_plain(self.subject(subject)))
        (root / "truth.json").write_text(json.dumps(truth, indent=1))
        return root

    # ------------------------------------------------------------------ internals
    def _rng(self, subject: int, stream: int, session: int = 0) -> np.random.Generator:
        if subject < 0 or session < 0:
            raise SimulatorError(TASK, "subject and session are non-negative indices")
        key = (subject, stream, session)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))

    def _subject(self, index: int) -> tuple[MegSubject, dict]:
        """Return a subject's truth and its background draws (built once)."""
        if index not in self._subjects:
            self._subjects[index] = _draw_subject(index, self._rng(index, 0), self.options)
        return self._subjects[index]

    def _session(self, subject: int, session: int) -> _Session:
        key = (subject, session)
        if key not in self._sessions:
            truth, draws = self._subject(subject)
            rng = self._rng(subject, 1, session)
            self._sessions[key] = _place(truth, draws, rng, self.options)
        return self._sessions[key]

    def _scale(self, subject: int) -> float:
        """Return the evoked moment reaching the subject's SNR at its first session."""
        if subject not in self._scales:
            model = self._session(subject, 0)
            truth = self.subject(subject)
            evoked = np.stack(
                [
                    model.generator_patterns @ _moments(truth, name, 0.0, 1.0, self.sfreq)
                    for name in self.classes
                ]
            )
            rows = np.eye(evoked.shape[1])
            background = 1e12 * np.array(  # Background works in millionths of its units
                [
                    model.background.band_power(self.sfreq, SNR_BAND_HZ, rows[[c]])
                    for c in range(len(rows))
                ]
            )
            ratio = np.mean(_channel_power(evoked, self.sfreq) / background)
            self._scales[subject] = float(np.sqrt(10 ** (truth.snr_db / 10) / ratio))
        return self._scales[subject]

    def _simulate(
        self,
        subject: int,
        session: int,
        rng: np.random.Generator,
        labels: np.ndarray,
        duration_s: float | None,
    ) -> MegRecording:
        """Return a recording presenting ``labels`` in order (none: a resting recording)."""
        model, truth = self._session(subject, session), self.subject(subject)
        gaps = rng.uniform(*self.options.isi_s, len(labels))
        onsets = 1.0 + np.cumsum(gaps) - gaps[0] if len(labels) else np.zeros(0)
        end = duration_s if duration_s is not None else float(onsets[-1]) + self.options.isi_s[1]
        n_times = round(end * self.sfreq)
        evoked = np.zeros((len(truth.generators), n_times))
        amplitudes = np.clip(rng.normal(1.0, 0.25, len(labels)), 0.0, None)
        jitters = rng.normal(0.0, 0.008, len(labels))
        for onset, label, amplitude, jitter in zip(
            onsets, labels, amplitudes, jitters, strict=True
        ):
            moments = _moments(truth, self.classes[label], jitter, amplitude, self.sfreq)
            start = round(onset * self.sfreq)
            stop = min(start + moments.shape[1], n_times)
            evoked[:, start:stop] += moments[:, : stop - start]
        units = unit_scale(model.info)[:, None]
        background = model.background.simulate(rng, self.sfreq, n_times) * 1e6
        artifacts = np.zeros_like(background)
        if self.options.line_freq is not None and self.options.line_freq < self.sfreq / 2:
            phase = rng.uniform(0, 2 * np.pi) + rng.normal(0.0, 0.2, len(units))
            time = np.arange(n_times) / self.sfreq
            artifacts = model.line_amplitude[:, None] * np.sin(
                2 * np.pi * self.options.line_freq * time + phase[:, None]
            )
        scale = self._scale(subject)
        kind = "rest" if not len(labels) else f"{len(labels)} stimuli"
        description = (
            f"Simulated {TASK} ({kind}), seed {self.seed}, subject {subject}, session {session}; "
            f"SNR {truth.snr_db:.1f} dB (1-40 Hz evoked vs background power per channel)"
        )
        return MegRecording(
            model.generator_patterns @ evoked * scale * units,
            background * units,
            artifacts * units,
            onsets,
            np.asarray(labels, int),
            self.classes,
            model.info,
            description,
        )


def _moments(truth: MegSubject, name: str, jitter: float, amplitude: float, sfreq: float):
    """Return the generators' evoked moments (4, samples of 0.5 s) for one stimulus."""
    time = np.arange(round(EVOKED_S * sfreq)) / sfreq
    moments = np.zeros((len(truth.generators), time.size))
    for generator, gain in _GAINS[name].items():
        wave = sum(
            weight * np.exp(-0.5 * ((time - latency - truth.latency_shift_s - jitter) / width) ** 2)
            for latency, width, weight in _WAVES[name.split("_")[0]]
        )
        moments[truth.generators.index(generator)] += amplitude * gain * wave
    return moments


def _draw_subject(index: int, rng: np.random.Generator, options: MegOptions):
    """Draw a subject's anatomy and physiology (every draw in a fixed order)."""
    model = head_model()
    placement = list(_GENERATORS.values()) + list(_ALPHA.values())
    position_jitter = rng.normal(0.0, 0.006, (len(placement), 3))
    orientation_jitter = rng.normal(0.0, 0.35, (len(placement), 3))
    grid_index, orientation = place_dipoles(model, placement, position_jitter, orientation_jitter)
    truth = MegSubject(
        index=index,
        generators=tuple(_GENERATORS),
        positions=model.grid[grid_index[: len(_GENERATORS)]],
        orientations=orientation[: len(_GENERATORS)],
        latency_shift_s=float(rng.normal(0.0, 0.012)),
        snr_db=float(options.snr_db + rng.normal(0.0, 1.5)),
        background_ft=float(options.background_ft * rng.uniform(0.75, 1.25)),
        background_exponent=float(rng.uniform(0.9, 1.5)),
        alpha_hz=float(rng.uniform(8.5, 11.5)),
    )
    background_index, background_orientation = random_dipoles(rng, model, _N_BACKGROUND)
    n_channels = len(sensor_info("meg").ch_names)
    draws = {
        "alpha_positions": model.grid[grid_index[len(_GENERATORS) :]],
        "alpha_orientations": orientation[len(_GENERATORS) :],
        "alpha_share": rng.uniform(0.3, 1.0),
        "background_positions": model.grid[background_index],
        "background_orientations": background_orientation,
        "channel_noise": rng.uniform(0.7, 1.3, n_channels),
        "line_gain": rng.uniform(0.5, 1.5, n_channels),
    }
    return truth, draws


def _place(truth: MegSubject, draws: dict, rng: np.random.Generator, options: MegOptions):
    """Return a subject's session: its head position, lead fields and levels."""
    from scipy.spatial.transform import Rotation

    full = sensor_info("meg")
    info = sensor_info(options.channels).copy()
    rows = [full.ch_names.index(name) for name in info.ch_names]
    rotation = Rotation.from_euler("xyz", rng.normal(0.0, 1.5, 3), degrees=True).as_matrix()
    shift = rng.normal(0.0, 0.003, 3)
    noise_gain, background_gain = rng.uniform(0.8, 1.2, 2)
    center = head_model().center
    move = np.eye(4)
    move[:3, :3], move[:3, 3] = rotation, center + shift - rotation @ center
    with info._unlock():
        info["dev_head_t"]["trans"] = move @ info["dev_head_t"]["trans"]
        info["sfreq"], info["lowpass"] = float(options.sfreq), float(options.sfreq) / 2
    positions = np.concatenate(
        [truth.positions, draws["alpha_positions"], draws["background_positions"]]
    )
    field_ = lead_field(info, positions)
    n_generators, n_alpha = len(truth.generators), len(draws["alpha_positions"])
    orientations = np.concatenate([truth.orientations, draws["alpha_orientations"]])
    patterns = field_.pattern(np.arange(n_generators + n_alpha), orientations)
    background_dipoles = (
        np.arange(n_generators + n_alpha, len(positions)),
        draws["background_orientations"],
    )
    background = Background.build(
        field_,
        background_dipoles,
        truth.background_ft * background_gain,
        truth.background_exponent,
        (patterns[:, n_generators:], truth.alpha_hz, draws["alpha_share"]),
        options.sensor_noise_ft * noise_gain * draws["channel_noise"][rows],
        options.sfreq,
    )
    return _Session(
        info,
        patterns[:, :n_generators],
        background,
        options.line_noise_ft * draws["line_gain"][rows],
    )


def _plain(value) -> dict:
    """Return a dataclass as JSON-ready data (arrays as lists)."""
    data = asdict(value)
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in data.items()}
