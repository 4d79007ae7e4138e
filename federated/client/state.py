"""What a site keeps between messages of a run: its local layers, after every round.

Every message starts a fresh ClientApp process, and a run may resume after the SuperLink
restarts, so the state lives on the site's disk, under its state folder, per experiment and
run key (the server draws a new key for each fresh start and keeps it when resuming).
"""

from __future__ import annotations

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

    def load_local(self, server_round: int | None = None) -> dict[str, np.ndarray] | None:
        """Return the site-local layers after the last round, or after ``server_round``.

        With ``server_round``, the layers of the latest round not after it (a site that missed
        that round has none of its own); None when there are none.
        """
        if server_round is None:
            path = self.folder / "local.npz"
            return load_arrays(path) if path.is_file() else None
        kept = [r for r in self.local_rounds() if r <= server_round]
        return load_arrays(self._round_path(max(kept))) if kept else None

    def save_local(self, arrays: dict[str, np.ndarray], server_round: int) -> None:
        """Keep the site-local layers trained in ``server_round``.

        The latest are the start of the next round; every round's are kept for assembling the
        final model of the round the server chooses.
        """
        save_arrays(self._round_path(server_round), arrays)
        save_arrays(self.folder / "local.npz", arrays)

    def local_rounds(self) -> list[int]:
        """Return the rounds whose local layers are kept, in order."""
        return sorted(int(p.stem.rpartition("-")[2]) for p in self.folder.glob("local-round-*.npz"))

    def _round_path(self, server_round: int) -> Path:
        return self.folder / f"local-round-{server_round}.npz"


def _safe(name: str) -> str:
    """Return ``name`` usable as one folder name."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))
    return cleaned.strip(".") or "_"
