"""What a player can stream: a recording file, a real recording by name, or a simulator.

The same choices as ``bci-app play``, as one function the GUI's player dialog calls in a
worker thread (reading files and simulating take seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mne

RECORDINGS = ("meg-eeg", "ecog-lfp")
"""Real recordings playable by name (fetched by ``bci-app data fetch``)."""


@dataclass(frozen=True)
class PlaySource:
    """A source to stream.

    Parameters
    ----------
    kind : str
        ``file``, ``recording`` (a name of :data:`RECORDINGS`) or ``simulator`` (a task).
    value : str
        The path, recording name or simulated task.
    seed : int
        Simulator seed.
    duration_s : float
        Simulated duration in seconds.
    """

    kind: str
    value: str
    seed: int = 0
    duration_s: float = 120.0

    def __post_init__(self) -> None:
        if self.kind not in ("file", "recording", "simulator"):
            raise ValueError(f"unknown source kind {self.kind!r} (file, recording, simulator)")
        if not self.value.strip():
            raise ValueError(f"no {self.kind} given")
        if self.kind == "recording" and self.value not in RECORDINGS:
            raise ValueError(f"unknown recording {self.value!r} (known: {', '.join(RECORDINGS)})")

    @property
    def default_name(self) -> str:
        """Return the stream name ``bci-app play`` would give."""
        if self.kind == "simulator":
            return f"sim-{self.value}"
        if self.kind == "recording":
            return self.value
        return Path(self.value).name.split(".")[0]

    @property
    def origin(self) -> str:
        """Return the text stored as the stream's origin."""
        if self.kind == "simulator":
            return f"simulator {self.value} (seed {self.seed})"
        if self.kind == "recording":
            return f"real recording {self.value}"
        return str(self.value)


def load_source(source: PlaySource) -> mne.io.BaseRaw:
    """Return the recording to stream (reads the file or runs the simulator).

    Raises
    ------
    decoders.datasets.errors.DataError
        For a missing, unknown or broken file (naming it).
    decoders.simulators.errors.SimulatorError
        For an unknown task or bad options.
    """
    if source.kind == "simulator":
        from decoders.simulators.registry import simulate_raw

        return simulate_raw(source.value, seed=source.seed, duration_s=source.duration_s)
    if source.kind == "recording":
        from decoders.datasets.loaders import load_ecog_lfp, load_meg_eeg

        return {"meg-eeg": load_meg_eeg, "ecog-lfp": load_ecog_lfp}[source.value]()
    from decoders.datasets.readers import read_recording

    return read_recording(Path(source.value))


def simulated_tasks() -> list[str]:
    """Return the simulated tasks a player can stream."""
    from decoders.simulators.registry import available_tasks

    return available_tasks()
