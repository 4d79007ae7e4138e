"""Simulated tasks by name: trial sets and continuous recordings with known ground truth.

Each task lives in one module of this package that registers a simulator class with
:func:`register`; :data:`TASK_MODULES` lists those modules, imported on first use so that this
registry stays light. A simulator class is built as ``cls(seed=..., **options)`` and offers
``trials()`` and ``raw(duration_s, subject)`` (the :class:`Simulator` protocol); one that can
also write its recordings as files on disk offers ``write_corpus(root)`` (:func:`write_corpus`).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .errors import SimulatorError

if TYPE_CHECKING:
    import mne

    from decoders.datasets.trials import TrialSet

TASK_MODULES = (
    "decoders.simulators.motor_imagery",
    "decoders.simulators.drift",
    "decoders.simulators.abnormal_eeg",
    "decoders.simulators.seizure",
    "decoders.simulators.seeg_words",
    "decoders.simulators.speech_listening",
    "decoders.simulators.artifact_task",
)
"""Modules that register a simulated task when imported; add one line per new task."""


class Simulator(Protocol):
    """What a registered simulator offers.

    ``options`` holds the task's options: a dataclass whose init fields are the keyword
    options of the registry calls, or a dict of them.
    """

    classes: tuple[str, ...]
    options: Any

    def trials(self) -> TrialSet:
        """Return the simulated trial set of every subject and run."""

    def raw(self, duration_s: float = 60.0, subject: int = 0) -> mne.io.RawArray:
        """Return one continuous recording of ``subject`` with its cues as annotations."""


@dataclass(frozen=True)
class SimulatedTask:
    """A registered task: its name, one-line description and simulator class."""

    name: str
    description: str
    factory: Callable[..., Simulator]


_TASKS: dict[str, SimulatedTask] = {}
_Factory = TypeVar("_Factory", bound=Callable[..., Simulator])


def register(name: str, description: str) -> Callable[[_Factory], _Factory]:
    """Return a class decorator that registers a simulator under ``name``."""

    def decorate(factory: _Factory) -> _Factory:
        _TASKS[name] = SimulatedTask(name, description, factory)
        return factory

    return decorate


def available_tasks() -> list[str]:
    """Return the names of the simulated tasks, sorted."""
    _load_tasks()
    return sorted(_TASKS)


def describe_task(task: str) -> str:
    """Return the one-line description of ``task``."""
    return _task(task).description


def default_options(task: str) -> dict[str, Any]:
    """Return the options of ``task`` with their default values.

    They are the init fields of the simulator's ``options`` dataclass, the items of its
    ``options`` dict, or, for a simulator taking its options as keyword arguments alone,
    those arguments' defaults.
    """
    simulator = make_simulator(task)
    options = getattr(simulator, "options", None)
    if options is None:
        parameters = inspect.signature(type(simulator)).parameters.values()
        return {p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY}
    if isinstance(options, dict):
        return {name: value for name, value in options.items() if name != "seed"}
    return {item.name: getattr(options, item.name) for item in fields(options) if item.init}


def make_simulator(task: str, *, seed: int = 0, **options: object) -> Simulator:
    """Return the simulator of ``task`` seeded with ``seed``; the options are the task's."""
    return _task(task).factory(seed=seed, **options)


def simulate_trials(task: str, *, seed: int = 0, **options: object) -> TrialSet:
    """Return the simulated trial set of ``task``.

    Parameters
    ----------
    task : str
        One of :func:`available_tasks`.
    seed : int
        Same seed and options give identical trials.
    **options
        Task options (for example ``channels``, ``sfreq``, ``n_subjects``, ``snr_db``).

    Returns
    -------
    trials : TrialSet
        Trials in volts with ``groups`` holding the subject index, ``blocks`` the run index and
        ``ch_pos`` the sensor positions.
    """
    return make_simulator(task, seed=seed, **options).trials()


def simulate_raw(
    task: str, *, seed: int = 0, duration_s: float = 60.0, subject: int = 0, **options: object
) -> mne.io.RawArray:
    """Return a continuous simulated recording of ``task`` for a live pipeline.

    Parameters
    ----------
    task : str
        One of :func:`available_tasks`.
    seed : int
        Same seed and options give an identical recording.
    duration_s : float
        Length of the recording in seconds.
    subject : int
        Simulated subject; with the same seed it is the subject of the trial set's
        ``groups == subject`` (same anatomy and physiology, new noise and trial order).
    **options
        Task options.

    Returns
    -------
    raw : mne.io.RawArray
        Signals in volts with channel types and positions, the line frequency, and the
        paradigm as annotations (the class names mark the cues).
    """
    return make_simulator(task, seed=seed, **options).raw(duration_s=duration_s, subject=subject)


def corpus_tasks() -> list[str]:
    """Return the names of the tasks that write their recordings as a corpus of files, sorted."""
    _load_tasks()
    return sorted(name for name, task in _TASKS.items() if hasattr(task.factory, "write_corpus"))


def write_corpus(task: str, root: str | Path, *, seed: int = 0, **options: object) -> Path:
    """Simulate ``task`` and write its recordings as files under ``root`` (a new folder).

    Parameters
    ----------
    task : str
        One of :func:`corpus_tasks`.
    root : str | Path
        New or empty folder.
    seed : int
        Same seed and options give identical files.
    **options
        Task options.

    Returns
    -------
    root : Path
        The corpus folder, with the task's layout and its ground truth.
    """
    simulator = make_simulator(task, seed=seed, **options)
    if not hasattr(simulator, "write_corpus"):
        known = ", ".join(corpus_tasks())
        raise SimulatorError(
            f"simulated task '{task}'", f"writes no corpus of files (tasks that do: {known})"
        )
    return simulator.write_corpus(root)


def _task(task: str) -> SimulatedTask:
    """Return the registered task ``task`` or raise a clear error."""
    _load_tasks()
    if task not in _TASKS:
        known = ", ".join(sorted(_TASKS))
        raise SimulatorError(f"simulated task '{task}'", f"unknown task (available: {known})")
    return _TASKS[task]


def _load_tasks() -> None:
    """Import every task module so that it registers itself."""
    for module in TASK_MODULES:
        importlib.import_module(module)
