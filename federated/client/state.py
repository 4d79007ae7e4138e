"""What a site keeps between messages of a run: its local layers and its best model so far.

Every message starts a fresh ClientApp process, and a run may resume after the SuperLink
restarts, so the state lives on the site's disk, under its state folder, per experiment and
run key (the server draws a new key for each fresh start and keeps it when resuming).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from federated.arrays import load_arrays, save_arrays


class SiteState:
    """Files of one site for one run.

    Parameters
    ----------
    state_dir : Path
        The site's state folder (from its site file).
    experiment, run_key : str
        The federation's experiment name and the run key the server sends.
    """

    def __init__(self, state_dir: Path, experiment: str, run_key: str) -> None:
        self.folder = Path(state_dir) / "runs" / _safe(experiment) / _safe(run_key)

    @property
    def model_dir(self) -> Path:
        """Return the folder of the site's final model (weights and card)."""
        return self.folder / "model"

    def load_local(self) -> dict[str, np.ndarray] | None:
        """Return the site-local layers of the last round, or None before the first."""
        path = self.folder / "local.npz"
        return load_arrays(path) if path.is_file() else None

    def save_local(self, arrays: dict[str, np.ndarray]) -> None:
        """Keep the site-local layers for the next round."""
        save_arrays(self.folder / "local.npz", arrays)

    def best(self) -> tuple[int, float] | None:
        """Return (round, validation loss) of the best model kept, or None."""
        path = self.folder / "best.json"
        if not path.is_file():
            return None
        record = json.loads(path.read_text())
        return int(record["round"]), float(record["valid_loss"])

    def load_best(self) -> dict[str, np.ndarray] | None:
        """Return the whole state of the best model kept, or None."""
        return load_arrays(self.folder / "best.npz") if self.best() is not None else None

    def offer_best(self, arrays: dict[str, np.ndarray], server_round: int, loss: float) -> bool:
        """Keep ``arrays`` when ``loss`` is the lowest validation loss so far; return whether."""
        best = self.best()
        if best is not None and not loss < best[1]:
            return False
        save_arrays(self.folder / "best.npz", arrays)
        temporary = self.folder / ".best.json.tmp"
        temporary.write_text(json.dumps({"round": server_round, "valid_loss": loss}))
        temporary.replace(self.folder / "best.json")
        return True


def _safe(name: str) -> str:
    """Return ``name`` usable as one folder name."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))
    return cleaned.strip(".") or "_"
