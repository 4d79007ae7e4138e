"""The demonstration: the real MEG/EEG recording played live and a decoder trained on it.

The decoder (Xdawn covariances, tangent space, logistic regression) tells the four
stimulus kinds of the recording (auditory/visual, left/right) from the 0.5 s after each
event; it is trained once with the training CLI's machinery, exported, and registered as
``demo-meg-stimulus``. The live demonstration decodes the window after each marker.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bci_app.models.registry import ModelRecord, ModelRegistry

from .staging import run_staged
from .training import StagedModel, commit_training, stage_training

DEMO_MODEL = "demo-meg-stimulus"
DEMO_RECORDING = "meg-eeg"
DEMO_CLASSES = ("auditory/left", "auditory/right", "visual/left", "visual/right")
DEMO_DECODER = "xdawncov-ts-lr"
DEMO_WINDOW = (0.0, 0.5)


def demo_model(registry_dir: Path | None, workdir: Path) -> ModelRecord:
    """Return the registered demonstration model, training and registering it if needed.

    Parameters
    ----------
    registry_dir : Path, optional
        The registry (default registry when None).
    workdir : Path
        Where the training run folder goes (``<workdir>/demo-meg-stimulus``).
    """
    registry = ModelRegistry(registry_dir)
    if DEMO_MODEL in registry.names():
        return registry.get(DEMO_MODEL)
    return run_staged(DemoJob(registry_dir, Path(workdir) / DEMO_MODEL))


@dataclass(frozen=True)
class DemoJob:
    """Training the demonstration model: staged, then moved into place and registered.

    Parameters
    ----------
    registry_dir : Path, optional
        The registry (default registry when None).
    out : Path
        The training run folder (a cache: a previous one is replaced).
    """

    registry_dir: Path | None
    out: Path

    def stage(self, staging: Path, progress: Callable[[str], None]) -> StagedModel:
        """Train and export into ``staging``."""
        from decoders.training.runner import TrainingJob
        from decoders.training.sources import DataRequest

        request = DataRequest(
            DEMO_RECORDING, classes=DEMO_CLASSES, tmin=DEMO_WINDOW[0], tmax=DEMO_WINDOW[1]
        )
        job = TrainingJob(DEMO_DECODER, request, "kfold5", (0,), refit=True)
        return stage_training(job, staging, progress)

    def finish(self, staged: StagedModel, staging: Path) -> ModelRecord:
        """Replace the cached run folder and register the model."""
        shutil.rmtree(self.out, ignore_errors=True)
        return commit_training(staging, self.out, self.registry_dir, DEMO_MODEL)


def demo_workdir() -> Path:
    """Return ``$XDG_CACHE_HOME/bci-app/demo`` (``~/.cache`` by default)."""
    import os

    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "bci-app" / "demo"
