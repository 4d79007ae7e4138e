"""Options of the abnormal-EEG simulator, checked with errors naming the option."""

from __future__ import annotations

from dataclasses import dataclass, field

from .abnormalities import KINDS
from .errors import SimulatorError
from .montages import TUH_LAYOUT, select_channels
from .options import as_number, options_from

TASK = "abnormal_eeg"
MIN_DURATION_S = 20.0
"""The shortest recording (s): focal slowing comes in bursts that start within 10 s."""

_NUMBERS = {
    "n_subjects": int,
    "recordings_per_subject": int,
    "recording_s": float,
    "window_s": float,
    "abnormal_fraction": float,
    "snr_db": float,
    "spikes_per_min": float,
    "eval_fraction": float,
}


@dataclass(frozen=True)
class AbnormalEEGOptions:
    """Options of the abnormal-EEG simulator (all keyword options of the registry calls).

    Attributes
    ----------
    n_subjects, recordings_per_subject : int
        Corpus size.
    recording_s : float
        Length of each recording of the corpus, whole seconds, at least 20.
    window_s : float
        Window length of the trial set (:meth:`.AbnormalEEGSimulator.trials`).
    channels : tuple of str
        10-20/10-10 electrode names (default: the 19 of the TUH corpus).
    sfreq : float | tuple of float
        Sampling rate in whole Hz (at least 100), or several given to subjects in turn.
    abnormal_fraction : float
        Share of subjects that are patients (rounded to whole subjects).
    kinds : tuple of str
        Kinds of abnormality drawn for patients' recordings (see :mod:`.abnormalities`).
    snr_db : float
        Mean SNR the abnormal features aim at (see :mod:`.abnormal_eeg`).
    spikes_per_min : float
        Mean rate of interictal spikes, varied x0.5-1.5 per recording.
    line_freq : float, optional
        Power-line frequency in Hz (60 as in the TUH corpus); ``None`` for no line noise.
    eval_fraction : float
        Share of each class's subjects written to the ``eval`` split of a corpus.
    """

    n_subjects: int = 10
    recordings_per_subject: int = 2
    recording_s: float = 300.0
    window_s: float = 10.0
    channels: tuple[str, ...] = TUH_LAYOUT
    sfreq: float | tuple[float, ...] = 250.0
    abnormal_fraction: float = 0.5
    kinds: tuple[str, ...] = KINDS
    snr_db: float = 0.0
    spikes_per_min: float = 4.0
    line_freq: float | None = 60.0
    eval_fraction: float = 0.3
    ch_names: tuple[str, ...] = field(init=False, repr=False)
    sfreqs: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.channels, str):
            raise SimulatorError(TASK, f"channels must be a list of names, got '{self.channels}'")
        for name, kind in _NUMBERS.items():
            object.__setattr__(self, name, as_number(getattr(self, name), kind, name, TASK))
        if self.line_freq is not None:
            object.__setattr__(
                self, "line_freq", as_number(self.line_freq, float, "line_freq", TASK)
            )
        kinds = (self.kinds,) if isinstance(self.kinds, str) else tuple(self.kinds)
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "channels", tuple(self.channels))
        rates = self.sfreq if isinstance(self.sfreq, list | tuple) else (self.sfreq,)
        sfreqs = tuple(as_number(rate, float, "sfreq", TASK) for rate in rates)
        object.__setattr__(self, "sfreqs", sfreqs)
        object.__setattr__(self, "ch_names", select_channels(self.channels))
        self._check()

    @classmethod
    def from_options(cls, options: dict[str, object]) -> AbnormalEEGOptions:
        """Return the options from keyword arguments, naming any unknown one."""
        return options_from(cls, options, TASK)

    def _check(self) -> None:
        problems = []
        for name in ("n_subjects", "recordings_per_subject"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1")
        if self.recording_s < MIN_DURATION_S or self.recording_s != round(self.recording_s):
            problems.append(
                f"recording_s must be whole seconds, at least {MIN_DURATION_S:.0f}, got "
                f"{self.recording_s}"
            )
        if not 0 < self.window_s <= self.recording_s:
            problems.append(f"window_s must be within 0..recording_s, got {self.window_s}")
        if not self.sfreqs or any(r < 100 or r != round(r) for r in self.sfreqs):
            problems.append(f"sfreq must be whole Hz, at least 100, got {self.sfreq}")
        if not 0.0 <= self.abnormal_fraction <= 1.0:
            problems.append(f"abnormal_fraction must be within 0..1, got {self.abnormal_fraction}")
        unknown = [kind for kind in self.kinds if kind not in KINDS]
        if unknown or not self.kinds or len(set(self.kinds)) != len(self.kinds):
            problems.append(f"kinds must be distinct names of {KINDS}, got {self.kinds}")
        if self.spikes_per_min <= 0:
            problems.append(f"spikes_per_min must be positive, got {self.spikes_per_min}")
        if self.line_freq is not None and self.line_freq <= 0:
            problems.append(f"line_freq must be positive or None, got {self.line_freq}")
        if not 0.0 <= self.eval_fraction < 1.0:
            problems.append(
                f"eval_fraction must be within 0..1 (1 excluded), got {self.eval_fraction}"
            )
        if problems:
            raise SimulatorError(TASK, "; ".join(problems))
