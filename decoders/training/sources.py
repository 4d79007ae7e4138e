"""Training data from a name or a path: trials, recordings, folders, simulators, seizures.

A request may name its own test data (``test_source``): another readable input, whose trials
are cut with the same classes and window and brought to the training trials' channels and
rate; or a part of a multi-recording source (``session:02``, ``run:3``, ``subject:05`` of a
BIDS data set; ``session:2`` of session folders). Either gives an
:class:`~decoders.datasets.trials.OfficialSplit` that the ``official`` protocol evaluates
with the test part sealed. Seizure recordings come back whole, as a
:class:`~decoders.datasets.seizures.SeizureCorpus`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from decoders.datasets.errors import DataError
from decoders.datasets.matching import TrialShape, match_trials, select_classes
from decoders.datasets.seizures import SeizureCorpus
from decoders.datasets.trials import OfficialSplit, TrialSet

from .bids_trials import BIDS_ENTITIES
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
        ``simulate:TASK?KEY=VALUE&...``), a recording file, a file of trials (``.ts``,
        ``-epo.fif``, ``.npz``), a BIDS folder, a CHB-MIT folder, or a folder of class
        sub-folders (``normal/``, ``abnormal/``).
    classes : tuple of str, optional
        Event names used as classes (for trial files: the classes kept, in this order).
    label_file : Path, optional
        CSV/TSV with ``onset`` and ``label`` columns, for a training recording without events
        (a test recording is labelled by its own events).
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
    test_source : str, optional
        The test part: any readable input like ``source``, or ``ENTITY:VALUE`` naming a part
        of ``source`` (``session``, ``run`` or ``subject`` of a BIDS data set, ``session``
        of session folders).
    sfreq : float, optional
        Sampling rate of trial files that do not state it (``.ts``).
    unit : str, optional
        Unit of trial files that do not state it (``.ts``; default microvolts).
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
    test_source: str | None = None
    sfreq: float | None = None
    unit: str | None = None


def part_selector(test_source: str | None) -> tuple[str, str] | None:
    """Return ``(entity, value)`` when ``test_source`` names a part (``session:02``), else None."""
    if test_source is None or Path(test_source).exists():
        return None
    entity, separator, value = test_source.partition(":")
    if separator and entity.lower() in BIDS_ENTITIES and value:
        return BIDS_ENTITIES[entity.lower()], value
    return None


def load_training_data(request: DataRequest) -> TrialSet | OfficialSplit | SeizureCorpus:
    """Return the labelled trials the request names (an official split where one exists).

    Seizure recordings (a CHB-MIT folder, ``simulate:seizure``) come back as a
    :class:`~decoders.datasets.seizures.SeizureCorpus`, windowed per fold by the forecasting
    evaluation.
    """
    part = part_selector(request.test_source)
    data = _load(request.source, request, part)
    if isinstance(data, SeizureCorpus) and request.test_source is not None:
        raise DataError(
            request.source,
            "seizure recordings are evaluated seizure by seizure (--protocol seizures); "
            "--test-data is for trial data",
        )
    if request.test_source is not None and part is None:
        test = _load(request.test_source, replace(request, label_file=None), None)
        data = own_split(data, test, request)
    if request.crop is None or isinstance(data, SeizureCorpus):
        return data
    start, stop = request.crop
    if isinstance(data, OfficialSplit):
        return replace(
            data,
            train=crop_trials(data.train, start, stop),
            test=crop_trials(data.test, start, stop),
        )
    return crop_trials(data, start, stop)


def own_split(
    train: TrialSet | OfficialSplit, test: TrialSet | OfficialSplit, request: DataRequest
) -> OfficialSplit:
    """Return the user's own split: ``test`` brought to ``train``'s channels, rate and classes."""
    for part, source in ((train, request.source), (test, request.test_source)):
        if isinstance(part, OfficialSplit):
            raise DataError(
                source,
                "already has its own train/test split; give it alone as --data, or give "
                "single parts as --data and --test-data",
            )
    test, notes = match_trials(test, TrialShape.of(train))
    description = f"the user's own split: train {request.source}, test {request.test_source}"
    return OfficialSplit(train, test, description + "".join(f"; test {n}" for n in notes))


def _load(
    source: str, request: DataRequest, part: tuple[str, str] | None
) -> TrialSet | OfficialSplit | SeizureCorpus:
    from decoders.datasets.catalog import CATALOG
    from decoders.datasets.readers import is_trial_file

    if request.speech is not None:
        return _speech(source, request.speech)
    entry = CATALOG.get(source)
    path = Path(source)
    if part is not None and not path.is_dir():
        raise DataError(
            source,
            f"has no parts to choose '{part[0]}:{part[1]}' from: name a test file instead, or "
            "give a BIDS data set or a folder of session folders",
        )
    if source.startswith(SIMULATOR_PREFIX):
        from decoders.simulators.registry import make_simulator

        task, options = parse_simulator_source(source)
        seed = int(options.pop("seed", 0))  # type: ignore[call-overload]
        simulator = make_simulator(task, seed=seed, **options)
        data = simulator.corpus() if hasattr(simulator, "corpus") else simulator.trials()
        query = source.partition("?")[2]
        return replace(data, name=f"{data.name}?{query}") if query else data
    if entry is not None and entry.kind == "trials":
        from decoders.datasets.loaders import load_trial_set

        return load_trial_set(source)
    if entry is not None:
        from decoders.datasets.loaders import load_ecog_lfp, load_meg_eeg

        raw = {"meg-eeg": load_meg_eeg, "ecog-lfp": load_ecog_lfp}[source]()
        return _epochs(raw, request, source)
    from decoders.datasets.chbmit import is_chbmit, read_chbmit

    if is_chbmit(path):
        return read_chbmit(path)
    if path.is_dir():
        return _load_folder(path, request, part)
    if not path.exists():
        raise DataError(source, "is neither a known data set (bci-app data list) nor a file")
    if is_trial_file(path):
        from decoders.datasets.readers import read_trials

        trials = read_trials(path, sfreq=request.sfreq, unit=request.unit)
        return select_classes(trials, request.classes) if request.classes else trials
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


def _load_folder(
    path: Path, request: DataRequest, part: tuple[str, str] | None
) -> TrialSet | OfficialSplit:
    if (path / "dataset_description.json").is_file():
        from .bids_trials import bids_trials

        return bids_trials(path, lambda raw, name: _epochs(raw, request, name), part)
    from decoders.datasets.labelled_folders import find_labelled_files, labelled_data

    if part is not None and part[0] != "session":
        raise DataError(
            path,
            f"folders labelled by class name sessions (session-*/), not {part[0]}s; "
            "BIDS data sets can name a run or subject",
        )
    return labelled_data(
        find_labelled_files(path, classes=request.classes),
        request.window_s,
        test_session=part[1] if part else None,
        name=path.name,
    )


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
