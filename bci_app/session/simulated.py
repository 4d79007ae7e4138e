"""A simulated participant who performs the cued motor imagery, for demonstrations and tests.

The motor-imagery simulator draws the class order and rests itself (shuffled blocks, the
plan's timing), so the cue runner follows the simulator's schedule: the participant imagines
exactly what the screen cues. The recording is long enough for a calibration block, the
training time and a feedback block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from acquisition.annotations import annotation_onsets

from .calibration import CalibrationPlan, CueTrial, trial_at

if TYPE_CHECKING:
    import mne

SIMULATED_CLASSES = ("left_hand", "right_hand", "feet", "tongue")
_LEAD_S = 2.0  # the simulator's quiet time before its first trial


@dataclass(frozen=True)
class SimulatedParticipant:
    """A simulated recording and the trials its participant performs.

    Parameters
    ----------
    raw : mne.io.RawArray
        The signals (volts), to stream with a player from its first sample.
    trials : list of CueTrial
        Every trial, in seconds from the first sample.
    description : str
        What was simulated (seed, SNR).
    """

    raw: mne.io.RawArray
    trials: list[CueTrial]
    description: str


def simulated_participant(
    plan: CalibrationPlan,
    *,
    extra_s: float = 120.0,
    feedback_trials: int = 0,
    seed: int = 0,
    channels: int = 22,
    sfreq: float = 250.0,
) -> SimulatedParticipant:
    """Simulate a participant following ``plan`` (plus feedback trials and spare time).

    Parameters
    ----------
    plan : CalibrationPlan
        Classes (from ``left_hand``, ``right_hand``, ``feet``, ``tongue``) and timing.
    extra_s : float
        Seconds of further trials beyond the calibration and feedback trials (time for
        training the decoder).
    feedback_trials : int
        Trials after the calibration, for online feedback.
    seed, channels, sfreq
        Simulator seed, channel count and rate.

    Raises
    ------
    ValueError
        When a class is not one the simulator knows.
    """
    from decoders.simulators.registry import simulate_raw

    unknown = [name for name in plan.classes if name not in SIMULATED_CLASSES]
    if unknown:
        raise ValueError(
            f"the simulated participant imagines {', '.join(SIMULATED_CLASSES)}; not {unknown}"
        )
    n_trials = plan.n_trials + feedback_trials
    duration = _LEAD_S + n_trials * plan.longest_trial_s + extra_s + plan.rest_s[1]
    raw = simulate_raw(
        "motor_imagery",
        seed=seed,
        duration_s=duration,
        classes=plan.classes,
        channels=channels,
        sfreq=sfreq,
        fixation_s=plan.fixation_s,
        task_s=plan.task_s,
        rest_s=plan.rest_s,
        tmin=plan.tmin,
        tmax=plan.tmax,
    )
    return SimulatedParticipant(raw, trials_of(raw, plan), raw.info["description"] or "")


def trials_of(raw: mne.io.BaseRaw, plan: CalibrationPlan) -> list[CueTrial]:
    """Return the cued trials of a recording annotated with the plan's classes and ``rest``."""
    annotations = raw.annotations
    onsets = annotation_onsets(raw)
    descriptions = list(annotations.description)
    rests = {
        round(onset, 6): duration
        for onset, duration, text in zip(onsets, annotations.duration, descriptions, strict=True)
        if text == "rest"
    }
    trials = []
    for onset, text in zip(onsets, descriptions, strict=True):
        if text in plan.classes:
            rest = rests.get(round(onset + plan.task_s, 6), plan.rest_s[0])
            trials.append(trial_at(len(trials), text, float(onset), plan, float(rest)))
    return trials


def start_time(raw: mne.io.BaseRaw, values: np.ndarray, timestamp: float) -> float:
    """Return the LSL time of a streamed recording's first sample, from one received sample.

    The player streams the recording as float32 values; finding the received sample in the
    recording gives its index, hence the time the recording started (even when the stream
    was opened after the player began).

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording being streamed.
    values : ndarray, shape (n_channels,)
        One received sample, as the stream's buffer holds it (SI units, float32).
    timestamp : float
        Its LSL time.

    Raises
    ------
    ValueError
        When the sample is not found exactly once in the recording.
    """
    data = raw.get_data().astype(np.float32)
    sample = np.asarray(values, dtype=np.float32)
    if sample.shape != (data.shape[0],):
        raise ValueError(f"expected one sample of {data.shape[0]} channels, got {sample.shape}")
    matches = np.flatnonzero((data == sample[:, None]).all(axis=0))
    if matches.size != 1:
        raise ValueError(
            f"the received sample occurs {matches.size} times in the recording (expected once): "
            "is the stream playing this recording?"
        )
    return float(timestamp - matches[0] / raw.info["sfreq"])
