"""Training a decoder on a calibration recording, then exporting and registering it.

The training CLI's machinery: the same :func:`~decoders.training.runner.train` run folder
(weights, card, evaluation record, plots), exported to ONNX with parity checks and registered.
The work is staged (:mod:`.staging`): :func:`stage_training` trains and exports into a staging
folder, reporting its progress, and :func:`commit_training` moves the run folder into place
and registers the model; a :class:`CalibrationJob` does both, in this process or in a child.

Imports torch and the ``decoders`` package when called, never at import.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bci_app.models.registry import ModelRecord, ModelRegistry

from .calibration import CalibrationPlan
from .staging import place, run_staged

if TYPE_CHECKING:
    from decoders.training.runner import TrainingJob

RUN_FOLDER = "run"
MODEL_FILE = "model.onnx"
PROGRESS_PERIOD_S = 0.5


@dataclass(frozen=True)
class CalibrationResult:
    """A decoder trained on a calibration recording, registered for the live path.

    Parameters
    ----------
    record : ModelRecord
        The registered model.
    accuracy, balanced_accuracy, kappa : float
        Cross-validated scores on the calibration trials.
    chance : float
        Accuracy of guessing among equally frequent classes (the plan is balanced).
    n_trials : int
        Calibration trials used.
    folder : Path
        The training run folder (weights, card, evaluation record, plots).
    adapts_online : bool
        Whether the decoder learns from feedback trials (:func:`.adaptation.adapts_online`).
    """

    record: ModelRecord
    accuracy: float
    balanced_accuracy: float
    kappa: float
    chance: float
    n_trials: int
    folder: Path
    adapts_online: bool = False


def train_calibration(
    recording: Path,
    plan: CalibrationPlan,
    *,
    decoder: str,
    name: str,
    out: Path,
    registry_dir: Path | None = None,
    options: dict[str, Any] | None = None,
    protocol: str | None = None,
) -> CalibrationResult:
    """Train ``decoder`` on the cued trials of ``recording``, export it and register it.

    Parameters
    ----------
    recording : Path
        A recording whose annotations hold the plan's class names at the cue onsets (the FIF
        file a recorder exported, or any file a reader opens).
    plan : CalibrationPlan
        Classes and the training window (``tmin``, ``tmax`` from the cue).
    decoder : str
        Registered decoder name (``csp-lda``, ``rleegnet``...).
    name : str
        Model name in the registry (a new version is added).
    out : Path
        The training run folder (new, or empty).
    registry_dir : Path, optional
        The model registry (default registry when None).
    options : dict, optional
        Decoder options.
    protocol : str, optional
        Evaluation protocol of the calibration trials (default:
        :func:`calibration_protocol`).

    Raises
    ------
    decoders.datasets.errors.DataError
        When the recording lacks cued trials of some class, or has too few for the protocol.
    """
    job = CalibrationJob(
        recording, plan, decoder, name, out, registry_dir, options=options, protocol=protocol
    )
    return run_staged(job)


@dataclass(frozen=True)
class StagedModel:
    """A decoder trained and exported into a staging folder, not yet in place.

    Parameters
    ----------
    metrics : dict
        Cross-validated scores (mean over seeds): ``accuracy``, ``balanced_accuracy``...
    n_trials : int
        Trials the deployed decoder was fitted on.
    adapts_online : bool
        Whether the decoder learns from feedback trials.
    """

    metrics: dict[str, float]
    n_trials: int
    adapts_online: bool = False


def stage_training(job: TrainingJob, staging: Path, progress: Callable[[str], None]) -> StagedModel:
    """Train ``job`` into ``staging/run``, export it to ``staging/model.onnx`` (parity checked)."""
    from decoders.checkpoint import load_decoder
    from decoders.export.onnx_export import export_decoder
    from decoders.training.runner import train

    run = Path(staging) / RUN_FOLDER
    progress("reading the data")
    with _reporting(run, _fits(job), job.refit, progress):
        evaluation = train(job, run, progress=False)
    progress("exporting to ONNX (parity check)")
    decoder, card = load_decoder(run)
    export_decoder(decoder, Path(staging) / MODEL_FILE, card=card, allow_resample=True)
    metrics = {name: float(summary.mean) for name, summary in evaluation.metrics.items()}
    return StagedModel(metrics, int(card.data.get("n_trials", 0)))


def commit_training(staging: Path, out: Path, registry_dir: Path | None, name: str) -> ModelRecord:
    """Move the staged run folder to ``out`` and register the staged model as ``name``."""
    place(Path(staging) / RUN_FOLDER, out)
    return ModelRegistry(registry_dir).register(Path(staging) / MODEL_FILE, name)


def _fits(job: TrainingJob) -> int | None:
    """Return how many fits the evaluation makes (None when it depends on the data)."""
    folds = re.fullmatch(r"kfold(\d+)", job.protocol)
    if folds:
        return int(folds.group(1)) * len(job.seeds)
    return len(job.seeds) if job.protocol == "official" else None


@contextlib.contextmanager
def _reporting(
    run: Path, fits: int | None, refit: bool, progress: Callable[[str], None]
) -> Iterator[None]:
    """Report the fits the run folder's progress file counts while the block runs."""
    stop = threading.Event()

    def watch() -> None:
        shown = ""
        while not stop.wait(PROGRESS_PERIOD_S):
            done = _fits_done(run)
            if fits is not None and done >= fits:
                text = "refitting on every trial" if refit else "plotting"
            else:
                text = f"cross-validation: fit {done + 1}/{fits or '?'}"
            if text != shown:
                shown = text
                progress(text)

    thread = threading.Thread(target=watch, name="training-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _fits_done(run: Path) -> int:
    from decoders.training.runner import PROGRESS_NAME

    try:
        return len(json.loads((run / PROGRESS_NAME).read_text())["runs"])
    except (OSError, ValueError, KeyError):
        return 0


@dataclass(frozen=True)
class CalibrationJob:
    """A calibration training: staged, then moved into place and registered.

    Parameters
    ----------
    recording : Path
        The calibration recording (FIF).
    plan : CalibrationPlan
        Classes and training window.
    decoder : str
        Registered decoder name.
    name : str
        Model name in the registry.
    out : Path
        The training run folder (new, or empty).
    registry_dir : Path, optional
        The model registry (default registry when None).
    band : tuple of float, optional
        Band-pass of decoders that declare one (see :func:`band_options`).
    options : dict, optional
        Further decoder options.
    protocol : str, optional
        Evaluation protocol (default: :func:`calibration_protocol`).
    """

    recording: Path
    plan: CalibrationPlan
    decoder: str
    name: str
    out: Path
    registry_dir: Path | None = None
    band: tuple[float, float] | None = None
    options: dict[str, Any] | None = field(default=None, compare=False)
    protocol: str | None = None

    def stage(self, staging: Path, progress: Callable[[str], None]) -> StagedModel:
        """Train and export into ``staging``."""
        from decoders.training.runner import TrainingJob
        from decoders.training.sources import DataRequest

        from .adaptation import adapts_online

        plan = self.plan
        request = DataRequest(
            source=str(self.recording), classes=plan.classes, tmin=plan.tmin, tmax=plan.tmax
        )
        options = {**band_options(self.decoder, self.band), **(self.options or {})}
        protocol = self.protocol or calibration_protocol(plan)
        # cross-validated figures, then the decoder refitted on every calibration trial is deployed
        job = TrainingJob(self.decoder, request, protocol, (plan.seed,), options, refit=True)
        staged = stage_training(job, staging, progress)
        return replace(staged, adapts_online=adapts_online(self.decoder))

    def finish(self, staged: StagedModel, staging: Path) -> CalibrationResult:
        """Move the run folder into place and register the model."""
        record = commit_training(staging, self.out, self.registry_dir, self.name)
        metrics = staged.metrics
        return CalibrationResult(
            record,
            metrics["accuracy"],
            metrics["balanced_accuracy"],
            metrics["kappa"],
            1.0 / len(self.plan.classes),
            staged.n_trials,
            Path(self.out),
            staged.adapts_online,
        )


MIN_TRIALS_PER_CLASS = 8
"""Fewest trials per class the training machinery can fit, validate and cross-validate."""


def calibration_protocol(plan: CalibrationPlan) -> str:
    """Return the cross-validation of a calibration: 5-fold within the calibration trials.

    Raises
    ------
    ValueError
        With fewer than :data:`MIN_TRIALS_PER_CLASS` trials per class (each fold's training
        part is split again into fitting and validation trials, and the learning curve
        refits on fractions of it).
    """
    if plan.trials_per_class < MIN_TRIALS_PER_CLASS:
        raise ValueError(
            f"a calibration needs at least {MIN_TRIALS_PER_CLASS} trials per class to train and "
            f"evaluate a decoder (the plan has {plan.trials_per_class})"
        )
    return "kfold5"


def band_options(decoder: str, band: tuple[float, float] | None) -> dict[str, Any]:
    """Return the options declaring a band-pass for ``decoder``, when it takes one.

    Motor imagery lives in the mu and beta rhythms (about 8-30 Hz): decoders with a declared
    ``band`` option (CSP+LDA, RLEEGNet...) filter there before learning; the band becomes part
    of the exported model's preprocessing.
    """
    import inspect

    from decoders import registry

    if band is None:
        return {}
    parameters = inspect.signature(registry.get(decoder).load_class()).parameters
    return {"band": [float(band[0]), float(band[1])]} if "band" in parameters else {}


def trainable_decoders() -> list[str]:
    """Return the registered decoder names (``bci-app decoders``), classical ones first."""
    from decoders.registry import REGISTRY

    preferred = ["csp-lda", "cov-ts-lr", "rleegnet", "eegnet", "shallow-fbcsp"]
    return [name for name in preferred if name in REGISTRY] + sorted(
        name for name in REGISTRY if name not in preferred
    )
