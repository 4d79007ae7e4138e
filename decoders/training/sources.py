"""Training data from a name or a path: trial sets, recordings, labelled folders, simulators."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from decoders.datasets.errors import DataError
from decoders.datasets.trials import OfficialSplit, TrialSet

from .epoching import crop_trials, epochs_from_annotations, read_label_file

SIMULATOR_PREFIX = "simulate:"


@dataclass(frozen=True)
class DataRequest:
    """Where training trials come from and how they are labelled and cut.

    Parameters
    ----------
    source : str
        A catalog name (``bci-app data list``), ``simulate:TASK``, a recording file, a BIDS
        folder, or a folder of class sub-folders (``normal/``, ``abnormal/``).
    classes : tuple of str, optional
        Event names used as classes when epoching a recording.
    label_file : Path, optional
        CSV/TSV with ``onset`` and ``label`` columns, for recordings without events.
    tmin, tmax : float
        Epoch window around each event, seconds.
    window_s : float
        Window length for folders labelled by class.
    crop : tuple of float, optional
        Part of each trial kept (start, stop in seconds).
    speech : dict, optional
        The source is a speech-listening data set (a BIDS folder or a listening simulator):
        pair brain windows with the speech heard, with these options of
        :meth:`~decoders.speech.pairing.PairingSettings.from_options` (empty: the defaults).
    """

    source: str
    classes: tuple[str, ...] | None = None
    label_file: Path | None = None
    tmin: float = 0.0
    tmax: float = 1.0
    window_s: float = 2.0
    crop: tuple[float, float] | None = None
    speech: dict[str, Any] | None = None


def load_training_data(request: DataRequest) -> TrialSet | OfficialSplit:
    """Return the labelled trials the request names (an official split where one exists)."""
    data = _load(request)
    if request.crop is None:
        return data
    start, stop = request.crop
    if isinstance(data, OfficialSplit):
        return OfficialSplit(
            crop_trials(data.train, start, stop), crop_trials(data.test, start, stop)
        )
    return crop_trials(data, start, stop)


def _load(request: DataRequest) -> TrialSet | OfficialSplit:
    from decoders.datasets.catalog import CATALOG

    source = request.source
    if request.speech is not None:
        return _speech(source, request.speech)
    if source.startswith(SIMULATOR_PREFIX):
        from decoders.simulators.registry import simulate_trials

        return simulate_trials(source.removeprefix(SIMULATOR_PREFIX))
    entry = CATALOG.get(source)
    if entry is not None and entry.kind == "trials":
        from decoders.datasets.loaders import load_trial_set

        return load_trial_set(source)
    if entry is not None:
        from decoders.datasets.loaders import load_ecog_lfp, load_meg_eeg

        raw = {"meg-eeg": load_meg_eeg, "ecog-lfp": load_ecog_lfp}[source]()
        return _epochs(raw, request, source)
    path = Path(source)
    if path.is_dir() and not (path / "dataset_description.json").is_file():
        from decoders.datasets.labelled_folders import find_labelled_files, labelled_windows

        return labelled_windows(
            find_labelled_files(path, classes=request.classes), request.window_s, name=path.name
        )
    if not path.exists():
        raise DataError(source, "is neither a known data set (bci-app data list) nor a file")
    from decoders.datasets.readers import read_recording

    return _epochs(read_recording(path), request, path.name)


def _speech(source: str, options: dict[str, Any]) -> TrialSet:
    """Return the (window, speech segment) pairs of a listening data set or simulator."""
    from decoders.speech.bids import read_listening_bids
    from decoders.speech.pairing import PairingSettings

    settings = PairingSettings.from_options(options)
    if source.startswith(SIMULATOR_PREFIX):
        from decoders.simulators.registry import make_simulator
        from decoders.simulators.speech_listening import SpeechListening

        simulator = make_simulator(source.removeprefix(SIMULATOR_PREFIX))
        if not isinstance(simulator, SpeechListening):
            raise DataError(source, "is not a speech-listening simulator (speech_meg, speech_eeg)")
        return simulator.trials(settings)
    return read_listening_bids(Path(source), settings)


def _epochs(raw, request: DataRequest, name: str) -> TrialSet:
    import mne

    if request.label_file is not None:
        onsets, labels = read_label_file(request.label_file)
        raw = raw.copy().set_annotations(
            mne.Annotations(onsets, [0.0] * len(onsets), labels, orig_time=None)
        )
    trials = epochs_from_annotations(
        raw,
        source=name,
        classes=list(request.classes) if request.classes else None,
        tmin=request.tmin,
        tmax=request.tmax,
    )
    return replace(trials, name=name)
