import json

import numpy as np
import pytest

from federated.config import FederationConfigError
from federated.server.checkpoint import ServerCheckpoint, ServerState
from federated.server.history import write_history


def state(server_round: int) -> ServerState:
    arrays = {"w": np.full(3, float(server_round), np.float32)}
    history = {
        "rounds": [
            {"round": r, "aggregated": {"valid-loss": 1.0 / r}} for r in range(1, server_round + 1)
        ]
    }
    return ServerState(
        server_round, "key1", arrays, {"w": np.zeros(3, np.float32)}, 1, 0.5, history
    )


def test_a_checkpoint_restores_the_run_where_it_stood(tmp_path):
    checkpoint = ServerCheckpoint(tmp_path / "checkpoint")
    assert not checkpoint.exists()
    checkpoint.save(state(2), "abc")
    restored = checkpoint.load("abc")
    assert (restored.server_round, restored.run_key, restored.best_round) == (2, "key1", 1)
    np.testing.assert_array_equal(restored.arrays["w"], [2.0, 2.0, 2.0])
    assert restored.best_loss == 0.5 and len(restored.history["rounds"]) == 2


def test_resuming_under_other_settings_is_refused(tmp_path):
    checkpoint = ServerCheckpoint(tmp_path)
    checkpoint.save(state(1), "abc")
    with pytest.raises(FederationConfigError, match="other settings"):
        checkpoint.load("xyz")


def test_the_history_is_strict_json_and_plotted(tmp_path):
    history = {
        "experiment": "x",
        "rounds": [
            {
                "round": 1,
                "evaluate": {"a": {"valid-accuracy": 0.5, "valid-loss": float("nan")}},
                "aggregated": {"valid-accuracy": 0.5},
                "rejected": [{"site": "b"}],
            },
            {
                "round": 2,
                "evaluate": {"a": {"valid-accuracy": 0.7, "valid-loss": 0.6}},
                "aggregated": {"valid-accuracy": 0.7},
            },
        ],
    }
    path = write_history(tmp_path, history)
    loaded = json.loads(path.read_text())
    assert loaded["rounds"][0]["evaluate"]["a"]["valid-loss"] is None
    assert (tmp_path / "history.png").stat().st_size > 10_000
