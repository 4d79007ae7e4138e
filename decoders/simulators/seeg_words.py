"""Simulated sEEG word reading: 61 words, each with its own response in a few regions.

Model
-----
Anatomy. A left hemisphere in a head frame (millimetres): two informative regions, ``vSMC``
(ventral sensorimotor cortex) and ``STG`` (superior temporal gyrus), and eight others
(``IFG``, ``MTG``, ``insula``, ``hippocampus``, ``amygdala``, ``SPL``, ``OFC``, ``thalamus``);
a contact outside every region is in ``white_matter``.

Implants. Each subject has 5 to 8 shafts of 6 to 10 contacts 3.5 mm apart, each aimed at a
region centre (jittered by 4 mm) from a random lateral direction; one or two shafts aim at
the informative regions, the others at random other regions. Contacts are named by shaft
letter and depth (``A1`` deepest), so subjects differ in count, placement and names.

Responses. Each informative region holds 6 point sources. Words are built from 12 latent
features (each word a distinct set of 3-5 of them, so words sharing features are
confusable). A source responds to each feature with a high-gamma (70-150 Hz) envelope bump
and a low-frequency (2-6 Hz) wavelet at feature-specific latencies (0.1-1.2 s after the word
onset); a word's response is the sum over its features. Trials vary: the response is shifted
by a latency jitter (sd ``jitter_s``) and scaled by a log-normal gain (sd 0.3). A contact sees
a source with gain exp(-d / 4 mm), so only contacts within about a centimetre of an
informative region carry the words.

Background. Every contact carries 1/f^1.5 activity correlated with its shaft neighbours
(correlation 0.6), broadband high-gamma noise, white amplifier noise and 50 Hz line noise,
about 40 uV RMS in all.

SNR
---
``snr_db`` = 10 log10(P_task / P_background): the power of the word responses, summed over
every contact and averaged over the trials' 0-2 s after onset, over the background power
summed over every contact (line noise included). Each subject's SNR is ``snr_db`` plus a
subject offset (sd 1.5 dB); the responses are scaled so that the measured ratio on the
subject's trials equals it (:meth:`SeegWords.snr_db` gives it). Most contacts carry no
response, so the SNR on the few informative contacts is far higher.

Recordings. A labelled run presents every word ``repeats`` times in shuffled order, one
every 3.5 s (onset 0.75 s into its slot); the unlabelled rest run has a word (not annotated)
in half of its slots. :meth:`SeegWords.write_bids` writes both for every subject as a
BIDS-iEEG data set (BrainVision, ``events.tsv``, ``electrodes.tsv`` with regions and shafts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from decoders.datasets.trials import TrialSet

from .errors import SimulatorError
from .registry import register
from .signals import frequencies, pink_spectrum, shaped_noise

if TYPE_CHECKING:
    import mne

TASK = "seeg_words"
WORDS = (
    "apple", "bread", "chair", "dance", "earth", "flame", "grape", "house", "image", "juice",
    "knife", "lemon", "money", "night", "ocean", "paper", "queen", "river", "stone", "table",
    "uncle", "voice", "water", "youth", "zebra", "beach", "cloud", "dream", "eagle", "field",
    "glass", "heart", "island", "jewel", "kitten", "light", "mouse", "nurse", "olive", "piano",
    "quiet", "radio", "sugar", "tiger", "union", "valley", "window", "yellow", "anchor",
    "basket", "candle", "doctor", "engine", "forest", "garden", "hammer", "insect", "jacket",
    "kettle", "ladder", "market",
)  # fmt: skip
INFORMATIVE = ("vSMC", "STG")
REGIONS = {  # centre (mm, head frame: x right, y anterior, z up), radius (mm)
    "vSMC": ((-52.0, -8.0, 28.0), 11.0),
    "STG": ((-58.0, -22.0, 4.0), 11.0),
    "IFG": ((-48.0, 24.0, 10.0), 11.0),
    "MTG": ((-62.0, -38.0, -10.0), 11.0),
    "insula": ((-37.0, 2.0, 4.0), 9.0),
    "hippocampus": ((-28.0, -22.0, -12.0), 8.0),
    "amygdala": ((-22.0, -4.0, -18.0), 7.0),
    "SPL": ((-30.0, -58.0, 55.0), 12.0),
    "OFC": ((-22.0, 36.0, -14.0), 11.0),
    "thalamus": ((-12.0, -18.0, 6.0), 8.0),
}
WHITE_MATTER = "white_matter"
SLOT_S = 3.5
ONSET_S = 0.75
_N_FEATURES = 12
_SOURCES_PER_REGION = 6
_SPACING_MM = 3.5
_DECAY_MM = 4.0
_BACKGROUND_UV = 40.0
_SUBJECT_SNR_SD_DB = 1.5


@dataclass(frozen=True)
class Implant:
    """One subject's contacts: names, shafts, positions (mm) and regions."""

    names: tuple[str, ...]
    shafts: tuple[str, ...]
    positions: np.ndarray
    regions: tuple[str, ...]


@register(TASK, "sEEG word reading: 61 words, responses in vSMC/STG contacts, implants per subject")
class SeegWords:
    """Simulated sEEG word reading of several subjects with different implants.

    Parameters
    ----------
    seed : int
        Same seed and options give identical anatomy, implants and signals.
    n_subjects : int
        Subjects (each with its own implant, sources and SNR offset).
    subject : int
        The subject :meth:`trials` returns (channels differ between subjects).
    n_words : int
        Words (the first ``n_words`` of :data:`WORDS`, at most 61).
    repeats : int
        Presentations of each word in the labelled run.
    sfreq : float
        Sampling rate in Hz.
    snr_db : float
        Stated SNR (see the module), before each subject's offset.
    jitter_s : float
        Trial-to-trial latency jitter (sd) of the responses.
    tmin, tmax : float
        Trial window around each word onset.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        n_subjects: int = 4,
        subject: int = 0,
        n_words: int = 61,
        repeats: int = 10,
        sfreq: float = 1000.0,
        snr_db: float = -12.0,
        jitter_s: float = 0.05,
        tmin: float = -0.5,
        tmax: float = 2.5,
    ) -> None:
        if not 2 <= n_words <= len(WORDS):
            raise SimulatorError(TASK, f"n_words must be 2..{len(WORDS)}, got {n_words}")
        if not 0 <= subject < n_subjects:
            raise SimulatorError(TASK, f"subject {subject} outside 0..{n_subjects - 1}")
        if sfreq < 400:
            raise SimulatorError(TASK, f"sfreq {sfreq:g} Hz cannot carry 70-150 Hz high gamma")
        if not -ONSET_S <= tmin < tmax <= SLOT_S - ONSET_S:
            raise SimulatorError(TASK, f"window {tmin}..{tmax} s must lie in -0.75..2.75 s")
        self.seed, self.n_subjects, self.subject = seed, n_subjects, subject
        self.classes = WORDS[:n_words]
        self.repeats, self.sfreq, self.snr_target_db = repeats, float(sfreq), snr_db
        self.jitter_s, self.tmin, self.tmax = jitter_s, tmin, tmax
        self.options = {
            "n_subjects": n_subjects,
            "subject": subject,
            "n_words": n_words,
            "repeats": repeats,
            "sfreq": self.sfreq,
            "snr_db": snr_db,
            "jitter_s": jitter_s,
            "tmin": tmin,
            "tmax": tmax,
        }
        self.word_features = _word_features(np.random.default_rng([seed, 1]), n_words)
        self._models: dict[int, _SubjectModel] = {}

    # ------------------------------------------------------------------ subjects
    def implant(self, subject: int) -> Implant:
        """Return the contacts of ``subject``."""
        return _implant(np.random.default_rng([self.seed, 2, subject]))

    def subject_name(self, subject: int) -> str:
        """Return the BIDS label of ``subject`` (``01``, ``02``, ...)."""
        return f"{subject + 1:02d}"

    def _model(self, subject: int) -> _SubjectModel:
        if subject not in self._models:
            self._models[subject] = _SubjectModel.build(self, subject)
        return self._models[subject]

    def snr_db(self, subject: int) -> float:
        """Return the SNR of ``subject`` (stated ``snr_db`` plus its offset), as measured."""
        return self._model(subject).snr_db

    # ------------------------------------------------------------------ recordings
    def trials(self) -> TrialSet:
        """Return the labelled trials of subject ``subject`` (every word ``repeats`` times)."""
        raw = self.raw(subject=self.subject)
        from decoders.training.epoching import epochs_from_annotations

        trials = epochs_from_annotations(
            raw, source=TASK, classes=list(self.classes), tmin=self.tmin, tmax=self.tmax
        )
        name = f"sub-{self.subject_name(self.subject)}_task-reading (simulated {TASK})"
        implant = self.implant(self.subject)
        positions = {n: p / 1000.0 for n, p in zip(implant.names, implant.positions, strict=True)}
        from dataclasses import replace

        return replace(
            trials,
            name=name,
            data=trials.data.astype(np.float32),
            groups=np.full(trials.n_trials, self.subject),
            ch_pos=positions,
        )

    def raw(
        self, duration_s: float | None = None, subject: int = 0, *, labelled: bool = True
    ) -> mne.io.RawArray:
        """Return a continuous recording of ``subject``.

        Labelled (default): every word ``repeats`` times, annotated by its name (``duration_s``
        None) or as many slots as fit ``duration_s``. Unlabelled: ``duration_s`` of slots, half
        holding a word, with no annotation (for pretraining).
        """
        rng = np.random.default_rng([self.seed, 3, subject, int(labelled)])
        n_words = len(self.classes)
        if labelled and duration_s is None:
            words = np.concatenate([rng.permutation(n_words) for _ in range(self.repeats)])
        else:
            n_slots = max(1, int((duration_s or 60.0) // SLOT_S))
            words = rng.integers(0, n_words, n_slots)
            if not labelled:
                words[rng.random(n_slots) < 0.5] = -1
        signals = self._model(subject).simulate(rng, words)
        return self._to_raw(subject, signals, words if labelled else None)

    def _to_raw(self, subject: int, signals: np.ndarray, words) -> mne.io.RawArray:
        import mne

        implant = self.implant(subject)
        info = mne.create_info(list(implant.names), self.sfreq, "seeg")
        info["line_freq"] = 50.0
        info["description"] = (
            f"simulated {TASK}, seed {self.seed}, subject {self.subject_name(subject)}, SNR "
            f"{self.snr_db(subject):.1f} dB"
        )
        raw = mne.io.RawArray(signals, info, verbose="error")
        if words is not None:
            onsets = np.arange(len(words)) * SLOT_S + ONSET_S
            raw.set_annotations(
                mne.Annotations(onsets, np.zeros(len(words)), [self.classes[w] for w in words])
            )
        return raw

    def write_bids(self, root: str | Path, *, rest_s: float = 120.0) -> list[Path]:
        """Write every subject's labelled ``reading`` run and unlabelled ``rest`` run as BIDS.

        Returns the written recordings (BrainVision), ``electrodes.tsv`` holding each
        contact's coordinates, shaft (``group``) and ``region``.
        """
        import mne_bids

        written = []
        for subject in range(self.n_subjects):
            for task, raw in (
                ("reading", self.raw(subject=subject)),
                ("rest", self.raw(rest_s, subject=subject, labelled=False)),
            ):
                path = mne_bids.BIDSPath(
                    subject=self.subject_name(subject),
                    task=task,
                    datatype="ieeg",
                    root=Path(root),
                    suffix="ieeg",
                    extension=".vhdr",
                )
                mne_bids.write_raw_bids(
                    raw,
                    path,
                    format="BrainVision",
                    allow_preload=True,
                    overwrite=True,
                    verbose="error",
                )
                written.append(path.fpath)
            _write_electrodes(written[-1].parent, self.implant(subject), self.subject_name(subject))
        return written


@dataclass
class _SubjectModel:
    """A subject's sources, their gains on the contacts, the background and the scaling."""

    owner: SeegWords
    implant: Implant
    gains: np.ndarray  # (contacts, sources)
    latencies: np.ndarray  # (sources, features, 2): high-gamma and low-frequency latencies
    amplitudes: np.ndarray  # (sources, features, 2)
    widths: np.ndarray  # (sources, features)
    lf_hz: np.ndarray  # (sources, features)
    scale: float
    snr_db: float

    @classmethod
    def build(cls, owner: SeegWords, subject: int) -> _SubjectModel:
        rng = np.random.default_rng([owner.seed, 4, subject])
        implant = owner.implant(subject)
        sources = []
        for region in INFORMATIVE:
            centre, radius = REGIONS[region]
            for _ in range(_SOURCES_PER_REGION):
                sources.append(np.asarray(centre) + _in_ball(rng, radius))
        distances = np.linalg.norm(implant.positions[:, None] - np.asarray(sources)[None], axis=2)
        n_sources = len(sources)
        model = cls(
            owner,
            implant,
            np.exp(-distances / _DECAY_MM),
            rng.uniform(0.1, 1.2, (n_sources, _N_FEATURES, 2)),
            rng.normal(0.0, 1.0, (n_sources, _N_FEATURES, 2)),
            rng.uniform(0.08, 0.25, (n_sources, _N_FEATURES)),
            rng.uniform(2.0, 6.0, (n_sources, _N_FEATURES)),
            1.0,
            owner.snr_target_db + rng.normal(0.0, _SUBJECT_SNR_SD_DB),
        )
        model.scale = model._calibrate(np.random.default_rng([owner.seed, 5, subject]))
        return model

    @property
    def sfreq(self) -> float:
        return self.owner.sfreq

    def response(self, rng: np.random.Generator, word: int) -> np.ndarray:
        """Return one trial's response at the sources (sources, slot samples)."""
        n = round(SLOT_S * self.sfreq)
        time = np.arange(n) / self.sfreq - ONSET_S
        shift = rng.normal(0.0, self.owner.jitter_s)
        gain = np.exp(rng.normal(0.0, 0.3))
        active = self.owner.word_features[word]
        t = time[None, None, :] - shift
        lat = self.latencies[:, active]
        width = self.widths[:, active, None]
        envelope = np.abs(self.amplitudes[:, active, 0, None]) * np.exp(
            -0.5 * ((t - lat[..., 0, None]) / width) ** 2
        )
        lf_t = t - lat[..., 1, None]
        wavelet = (
            self.amplitudes[:, active, 1, None]
            * np.exp(-0.5 * (lf_t / (2 * width)) ** 2)
            * np.cos(2 * np.pi * self.lf_hz[:, active, None] * lf_t)
        )
        carrier = _band_noise(rng, len(self.gains.T), n, self.sfreq, (70.0, 150.0))
        return gain * (envelope.sum(1) * carrier + wavelet.sum(1))

    def background(self, rng: np.random.Generator, n_times: int) -> np.ndarray:
        """Return background activity (contacts, n_times) in volts."""
        n_contacts = len(self.implant.names)
        freqs = frequencies(n_times, self.sfreq)
        pink = shaped_noise(rng, pink_spectrum(freqs, 1.5), n_contacts, n_times)
        shafts = np.asarray(self.implant.shafts)
        for index in range(1, n_contacts):
            if shafts[index] == shafts[index - 1]:
                pink[index] = 0.6 * pink[index - 1] + 0.8 * pink[index]
        gamma = _band_noise(rng, n_contacts, n_times, self.sfreq, (70.0, 150.0))
        time = np.arange(n_times) / self.sfreq
        line = 0.05 * np.sin(2 * np.pi * 50.0 * time + rng.uniform(0, 2 * np.pi, (n_contacts, 1)))
        white = rng.standard_normal((n_contacts, n_times))
        total = 0.9 * pink + 0.3 * gamma + 0.15 * white + line
        return total * _BACKGROUND_UV * 1e-6 / np.sqrt(0.81 + 0.09 + 0.0225 + 0.00125)

    def simulate(self, rng: np.random.Generator, words: np.ndarray) -> np.ndarray:
        """Return the signals (contacts, slots * slot samples) of slots showing ``words``."""
        n = round(SLOT_S * self.sfreq)
        slots = []
        for word in words:
            signal = self.background(rng, n)
            if word >= 0:
                signal += self.scale * (self.gains @ self.response(rng, int(word)))
            slots.append(signal.astype(np.float32))
        return np.concatenate(slots, axis=1)

    def _calibrate(self, rng: np.random.Generator) -> float:
        """Return the response scale giving the subject's SNR (see the module)."""
        window = slice(round(ONSET_S * self.sfreq), round((ONSET_S + 2.0) * self.sfreq))
        words = rng.permutation(len(self.owner.classes))[:20]
        task = np.mean(
            [
                np.sum(np.mean((self.gains @ self.response(rng, w))[:, window] ** 2, 1))
                for w in words
            ]
        )
        noise = np.sum(np.mean(self.background(rng, round(SLOT_S * self.sfreq)) ** 2, 1))
        return float(np.sqrt(10 ** (self.snr_db / 10) * noise / task))


def _word_features(rng: np.random.Generator, n_words: int) -> list[np.ndarray]:
    """Return each word's distinct set of 3-5 of the latent features."""
    chosen: set[tuple[int, ...]] = set()
    words = []
    while len(words) < n_words:
        count = int(rng.integers(3, 6))
        features = tuple(sorted(rng.choice(_N_FEATURES, count, replace=False).tolist()))
        if features not in chosen:
            chosen.add(features)
            words.append(np.asarray(features))
    return words


def _in_ball(rng: np.random.Generator, radius: float) -> np.ndarray:
    direction = rng.normal(size=3)
    return direction / np.linalg.norm(direction) * radius * rng.random() ** (1 / 3)


def _implant(rng: np.random.Generator) -> Implant:
    """Return a random implant: shafts aimed at informative and other regions."""
    others = [region for region in REGIONS if region not in INFORMATIVE]
    n_shafts = int(rng.integers(5, 9))
    informative = list(rng.permutation(INFORMATIVE)[: int(rng.integers(1, 3))])
    targets = informative + list(rng.choice(others, n_shafts - len(informative), replace=False))
    names, shafts, positions = [], [], []
    for number, region in enumerate(targets):
        centre, _ = REGIONS[region]
        deepest = np.asarray(centre) + rng.normal(0.0, 4.0, 3)
        direction = np.array([-1.0, 0.0, 0.0]) + rng.normal(0.0, 0.35, 3)
        direction /= np.linalg.norm(direction)
        letter = chr(ord("A") + number)
        for depth in range(int(rng.integers(6, 11))):
            names.append(f"{letter}{depth + 1}")
            shafts.append(letter)
            positions.append(deepest + depth * _SPACING_MM * direction)
    positions = np.asarray(positions)
    return Implant(tuple(names), tuple(shafts), positions, tuple(map(_region_of, positions)))


def _region_of(position: np.ndarray) -> str:
    for region, (centre, radius) in REGIONS.items():
        if np.linalg.norm(position - np.asarray(centre)) <= radius:
            return region
    return WHITE_MATTER


def _band_noise(
    rng: np.random.Generator, n_series: int, n_times: int, sfreq: float, band: tuple[float, float]
) -> np.ndarray:
    freqs = frequencies(n_times, sfreq)
    amplitude = ((freqs >= band[0]) & (freqs <= band[1])).astype(float)
    return shaped_noise(rng, amplitude, n_series, n_times)


def _write_electrodes(folder: Path, implant: Implant, subject: str) -> None:
    """Write the subject's ``electrodes.tsv`` (mm, shaft as ``group``, ``region``) and frame."""
    import json

    lines = ["name\tx\ty\tz\tsize\tgroup\tregion"]
    for name, shaft, position, region in zip(
        implant.names, implant.shafts, implant.positions, implant.regions, strict=True
    ):
        x, y, z = (f"{value:.2f}" for value in position)
        lines.append(f"{name}\t{x}\t{y}\t{z}\t5\t{shaft}\t{region}")
    (folder / f"sub-{subject}_electrodes.tsv").write_text("\n".join(lines) + "\n")
    frame = {
        "iEEGCoordinateSystem": "Other",
        "iEEGCoordinateUnits": "mm",
        "iEEGCoordinateSystemDescription": f"simulated head frame of {TASK} (x right, y "
        "anterior, z up; left hemisphere)",
    }
    (folder / f"sub-{subject}_coordsystem.json").write_text(json.dumps(frame, indent=1))
