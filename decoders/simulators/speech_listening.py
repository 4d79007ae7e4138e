"""Simulated speech listening in MEG and EEG, written as a BIDS data set like the public ones.

Listeners hear passages of real synthesised speech (espeak-ng, :mod:`.speech_audio`), a few
sentences each, in recording blocks; every listener hears the same passages in each block
(in their own order), as in Gwilliams' and Brennan's data sets. Bilateral auditory dipoles
respond to each passage's envelope and spectrogram through temporal response functions
(:mod:`.auditory`), and are projected to the sensors by an MNE forward model: for ``meg``
the 306 sensors of the fetched Neuromag recording (``meg-eeg``, MNE's ``test_raw.fif``) with
a sphere fitted to its head shape; for ``eeg`` a 10-10 montage on the three-shell sphere of
:mod:`.forward`. Background activity is 1/f noise from random cortical dipoles plus white
sensor noise, scaled per subject to a stated signal-to-noise ratio (power of the
speech-driven activity over the rest, at the sensors, per channel type). The sound reaches
the ear a delivery latency (30 ± 3 ms) after its marker; an ``AUDIO`` misc channel records it,
so onsets can be refined on it (:mod:`decoders.speech.alignment`).

The BIDS data set holds ``stimuli/passage_NNN.wav`` (with a JSON sidecar giving its rate)
and, per subject and block, a recording and an events file whose ``stim_file`` column names
the passage played at each event.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .auditory import ResponseProfile, dipole_activity, speech_drives
from .errors import SimulatorError
from .registry import register
from .signals import frequencies, pink_spectrum, shaped_noise
from .speech_audio import passage, sentences

if TYPE_CHECKING:
    import mne

    from decoders.speech.trials import SpeechTrials

TASK = "listening"
SOUND_CHANNEL = "AUDIO"
DELIVERY_LATENCY_S = (0.030, 0.003)
"""Mean and sd of the delay between a marker and the sound reaching the ear."""
SNR_DB = {"meg": -20.0, "eeg": -24.0}
"""Signal-to-noise ratio of the first subject; each further subject is 2 dB lower."""
SNR_STEP_DB = -2.0
N_BACKGROUND = 60
DIPOLE_AM = 10e-9
"""Peak moment of an auditory dipole, ampere-metres (order of an auditory evoked response)."""
_LATERAL_M, _SPLIT_M = 0.050, 0.010


class SpeechListening:
    """Listeners hearing synthesised speech while their MEG or EEG is recorded.

    Parameters
    ----------
    seed : int
        Seeds sentences, voices, anatomy, responses and noise.
    modality : str
        ``meg`` (306 Neuromag sensors) or ``eeg`` (10-10 montage of ``channels`` electrodes).
    n_subjects, n_blocks, passages_per_block, sentences_per_passage : int
        Size of the data set.
    sfreq : float
        Sampling rate of the recordings.
    snr_db : float, optional
        SNR of the first subject (default by modality: MEG -20 dB, EEG -24 dB); each further
        subject is 2 dB lower.
    channels : int
        EEG electrodes (a standard layout of :mod:`.montages`).
    """

    def __init__(
        self,
        seed: int = 0,
        modality: str = "meg",
        n_subjects: int = 3,
        n_blocks: int = 3,
        passages_per_block: int = 2,
        sentences_per_passage: int = 6,
        sfreq: float = 120.0,
        snr_db: float | None = None,
        channels: int = 64,
    ) -> None:
        if modality not in SNR_DB:
            raise SimulatorError("modality", f"'{modality}' is not one of {sorted(SNR_DB)}")
        if min(n_subjects, n_blocks, passages_per_block, sentences_per_passage) < 1:
            raise SimulatorError("speech listening", "every count must be at least 1")
        self.seed, self.modality = seed, modality
        self.n_subjects, self.n_blocks = n_subjects, n_blocks
        self.passages_per_block, self.sentences_per_passage = (
            passages_per_block,
            sentences_per_passage,
        )
        self.sfreq, self.channels = float(sfreq), channels
        self.snr_db = SNR_DB[modality] if snr_db is None else float(snr_db)
        self._drive_cache: dict[int, np.ndarray] = {}
        self._subject_cache: dict[int, tuple[ResponseProfile, np.ndarray, np.ndarray]] = {}
        self.options = {
            "seed": seed,
            "modality": modality,
            "n_subjects": n_subjects,
            "n_blocks": n_blocks,
            "passages_per_block": passages_per_block,
            "sentences_per_passage": sentences_per_passage,
            "sfreq": self.sfreq,
            "snr_db": self.snr_db,
            "channels": channels,
        }

    @property
    def classes(self) -> tuple[str, ...]:
        """Return the sound files, as the trial set names them."""
        return tuple(f"stimuli/{name}" for name in self._passage_names())

    def subject_snr_db(self, subject: int) -> float:
        """Return the stated SNR of ``subject``."""
        return self.snr_db + SNR_STEP_DB * subject

    # ------------------------------------------------------------------ outputs
    def trials(self, pairing: Any = None) -> SpeechTrials:
        """Return the pairs of the BIDS data set (written once to the cache, then read).

        ``pairing`` (:class:`~decoders.speech.pairing.PairingSettings`) defaults to 3 s
        windows, 150 ms lag, onsets refined on the ``AUDIO`` channel, log-mel features.
        """
        from decoders.speech.bids import read_listening_bids
        from decoders.speech.pairing import PairingSettings

        root = self.cached_bids()
        return read_listening_bids(root, pairing or PairingSettings(sound_channel=SOUND_CHANNEL))

    def cached_bids(self) -> Path:
        """Return the BIDS data set of these options in the data cache, writing it if needed."""
        from decoders.datasets.cache import data_home

        digest = hashlib.sha256(json.dumps(self.options, sort_keys=True).encode()).hexdigest()
        root = data_home() / "simulated" / f"speech_{self.modality}-{digest[:12]}"
        if not (root / "dataset_description.json").is_file():
            self.write_bids(root)
        return root

    def write_bids(self, root: Path) -> Path:
        """Write the data set as BIDS under ``root`` and return it."""
        import soundfile

        root = Path(root)
        stimuli = root / "stimuli"
        stimuli.mkdir(parents=True, exist_ok=True)
        for name, (audio, sfreq) in zip(self._passage_names(), self._passages(), strict=True):
            soundfile.write(stimuli / name, audio, int(sfreq), subtype="PCM_16")
            (stimuli / name).with_suffix(".json").write_text(
                json.dumps({"SamplingFrequency": sfreq, "Description": "espeak-ng speech"})
            )
        for subject in range(self.n_subjects):
            for block in range(self.n_blocks):
                raw, onsets, names = self._run(subject, block)
                _write_run(raw, onsets, names, root, subject, block, self.modality)
        return root

    def raw(self, duration_s: float = 60.0, subject: int = 0) -> mne.io.RawArray:
        """Return one continuous recording of ``subject`` (blocks one after the other)."""
        import mne

        runs = [self._run(subject, block) for block in range(self.n_blocks)]
        raw = mne.concatenate_raws([run[0] for run in runs], verbose="error")
        offsets = np.cumsum([0.0] + [run[0].times[-1] + 1 / self.sfreq for run in runs[:-1]])
        onsets = np.concatenate(
            [run[1] + offset for run, offset in zip(runs, offsets, strict=True)]
        )
        names = [name for run in runs for name in run[2]]
        raw.set_annotations(mne.Annotations(onsets, np.zeros(len(onsets)), names))
        if duration_s < raw.times[-1]:
            raw.crop(0.0, duration_s)
        return raw

    # ------------------------------------------------------------------ simulation
    def _passage_names(self) -> list[str]:
        count = self.n_blocks * self.passages_per_block
        return [f"passage_{index + 1:03d}.wav" for index in range(count)]

    def _passages(self) -> list[tuple[np.ndarray, float]]:
        return _synthesised(
            self.seed, self.n_blocks * self.passages_per_block, self.sentences_per_passage
        )

    def _run(self, subject: int, block: int) -> tuple[mne.io.RawArray, np.ndarray, list[str]]:
        """Return one block's recording, its marker onsets (s) and the passages played."""
        rng = np.random.default_rng([self.seed, 1, subject, block])
        first = block * self.passages_per_block
        order = first + rng.permutation(self.passages_per_block)
        passages = self._passages()
        lead_in, rest = 2.0, 1.5
        onsets, cursor = [], lead_in
        for index in order:
            onsets.append(cursor)
            audio, sfreq = passages[index]
            cursor += len(audio) / sfreq + rest
        n_times = round((cursor + lead_in) * self.sfreq)
        drives = np.zeros((6, n_times))
        markers = []
        for index, onset in zip(order, onsets, strict=True):
            start = round(onset * self.sfreq)
            part = self._drives(index)[:, : n_times - start]
            drives[:, start : start + part.shape[1]] += part
            markers.append(onset - rng.normal(*DELIVERY_LATENCY_S))
        profile, auditory, background_patterns = self._subject(subject)
        activity = dipole_activity(drives, profile, self.sfreq)
        activity *= DIPOLE_AM / np.abs(activity).max()
        signal = auditory @ activity
        background = self._background(background_patterns, rng, n_times)
        signal += _scaled(background, signal, self.subject_snr_db(subject), self._geometry().kinds)
        names = [self._passage_names()[index] for index in order]
        sound = drives[0] * 1e-3 + rng.normal(0, 1e-6, n_times)  # the envelope as played
        raw = self._geometry().raw(signal, sound, self.sfreq)
        raw.info["description"] = (
            f"speech_{self.modality} simulator, seed {self.seed}, subject {subject}, block "
            f"{block}, SNR {self.subject_snr_db(subject):g} dB"
        )
        return raw, np.array(markers), names

    def _geometry(self) -> _Geometry:
        return _geometry(self.modality, self.channels)

    def _drives(self, index: int) -> np.ndarray:
        """Return the stimulus drives of passage ``index`` at the recording rate (cached)."""
        from decoders.speech.audio import resample
        from decoders.speech.features import AUDIO_SFREQ

        if index not in self._drive_cache:
            audio = resample(*self._passages()[index], AUDIO_SFREQ)
            self._drive_cache[index] = speech_drives(audio, self.sfreq)
        return self._drive_cache[index]

    def _subject(self, subject: int) -> tuple[ResponseProfile, np.ndarray, np.ndarray]:
        """Return a subject's responses and the sensor patterns of its dipoles (cached)."""
        if subject not in self._subject_cache:
            geometry = self._geometry()
            anatomy = np.random.default_rng([self.seed, 2, subject])
            profile = ResponseProfile.draw(anatomy)
            auditory = geometry.project(*geometry.auditory(anatomy))
            background = geometry.project(*geometry.random_cortex(anatomy, N_BACKGROUND))
            self._subject_cache[subject] = (profile, auditory, background)
        return self._subject_cache[subject]

    def _background(self, patterns: np.ndarray, rng: np.random.Generator, n_times: int):
        spectrum = pink_spectrum(frequencies(n_times, self.sfreq), 1.0)
        brain = patterns @ shaped_noise(rng, spectrum, N_BACKGROUND, n_times)
        spread = brain.std(axis=1, keepdims=True)
        return brain + 0.3 * spread * rng.standard_normal(brain.shape)


def _scaled(background: np.ndarray, signal: np.ndarray, snr_db: float, kinds: np.ndarray):
    """Return ``background`` scaled, per channel type, to ``snr_db`` below ``signal``'s power."""
    scaled = background.copy()
    for kind in np.unique(kinds):
        rows = kinds == kind
        ratio = np.sum(signal[rows] ** 2) / np.sum(background[rows] ** 2)
        scaled[rows] *= np.sqrt(ratio / 10.0 ** (snr_db / 10.0))
    return scaled


@lru_cache(maxsize=4)
def _synthesised(seed: int, count: int, per_passage: int) -> list[tuple[np.ndarray, float]]:
    rng = np.random.default_rng([seed, 0])
    texts = sentences(rng, count * per_passage)
    return [passage(texts[i * per_passage : (i + 1) * per_passage], rng) for i in range(count)]


def _write_run(raw, onsets, names, root: Path, subject: int, block: int, modality: str) -> None:
    import mne_bids
    import pandas as pd

    path = mne_bids.BIDSPath(
        subject=f"{subject + 1:02d}", task=TASK, run=block + 1, datatype=modality, root=root
    )
    samples = np.round(onsets * raw.info["sfreq"]).astype(int)
    events = np.column_stack([samples, np.zeros_like(samples), np.ones_like(samples)])
    mne_bids.write_raw_bids(
        raw,
        path,
        events=events,
        event_id={"sound": 1},
        event_metadata=pd.DataFrame({"stim_file": names}),
        extra_columns_descriptions={"stim_file": "sound played, relative to stimuli/"},
        allow_preload=True,
        format="FIF" if modality == "meg" else "BrainVision",
        overwrite=True,
        verbose="error",
    )


class _Geometry:
    """Sensors, their forward model and where auditory and background dipoles sit."""

    def __init__(self, info: mne.Info, centre: np.ndarray, brain_radius: float, solve) -> None:
        self.info, self.centre, self.brain_radius = info, centre, brain_radius
        self.solve = solve
        self.kinds = np.array(info.get_channel_types())

    def auditory(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Return the 4 auditory dipoles (positions, orientations), jittered by 3 mm and 10°."""
        points, orientations = [], []
        for side in (-1.0, 1.0):
            for split, tilt in ((0.0, 0.3), (_SPLIT_M, -0.3)):
                offset = np.array([side * (_LATERAL_M - split / 2), 0.005 - split, -0.005])
                points.append(self.centre + offset + rng.normal(0, 0.003, 3))
                orientation = np.array([0.0, tilt, 1.0]) + rng.normal(0, 0.17, 3)
                orientations.append(orientation / np.linalg.norm(orientation))
        return np.array(points), np.array(orientations)

    def random_cortex(self, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``count`` random dipoles in the outer brain, above the sphere's lower part."""
        points = []
        while len(points) < count:
            point = rng.uniform(-1, 1, 3) * self.brain_radius
            radius = np.linalg.norm(point)
            if 0.6 * self.brain_radius < radius < 0.9 * self.brain_radius and point[2] > -0.02:
                points.append(self.centre + point)
        orientations = rng.normal(size=(count, 3))
        return np.array(points), orientations / np.linalg.norm(orientations, axis=1, keepdims=True)

    def project(self, points: np.ndarray, orientations: np.ndarray) -> np.ndarray:
        """Return the sensor patterns (n_channels, n) of unit dipoles."""
        return np.einsum("csk,sk->cs", self.solve(points), orientations)

    def raw(self, signal: np.ndarray, sound: np.ndarray, sfreq: float) -> mne.io.RawArray:
        """Return the recording: the sensors and the sound channel."""
        import mne

        info = self.info.copy()
        with info._unlock():
            info["sfreq"] = sfreq
            info["lowpass"] = sfreq / 2
            info["highpass"] = 0.0
            info["projs"] = []
        raw = mne.io.RawArray(signal, info, verbose="error")
        audio = mne.io.RawArray(
            sound[None], mne.create_info([SOUND_CHANNEL], sfreq, "misc"), verbose="error"
        )
        with audio.info._unlock():
            audio.info["meas_date"] = raw.info["meas_date"]
        return raw.add_channels([audio], force_update_info=True)


@lru_cache(maxsize=2)
def _geometry(modality: str, channels: int) -> _Geometry:
    return _meg_geometry() if modality == "meg" else _eeg_geometry(channels)


def _meg_geometry() -> _Geometry:
    """Return the 306 Neuromag sensors of the fetched recording, a sphere fitted to its head."""
    import mne

    from decoders.datasets.loaders import load_meg_eeg

    original = load_meg_eeg()
    info = mne.pick_info(original.info, mne.pick_types(original.info, meg=True))
    sphere = mne.make_sphere_model("auto", "auto", info=info, verbose="error")
    centre = np.asarray(sphere["r0"], dtype=float)
    brain_radius = float(sphere["layers"][0]["rad"])

    def solve(points: np.ndarray) -> np.ndarray:
        source = mne.setup_volume_source_space(
            pos={"rr": points, "nn": np.tile([0.0, 0.0, 1.0], (len(points), 1))}, verbose="error"
        )
        forward = mne.make_forward_solution(
            info, trans=None, src=source, bem=sphere, meg=True, eeg=False, verbose="error"
        )
        return forward["sol"]["data"].reshape(len(info["chs"]), len(points), 3)

    return _Geometry(info, centre, brain_radius, solve)


def _eeg_geometry(channels: int) -> _Geometry:
    """Return a 10-10 layout on the three-shell sphere shared by the EEG simulators."""
    import mne

    from .forward import head_model, lead_field
    from .montages import electrode_positions, select_channels

    names = select_channels(channels)
    model, field = head_model(), lead_field(names)
    positions = electrode_positions()
    info = mne.create_info(list(names), 100.0, "eeg")
    info.set_montage(
        mne.channels.make_dig_montage(
            ch_pos={name: positions[name] for name in names},
            nasion=positions["nasion"],
            coord_frame="head",
        )
    )

    def solve(points: np.ndarray) -> np.ndarray:
        return field.gain[:, model.nearest(points), :]

    return _Geometry(info, model.center, model.brain_radius, solve)


@register(
    "speech_meg", "speech listening, 306-sensor Neuromag MEG (real geometry), BIDS with sounds"
)
class SpeechListeningMEG(SpeechListening):
    """:class:`SpeechListening` in MEG."""

    def __init__(self, seed: int = 0, **options: Any) -> None:
        super().__init__(seed, "meg", **options)


@register("speech_eeg", "speech listening, 64-channel 10-10 EEG, BIDS with sounds")
class SpeechListeningEEG(SpeechListening):
    """:class:`SpeechListening` in EEG."""

    def __init__(self, seed: int = 0, **options: Any) -> None:
        super().__init__(seed, "eeg", **options)
