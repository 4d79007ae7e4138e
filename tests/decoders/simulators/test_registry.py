import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.simulators import (
    available_tasks,
    make_simulator,
    registry,
    simulate_raw,
    simulate_trials,
)
from decoders.simulators.errors import SimulatorError


def test_motor_imagery_is_registered():
    assert "motor_imagery" in available_tasks()
    assert "mu/beta" in registry.describe_task("motor_imagery")


def test_unknown_task_is_named_with_the_available_ones():
    with pytest.raises(SimulatorError, match=r"'speech'.*motor_imagery"):
        simulate_trials("speech")


def test_simulator_errors_are_data_errors_the_cli_reports():
    assert issubclass(SimulatorError, DataError)


def test_unknown_option_is_named():
    with pytest.raises(SimulatorError, match="n_chanels"):
        simulate_raw("motor_imagery", n_chanels=8)


def test_raw_works_with_defaults():
    raw = simulate_raw("motor_imagery")
    assert raw.info["sfreq"] == 250.0
    assert raw.n_times == 60 * 250
    assert raw.get_channel_types() == ["eeg"] * 22
    assert raw.info["line_freq"] == 50.0
    positions = raw.get_montage().get_positions()["ch_pos"]
    assert list(positions) == raw.ch_names
    assert set(raw.annotations.description) == {
        "fixation",
        "rest",
        "left_hand",
        "right_hand",
        "feet",
    }
    assert "SNR" in raw.info["description"]


def test_trials_fill_subjects_runs_and_positions():
    trials = simulate_trials("motor_imagery", n_subjects=2, n_runs=2, trials_per_class=2)
    assert isinstance(trials, TrialSet)
    assert trials.n_trials == 2 * 2 * 3 * 2
    assert np.array_equal(np.unique(trials.groups), [0, 1])
    assert np.array_equal(np.unique(trials.blocks), [0, 1])
    assert set(trials.ch_pos) == set(trials.ch_names)


class _Constant:
    """A simulator of the smallest kind, to check that registration dispatches to it."""

    classes = ("a", "b")

    def __init__(self, seed: int = 0, level: float = 1.0) -> None:
        self.seed, self.level = seed, level

    def trials(self) -> TrialSet:
        data = np.full((2, 1, 4), self.level * 1e-6 + self.seed * 1e-9)
        return TrialSet(data, np.array([0, 1]), self.classes, 100.0, ("Cz",), ("eeg",), "const")

    def raw(self, duration_s: float = 60.0, subject: int = 0):
        import mne

        data = np.full((1, round(duration_s * 100)), self.level * 1e-6)
        return mne.io.RawArray(data, mne.create_info(["Cz"], 100.0, "eeg"), verbose="error")


def test_a_new_task_registers_itself(monkeypatch):
    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))
    registry.register("constant", "constant signals")(_Constant)
    assert "constant" in available_tasks()
    trials = simulate_trials("constant", seed=3, level=2.0)
    assert trials.data[0, 0, 0] == pytest.approx(2e-6 + 3e-9)
    assert isinstance(make_simulator("constant"), _Constant)
    assert simulate_raw("constant", duration_s=2.0, level=3.0).get_data().max() == 3e-6
