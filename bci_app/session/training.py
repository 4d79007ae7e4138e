"""Training a decoder on a calibration recording, then exporting and registering it.

The training CLI's machinery: the same :func:`~decoders.training.runner.train` run folder
(weights, card, evaluation record, plots), exported to ONNX with parity checks and registered.

Imports torch and the ``decoders`` package when called, never at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bci_app.models.registry import ModelRecord

from .calibration import CalibrationPlan


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
    """

    record: ModelRecord
    accuracy: float
    balanced_accuracy: float
    kappa: float
    chance: float
    n_trials: int
    folder: Path


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
        The training run folder.
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
    from bci_app.models.publish import publish
    from decoders.checkpoint import load_decoder
    from decoders.training.runner import TrainingJob, train
    from decoders.training.sources import DataRequest

    request = DataRequest(
        source=str(recording), classes=plan.classes, tmin=plan.tmin, tmax=plan.tmax
    )
    protocol = protocol or calibration_protocol(plan)
    # cross-validated figures, then the decoder refitted on every calibration trial is deployed
    job = TrainingJob(decoder, request, protocol, (plan.seed,), dict(options or {}), refit=True)
    evaluation = train(job, Path(out), progress=False)
    fitted, card = load_decoder(Path(out))
    record = publish(fitted, registry_dir, name, card=card)
    metrics = evaluation.metrics
    return CalibrationResult(
        record,
        metrics["accuracy"].mean,
        metrics["balanced_accuracy"].mean,
        metrics["kappa"].mean,
        1.0 / len(plan.classes),
        int(card.data.get("n_trials", 0)),
        Path(out),
    )


@dataclass(frozen=True)
class CalibrationJob:
    """A calibration training to run: :func:`train_calibration` with these arguments.

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
        The training run folder.
    registry_dir : Path, optional
        The model registry (default registry when None).
    band : tuple of float, optional
        Band-pass of decoders that declare one (see :func:`band_options`).
    """

    recording: Path
    plan: CalibrationPlan
    decoder: str
    name: str
    out: Path
    registry_dir: Path | None = None
    band: tuple[float, float] | None = None

    def __call__(self) -> CalibrationResult:
        """Train, export and register; return the result."""
        return train_calibration(
            self.recording,
            self.plan,
            decoder=self.decoder,
            name=self.name,
            out=self.out,
            registry_dir=self.registry_dir,
            options=band_options(self.decoder, self.band),
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
