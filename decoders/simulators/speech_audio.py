"""Real synthesised speech for the listening simulators: espeak-ng, from the PyPI wheel.

``espeakng-loader`` ships libespeak-ng and its voice data inside a wheel, so synthesis needs
no system package; the library is driven through ctypes (synchronous synthesis into a
callback). Sentences are drawn from a small grammar (seeded), so a simulated data set can
hold as many distinct sentences as asked; each passage (a sound file) is several sentences
read by one voice setting (rate, pitch), with pauses between them.
"""

from __future__ import annotations

import ctypes
import threading
from functools import lru_cache

import numpy as np

from .errors import SimulatorError

_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS
_RATE, _PITCH = 1, 3  # espeak_PARAMETER values
_CHARS_AUTO = 0
_LOCK = threading.Lock()
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

_WORDS = {
    "adjective": [
        "small",
        "old",
        "bright",
        "quiet",
        "heavy",
        "green",
        "careful",
        "sudden",
        "distant",
        "gentle",
        "clever",
        "narrow",
        "warm",
        "empty",
        "busy",
        "silver",
    ],
    "noun": [
        "farmer",
        "river",
        "teacher",
        "window",
        "garden",
        "doctor",
        "kitten",
        "engine",
        "village",
        "letter",
        "painter",
        "ladder",
        "market",
        "sailor",
        "mirror",
        "basket",
    ],
    "verb": [
        "carried",
        "followed",
        "painted",
        "noticed",
        "opened",
        "watched",
        "repaired",
        "visited",
        "found",
        "pushed",
        "cleaned",
        "described",
    ],
    "place": [
        "near the old bridge",
        "behind the station",
        "after the long storm",
        "before sunrise",
        "in the crowded hall",
        "under the tall trees",
        "across the valley",
        "at the end of summer",
    ],
}


class Synthesizer:
    """espeak-ng speaking English into arrays (one process-wide library, used under a lock)."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as error:
            raise SimulatorError(
                "speech synthesis",
                "needs the espeakng-loader package (pip install espeakng-loader)",
            ) from error
        self.library = ctypes.CDLL(espeakng_loader.get_library_path())
        self.library.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        self.library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.library.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.library.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data = espeakng_loader.get_data_path().encode()
        self.sfreq = float(self.library.espeak_Initialize(_SYNCHRONOUS, 0, data, 0))
        if self.sfreq <= 0:
            raise SimulatorError("speech synthesis", "libespeak-ng failed to initialise")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._receive)
        self.library.espeak_SetSynthCallback(self._callback)
        if self.library.espeak_SetVoiceByName(b"en") != 0:
            raise SimulatorError("speech synthesis", "espeak-ng has no English voice")

    def _receive(self, samples, count, _events) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0

    def speak(self, text: str, rate_wpm: int = 170, pitch: int = 50) -> np.ndarray:
        """Return ``text`` spoken as float samples at :attr:`sfreq` (full scale 1)."""
        encoded = text.encode()
        with _LOCK:
            self._chunks = []
            self.library.espeak_SetParameter(_RATE, int(rate_wpm), 0)
            self.library.espeak_SetParameter(_PITCH, int(pitch), 0)
            status = self.library.espeak_Synth(
                encoded, len(encoded) + 1, 0, 1, 0, _CHARS_AUTO, None, None
            )
            self.library.espeak_Synchronize()
            chunks = self._chunks
        if status != 0 or not chunks:
            raise SimulatorError("speech synthesis", f"espeak-ng could not say {text!r}")
        return np.concatenate(chunks).astype(np.float64) / 32768.0


@lru_cache(maxsize=1)
def synthesizer() -> Synthesizer:
    """Return the process-wide synthesizer."""
    return Synthesizer()


def sentences(rng: np.random.Generator, count: int) -> list[str]:
    """Return ``count`` distinct sentences drawn from the grammar."""
    made: list[str] = []
    while len(made) < count:
        pick = {kind: words[rng.integers(len(words))] for kind, words in _WORDS.items()}
        other = _WORDS["noun"][rng.integers(len(_WORDS["noun"]))]
        sentence = (
            f"The {pick['adjective']} {pick['noun']} {pick['verb']} the {other} {pick['place']}."
        )
        if sentence not in made:
            made.append(sentence)
    return made


def passage(
    texts: list[str], rng: np.random.Generator, pause_s: float = 0.3
) -> tuple[np.ndarray, float]:
    """Return several sentences read by one random voice setting, and the audio rate."""
    speaker = synthesizer()
    rate, pitch = int(rng.integers(150, 191)), int(rng.integers(35, 66))
    pause = np.zeros(round(pause_s * speaker.sfreq))
    parts = []
    for text in texts:
        parts += [speaker.speak(text, rate, pitch), pause]
    return np.concatenate(parts), speaker.sfreq
