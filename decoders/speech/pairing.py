"""Cut listening recordings into (brain window, speech segment) pairs: :class:`SpeechTrials`.

Each sound a listener heard is cut into segments of ``window_s`` every ``hop_s`` that lie
within it; a segment's brain window starts ``lag_s`` after the segment (the brain responds
later than the sound), at the decoder's rate. The features of a segment are those of its
sound's audio, so the same segment heard by several listeners has the same features.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.datasets.errors import DataError

from .alignment import refine_onsets
from .audio import Presentation, Sound, resample
from .features import AUDIO_SFREQ, FeatureSettings, clip_features
from .trials import SpeechTrials

if TYPE_CHECKING:
    import mne

BRAIN_TYPES = ("mag", "grad", "eeg", "seeg", "ecog", "dbs")
"""Channel types kept as brain signals."""


@dataclass(frozen=True)
class PairingSettings:
    """How windows and speech segments are paired.

    Parameters
    ----------
    window_s : float
        Segment (and window) length in seconds.
    lag_s : float
        The brain window starts this long after its speech segment.
    hop_s : float, optional
        Time between successive segments of a sound (default: ``window_s``, no overlap).
    sfreq : float
        Rate of the brain windows (recordings are resampled to it).
    sound_channel : str, optional
        A channel holding the sound as played: onsets are refined on it (see
        :mod:`decoders.speech.alignment`); None: the markers' onsets are used as they are.
    features : FeatureSettings
        The speech features.
    """

    window_s: float = 3.0
    lag_s: float = 0.15
    hop_s: float | None = None
    sfreq: float = 120.0
    sound_channel: str | None = None
    features: FeatureSettings = field(default_factory=FeatureSettings)

    @property
    def step_s(self) -> float:
        """Return the time between successive segments."""
        return self.hop_s or self.window_s

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-serialisable data."""
        return {**asdict(self), "features": self.features.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairingSettings:
        """Rebuild from :meth:`to_dict` output (extra keys, such as ``alignment``, ignored)."""
        own = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "features"}
        return cls(**own, features=FeatureSettings.from_dict(data["features"]))

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> PairingSettings:
        """Build from flat options (``window_s``, ``lag_s``, ..., and the feature settings')."""
        feature_keys = set(FeatureSettings.__dataclass_fields__)
        own_keys = set(cls.__dataclass_fields__) - {"features"}
        unknown = set(options) - feature_keys - own_keys
        if unknown:
            known = ", ".join(sorted(feature_keys | own_keys))
            raise DataError("speech options", f"unknown {sorted(unknown)} (known: {known})")
        features = FeatureSettings(**{k: v for k, v in options.items() if k in feature_keys})
        return cls(**{k: v for k, v in options.items() if k in own_keys}, features=features)


@dataclass(frozen=True)
class ListeningRun:
    """One recording of one listener and the sounds played during it.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording (brain channels and possibly a sound channel).
    presentations : sequence of Presentation
        The sounds and their onsets (from the markers).
    subject, block : int
        Listener and recording block (run or session) indices.
    name : str
        The recording's file or name, for messages.
    """

    raw: mne.io.BaseRaw
    presentations: Sequence[Presentation]
    subject: int
    block: int
    name: str


def pair_runs(runs: Sequence[ListeningRun], settings: PairingSettings, name: str) -> SpeechTrials:
    """Return the (window, segment) pairs of every run.

    Raises
    ------
    DataError
        When runs differ in channels, sounds overlap, or no sound is as long as a window.
    """
    if not runs:
        raise DataError(name, "holds no listening recording")
    sounds = sorted({p.sound.name for run in runs for p in run.presentations})
    label_of = {sound: index for index, sound in enumerate(sounds)}
    cache: dict[tuple[str, int], np.ndarray] = {}
    audio: dict[str, np.ndarray] = {}  # each sound at the feature rate, resampled once
    parts: dict[str, list] = {key: [] for key in ("data", "labels", "segments", "features")}
    groups, blocks = [], []
    first = None
    for run in runs:
        raw, presentations = _prepared(run, settings)
        if first is None:
            first = raw
        elif raw.ch_names != first.ch_names:
            raise DataError(run.name, f"has other brain channels than {runs[0].name}")
        signals = raw.get_data().astype(np.float32)
        n_times = round(settings.window_s * settings.sfreq)
        for presentation in presentations:
            for segment in range(segment_count(presentation.sound, settings)):
                begin = presentation.onset_s + segment * settings.step_s
                start = round((begin + settings.lag_s) * settings.sfreq)
                if start < 0 or start + n_times > signals.shape[1]:
                    continue
                key = (presentation.sound.name, segment)
                if key not in cache:
                    if key[0] not in audio:
                        sound = presentation.sound
                        audio[key[0]] = resample(sound.samples, sound.sfreq, AUDIO_SFREQ)
                    cache[key] = segment_features(audio[key[0]], segment, settings)
                parts["data"].append(signals[:, start : start + n_times])
                parts["labels"].append(label_of[key[0]])
                parts["segments"].append(segment)
                parts["features"].append(cache[key])
                groups.append(run.subject)
                blocks.append(run.block)
    if not parts["data"]:
        raise DataError(
            name, f"no sound is at least {settings.window_s:g} s long and fully recorded"
        )
    return SpeechTrials(
        data=np.stack(parts["data"]),
        labels=np.array(parts["labels"]),
        classes=tuple(sounds),
        sfreq=settings.sfreq,
        ch_names=tuple(first.ch_names),
        ch_types=tuple(first.get_channel_types()),
        name=name,
        groups=np.array(groups),
        blocks=np.array(blocks),
        ch_pos=positions_of(first.info),
        features=np.stack(parts["features"]),
        segments=np.array(parts["segments"]),
        speech={
            **settings.to_dict(),
            "alignment": f"sound channel {settings.sound_channel}"
            if settings.sound_channel
            else "event markers",
        },
    )


def _prepared(run: ListeningRun, settings: PairingSettings) -> tuple[mne.io.BaseRaw, list]:
    """Return the run's brain channels at the settings' rate and its aligned presentations."""
    presentations = sorted(run.presentations, key=lambda p: p.onset_s)
    if settings.sound_channel:
        presentations = refine_onsets(
            run.raw, settings.sound_channel, presentations, source=run.name
        )
    for before, after in itertools.pairwise(presentations):
        if after.onset_s < before.offset_s - 1e-3:
            raise DataError(
                run.name,
                f"{after.sound.name} starts at {after.onset_s:.3f} s, before "
                f"{before.sound.name} ends ({before.offset_s:.3f} s): sounds overlap",
            )
    picks = [
        index
        for index, kind in enumerate(run.raw.get_channel_types())
        if kind in BRAIN_TYPES and run.raw.ch_names[index] not in run.raw.info["bads"]
    ]
    if not picks:
        raise DataError(run.name, f"holds no brain channel (types {', '.join(BRAIN_TYPES)})")
    raw = run.raw.copy().pick(picks)
    if not np.isclose(raw.info["sfreq"], settings.sfreq):
        raw.resample(settings.sfreq, verbose="error")
    return raw, presentations


def segment_count(sound: Sound, settings: PairingSettings) -> int:
    """Return how many segments of ``settings`` lie within ``sound``."""
    spare = sound.duration_s - settings.window_s
    return 0 if spare < -1e-9 else int(np.floor(spare / settings.step_s + 1e-9)) + 1


def segment_features(audio: np.ndarray, segment: int, settings: PairingSettings) -> np.ndarray:
    """Return the features of segment ``segment`` of a sound given at :data:`AUDIO_SFREQ`."""
    start = round(segment * settings.step_s * AUDIO_SFREQ)
    clip = audio[start : start + round(settings.window_s * AUDIO_SFREQ)]
    return clip_features(clip, settings.features)


def positions_of(info: mne.Info) -> dict[str, np.ndarray] | None:
    """Return sensor positions (metres, head frame) by channel, or None when there are none.

    MEG sensor locations (device frame) are moved to the head frame by ``dev_head_t``.
    """
    import mne

    transform = info.get("dev_head_t")
    positions = {}
    for channel in info["chs"]:
        location = np.asarray(channel["loc"][:3], dtype=float)
        if not np.isfinite(location).all() or not np.any(location):
            continue
        if channel["kind"] == mne.io.constants.FIFF.FIFFV_MEG_CH and transform is not None:
            location = mne.transforms.apply_trans(transform, location)
        positions[channel["ch_name"]] = location
    return positions or None
