"""Declared causal preprocessing, applied to trials exactly as the live path applies it.

A decoder declares its steps as mappings in the spec language of
:class:`acquisition.preprocessing.pipeline.Pipeline` (``{"step": "bandpass", "l_freq": 8.0,
"h_freq": 30.0}``); they are written to its card, and the live engine runs the same pipeline
on the stream before windows reach the model. Offline, each trial goes through a fresh
pipeline, which is what a stream starting at the trial's first sample sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def bandpass_step(l_freq: float, h_freq: float, order: int = 4) -> dict[str, Any]:
    """Return the declaration of a causal Butterworth band-pass."""
    return {"step": "bandpass", "l_freq": float(l_freq), "h_freq": float(h_freq), "order": order}


def highpass_step(l_freq: float, order: int = 1) -> dict[str, Any]:
    """Return the declaration of a causal Butterworth high-pass (removes DC and drift)."""
    return {"step": "bandpass", "l_freq": float(l_freq), "h_freq": None, "order": order}


def describe_filter(step: dict[str, Any]) -> str:
    """Return a declared band-pass or high-pass step in words."""
    order = step.get("order", 4)
    if step.get("h_freq") is None:
        return f"declared causal Butterworth high-pass, {step['l_freq']:g} Hz, order {order}"
    return (
        f"declared causal Butterworth band-pass, {step['l_freq']:g}-{step['h_freq']:g} Hz, "
        f"order {order}"
    )


def band_steps(band: Sequence[float] | None) -> tuple[dict[str, Any], ...]:
    """Return the declared steps of an optional ``[low, high]`` Hz band-pass (none if None)."""
    return (bandpass_step(*band),) if band else ()


def design_sos(step: dict[str, Any], sfreq: float) -> np.ndarray:
    """Return the second-order sections the live pipeline uses for a declared filter step."""
    from acquisition.preprocessing.pipeline import Pipeline

    pipeline = Pipeline([step], ["ch"], ["eeg"], sfreq)
    return pipeline.steps[0].sos


def apply_to_trials(
    steps: Sequence[dict[str, Any]],
    data: np.ndarray,
    sfreq: float,
    ch_names: Sequence[str] | None = None,
    ch_types: Sequence[str] | None = None,
) -> np.ndarray:
    """Run the declared steps causally over each trial of ``data`` (trials, channels, times).

    Steps that change channels or rate (picks, resampling) are not allowed here: a decoder's
    input spec describes its windows after preprocessing.
    """
    if not steps:
        return data
    from acquisition.preprocessing.pipeline import Pipeline

    n_channels = data.shape[1]
    names = list(ch_names) if ch_names is not None else [f"ch{i}" for i in range(n_channels)]
    types = list(ch_types) if ch_types is not None else ["eeg"] * n_channels
    out = np.empty(data.shape, dtype=float)
    for index, trial in enumerate(data):
        pipeline = Pipeline(steps, names, types, sfreq)
        if pipeline.ch_names != tuple(names) or pipeline.sfreq != sfreq:
            raise ValueError("decoder preprocessing may not change channels or sampling rate")
        out[index] = pipeline.process(trial)
    return out
