"""The drifting motor-imagery simulator: sessions that differ by the stated changes, and none
without drift."""

import numpy as np
import pytest

from decoders.simulators.drift import DriftingMotorImagerySimulator, _shift_mapping
from decoders.simulators.registry import available_tasks, simulate_trials

OPTIONS = {"n_subjects": 1, "n_runs": 1, "trials_per_class": 4, "sfreq": 100.0, "channels": 8}


def _channel_power(trials, session):
    return (trials.data[trials.blocks == session] ** 2).mean(axis=(0, 2))


@pytest.mark.slow
def test_sessions_drift_apart_and_do_not_without_drift():
    drifting = simulate_trials("motor_imagery_drift", seed=1, n_sessions=2, **OPTIONS)
    steady = simulate_trials("motor_imagery_drift", seed=1, n_sessions=2, drift=0.0, **OPTIONS)
    assert "motor_imagery_drift" in available_tasks()
    assert list(np.unique(drifting.blocks)) == [0, 1] and drifting.n_trials == 24
    change = np.abs(np.log(_channel_power(drifting, 1) / _channel_power(drifting, 0)))
    stable = np.abs(np.log(_channel_power(steady, 1) / _channel_power(steady, 0)))
    assert change.mean() > 2 * stable.mean()
    # the same paradigm with or without drift: only the signals change
    assert np.array_equal(drifting.labels, steady.labels)
    again = simulate_trials("motor_imagery_drift", seed=1, n_sessions=2, **OPTIONS)
    assert np.array_equal(again.data, drifting.data)


def test_a_cap_that_did_not_move_maps_the_field_onto_itself():
    simulator = DriftingMotorImagerySimulator(seed=0, channels=8)
    names = simulator.ch_names
    assert np.allclose(_shift_mapping(names, (0.0, 0.0, 0.0)), np.eye(len(names)), atol=1e-6)
    moved = _shift_mapping(names, (4.0, 0.0, 0.0))
    assert not np.allclose(moved, np.eye(len(names)), atol=0.05)
