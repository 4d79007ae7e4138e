"""Training data from a name or a path: trials, recordings, folders, simulators, seizures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from decoders.datasets.errors import DataError
from decoders.datasets.seizures import SeizureCorpus
from decoders.datasets.trials import OfficialSplit, TrialSet

from .epoching import crop_trials, epochs_from_annotations, read_label_file

SIMULATOR_PREFIX = "simulate:"
"""``simulate:TASK`` names a simulated task; ``simulate:TASK?KEY=VALUE&KEY=VALUE`` sets its
options (``seed`` seeds the simulation; the others are the task's, ``bci-app data list``)."""


@dataclass(frozen=True)
class DataRequest:
    """Where training trials come from and how they are labelled and cut.

    Parameters
    ----------
    source : str
        A catalog name (``bci-app data list``), ``simulate:TASK`` (with options:
        ``simulate:TASK?KEY=VALUE&...``), a recording file, a BIDS folder, or a folder of class
        sub-folders (``normal/``, ``abnormal/``).
    classes : tuple of str, optional
        Event names used as classes when epoching a recording.
    label_file : Path, optional
        CSV/TSV with ``onset`` and ``label`` columns, for recordings without events.
    tmin, tmax : float
        Epoch window around each event, seconds.
    window_s : float
        Window length for folders labelled by class and for seizure forecasting.
    crop : tuple of float, optional
        Part of each trial kept (start, stop in seconds).
    forecast : dict
        Seizure-forecasting settings (fields of
        :class:`~decoders.datasets.forecast_windows.ForecastSettings`) for seizure recordings.
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
    forecast: dict[str, Any] = field(default_factory=dict)
    speech: dict[str, Any] | None = None


def load_training_data(request: DataRequest) -> TrialSet | OfficialSplit | SeizureCorpus:
    """Return the labelled trials the request names (an official split where one exists).

    Seizure recordings (a CHB-MIT folder, ``simulate:seizure``) come back as a
    :class:`~decoders.datasets.seizures.SeizureCorpus`, windowed per fold by the forecasting
    evaluation.
    """
    data = _load(request)
    if request.crop is None or isinstance(data, SeizureCorpus):
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
        from decoders.simulators.registry import make_simulator

        task, options = parse_simulator_source(source)
        seed = int(options.pop("seed", 0))  # type: ignore[call-overload]
        simulator = make_simulator(task, seed=seed, **options)
        data = simulator.corpus() if hasattr(simulator, "corpus") else simulator.trials()
        query = source.partition("?")[2]
        return replace(data, name=f"{data.name}?{query}") if query else data
    entry = CATALOG.get(source)
    if entry is not None and entry.kind == "trials":
        from decoders.datasets.loaders import load_trial_set

        return load_trial_set(source)
    if entry is not None:
        from decoders.datasets.loaders import load_ecog_lfp, load_meg_eeg

        raw = {"meg-eeg": load_meg_eeg, "ecog-lfp": load_ecog_lfp}[source]()
        return _epochs(raw, request, source)
    path = Path(source)
    from decoders.datasets.chbmit import is_chbmit, read_chbmit

    if is_chbmit(path):
        return read_chbmit(path)
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

        task, simulator_options = parse_simulator_source(source)
        simulator = make_simulator(task, **simulator_options)
        if not isinstance(simulator, SpeechListening):
            raise DataError(source, "is not a speech-listening simulator (speech_meg, speech_eeg)")
        return simulator.trials(settings)
    return read_listening_bids(Path(source), settings)


def with_simulator_options(source: str, pairs: list[str]) -> str:
    """Return ``simulate:TASK`` with ``KEY=VALUE`` pairs added to its options.

    Raises
    ------
    DataError
        When ``source`` is not a simulator or a pair is not ``KEY=VALUE``.
    """
    if not pairs:
        return source
    if not source.startswith(SIMULATOR_PREFIX):
        raise DataError(source, f"simulator options are for {SIMULATOR_PREFIX}TASK data only")
    for pair in pairs:
        key, separator, _ = pair.partition("=")
        if not separator or not key.strip():
            raise DataError(pair, "a simulator option is KEY=VALUE")
    return source + ("&" if "?" in source else "?") + "&".join(pairs)


def parse_simulator_source(source: str) -> tuple[str, dict[str, object]]:
    """Return the task and options of ``simulate:TASK?KEY=VALUE&...``.

    A value is read as JSON when it can be (numbers, ``true``, ``[8, 30]``), else as a
    comma-separated list when it holds commas, else as text.

    Raises
    ------
    DataError
        When the options are not ``KEY=VALUE`` pairs joined by ``&``.
    """
    task, _, query = source.removeprefix(SIMULATOR_PREFIX).partition("?")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as error:
        raise DataError(
            source, f"simulator options are KEY=VALUE pairs joined by '&' ({error})"
        ) from error
    return task, {key.strip(): _option_value(value) for key, value in pairs}


def _option_value(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if "," in text:
            return [_option_value(part.strip()) for part in text.split(",")]
        return text


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
