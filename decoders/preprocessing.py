"""Declared causal preprocessing, applied to trials exactly as the live path applies it.

A decoder declares its steps as mappings (``{"step": "bandpass", "l_freq": 8.0, "h_freq":
30.0}``); they are written to its card, and the live engine runs the same steps on the
stream, causally, before windows reach the model. Offline, each trial is filtered from a zero
filter state, which is what a freshly started stream sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

STEPS = ("bandpass", "notch")


def bandpass_step(l_freq: float, h_freq: float, order: int = 4) -> dict[str, Any]:
    """Return the declaration of a causal Butterworth band-pass."""
    return {"step": "bandpass", "l_freq": float(l_freq), "h_freq": float(h_freq), "order": order}


def design_sos(step: dict[str, Any], sfreq: float) -> np.ndarray:
    """Return the second-order sections of a declared filter step at ``sfreq``."""
    from scipy.signal import butter, iirnotch, tf2sos

    kind = step["step"]
    if kind == "bandpass":
        high = min(step["h_freq"], 0.45 * sfreq)
        return butter(
            step.get("order", 4), [step["l_freq"], high], "bandpass", fs=sfreq, output="sos"
        )
    if kind == "notch":
        b, a = iirnotch(step["freq"], step.get("quality", 30.0), fs=sfreq)
        return tf2sos(b, a)
    raise ValueError(f"unknown preprocessing step '{kind}' (known: {', '.join(STEPS)})")


def apply_to_trials(steps: Sequence[dict[str, Any]], data: np.ndarray, sfreq: float) -> np.ndarray:
    """Run the declared steps causally along the last axis of ``data`` (each trial from rest)."""
    from scipy.signal import sosfilt

    for step in steps:
        data = sosfilt(design_sos(step, sfreq), data, axis=-1)
    return data
