"""Simulated recordings with known ground truth, by task name (see :mod:`.registry`)."""

from .registry import available_tasks, make_simulator, simulate_raw, simulate_trials

__all__ = ["available_tasks", "make_simulator", "simulate_raw", "simulate_trials"]
