"""Server checkpoints: the model after every round, so a run resumes after a SuperLink restart.

Files in ``OUTPUT/checkpoint/``: ``global.npz`` (the model after the last round),
``best.npz`` (the model of the lowest aggregated validation loss) and ``state.json`` (round,
best round, run key, the settings' fingerprint and the history so far). ``state.json`` is
written last and atomically: a checkpoint is whole once it names its round.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from federated.arrays import load_arrays, save_arrays
from federated.config import FederationConfig, FederationConfigError

LOG = logging.getLogger("flwr")


@dataclass
class ServerState:
    """Where a run stands after a round."""

    server_round: int
    run_key: str
    arrays: dict[str, np.ndarray]
    best_arrays: dict[str, np.ndarray]
    best_round: int
    best_loss: float
    history: dict[str, Any]


class ServerCheckpoint:
    """The checkpoint folder of one experiment's server."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @property
    def state_path(self) -> Path:
        """Return the path of ``state.json``."""
        return self.folder / "state.json"

    def exists(self) -> bool:
        """Return True when a whole checkpoint is there."""
        return self.state_path.is_file()

    def save(self, state: ServerState, fingerprint: str) -> None:
        """Write the arrays, then the state file that makes the checkpoint whole."""
        save_arrays(self.folder / "global.npz", state.arrays)
        save_arrays(self.folder / "best.npz", state.best_arrays)
        record = {
            "round": state.server_round,
            "run_key": state.run_key,
            "best_round": state.best_round,
            "best_loss": state.best_loss if math.isfinite(state.best_loss) else None,
            "fingerprint": fingerprint,
            "history": state.history,
        }
        temporary = self.folder / ".state.json.tmp"
        temporary.write_text(json.dumps(record, indent=1))
        temporary.replace(self.state_path)

    def load(self, fingerprint: str) -> ServerState:
        """Read the checkpoint of a run with the settings of ``fingerprint``.

        Raises
        ------
        FederationConfigError
            When the checkpoint was written under other settings (decoder, strategy, classes,
            window, channels, rate or seed), which resuming would silently mix.
        """
        record = json.loads(self.state_path.read_text())
        if record["fingerprint"] != fingerprint:
            raise FederationConfigError(
                f"{self.folder}: the checkpoint belongs to a run with other settings "
                "(decoder, strategy, classes, window, channels, rate or seed); use another "
                "experiment name or output-dir, or resume = false to start afresh"
            )
        best_loss = record["best_loss"]
        return ServerState(
            server_round=int(record["round"]),
            run_key=str(record["run_key"]),
            arrays=load_arrays(self.folder / "global.npz"),
            best_arrays=load_arrays(self.folder / "best.npz"),
            best_round=int(record["best_round"]),
            best_loss=float("inf") if best_loss is None else float(best_loss),
            history=record["history"],
        )

    def resume(self, config: FederationConfig) -> ServerState | None:
        """Return the state to continue from when ``config`` resumes and a checkpoint exists.

        Records the resumed round in the history and logs it; None for a fresh start.
        """
        if not config.resume:
            return None
        if not self.exists():
            LOG.info("No checkpoint in %s: starting %s afresh", self.folder, config.experiment)
            return None
        state = self.load(config.fingerprint())
        state.history.setdefault("resumed_after", []).append(state.server_round)
        LOG.info("Resuming %s after round %d", config.experiment, state.server_round)
        return state
