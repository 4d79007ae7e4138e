"""Train on the start of a recording, decode the rest live, and check it against offline.

The check to make before trusting a live pipeline on a recording: a decoder is fitted on the
events of the first part only, exported and registered; the rest is streamed in real time
through the player and decoded by the ONNX engine, one window locked to each event; the same
held-out windows are decoded offline by the torch decoder. Live and offline accuracy must
agree, and the latency of every stage is measured on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bci_app.errors import LiveError

if TYPE_CHECKING:
    import mne

    from bci_app.inference.prediction import Prediction
    from bci_app.inference.replay import LiveResult


@dataclass(frozen=True)
class HeldOutReplay:
    """The outcome of :func:`replay_held_out`.

    Attributes
    ----------
    n_train, n_live : int
        Events decoded in the training part and in the live part.
    offline_accuracy : float
        Accuracy of the torch decoder on the live part's windows, offline.
    live_accuracy : float
        Accuracy of the live (ONNX, streamed) decisions on the same events.
    agreement : float
        Share of live decisions equal to the offline decision for the same event.
    max_probability_difference : float
        Largest difference between a live and an offline class probability.
    summary : dict
        The engine's counts and latency percentiles (ms per stage).
    """

    n_train: int
    n_live: int
    offline_accuracy: float
    live_accuracy: float
    agreement: float
    max_probability_difference: float
    summary: dict[str, Any]


def replay_held_out(
    raw: mne.io.BaseRaw,
    decoder_name: str,
    classes: tuple[str, ...],
    registry_dir: Path,
    *,
    window: tuple[float, float] = (0.0, 0.5),
    train_share: float = 0.7,
    live_seconds: float | None = None,
    seed: int = 0,
) -> HeldOutReplay:
    """Fit ``decoder_name`` on the first ``train_share`` of ``raw``, then decode the rest live.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        A continuous recording whose annotations name the ``classes``.
    decoder_name : str
        A decoder of the registry (``bci-app decoders``).
    classes : tuple of str
        Event names decoded.
    registry_dir : Path
        Model registry the fitted decoder is registered in.
    window : tuple of float
        Decoded window relative to each event, in seconds.
    train_share : float
        Share of the recording's duration used for training (a 20 % validation part of its
        events selects the model); the rest is streamed.
    live_seconds : float, optional
        Stream at most this many seconds of the held-out part.
    seed : int
        Seed of the decoder and of the validation split.
    """
    from bci_app.inference.replay import play_and_decode
    from bci_app.models.registry import ModelRegistry
    from decoders import registry
    from decoders.evaluation.protocols import validation_split
    from decoders.export.publish import publish
    from decoders.training.epoching import epochs_from_annotations

    if not 0.0 < train_share < 1.0:
        raise ValueError(f"train_share must be between 0 and 1, got {train_share}")
    cut = raw.times[-1] * train_share
    stop = raw.times[-1] if live_seconds is None else min(raw.times[-1], cut + live_seconds)
    parts = {"training": raw.copy().crop(0.0, cut), "live": raw.copy().crop(cut, stop)}
    tmin, tmax = window
    trials = {
        part: epochs_from_annotations(
            recording, source=f"{part} part", classes=list(classes), tmin=tmin, tmax=tmax
        )
        for part, recording in parts.items()
    }
    decoder = registry.create(decoder_name, seed=seed)
    decoder.fit(*validation_split(trials["training"], 0.2, seed))
    record = publish(decoder, registry_dir, f"held-out-{decoder_name}")
    live = play_and_decode(
        parts["live"],
        record.ref,
        registry=ModelRegistry(registry_dir),
        marker_locked=True,
        marker_offset_s=tmin,
        marker_values=classes,
        publish=False,
    )
    held_out = trials["live"]
    offline = decoder.predict_proba(held_out.data)
    ends = _window_ends(parts["live"], classes, window)
    online = _align(live, ends, held_out.n_trials, raw.info["sfreq"])
    decided = np.array([np.argmax(p.outputs) for p in online])
    return HeldOutReplay(
        n_train=trials["training"].n_trials,
        n_live=held_out.n_trials,
        offline_accuracy=float(np.mean(offline.argmax(1) == held_out.labels)),
        live_accuracy=float(np.mean(decided == held_out.labels)),
        agreement=float(np.mean(decided == offline.argmax(1))),
        max_probability_difference=float(
            np.max(np.abs(np.array([p.outputs for p in online]) - offline))
        ),
        summary=live.summary,
    )


def _window_ends(
    raw: mne.io.BaseRaw, classes: tuple[str, ...], window: tuple[float, float]
) -> np.ndarray:
    """Return the recording time of the last sample of each whole event window, in order."""
    from acquisition.player import events_of

    sfreq = raw.info["sfreq"]
    n_times = round((window[1] - window[0]) * sfreq)
    starts = [index + round(window[0] * sfreq) for index, text in events_of(raw) if text in classes]
    return np.array([(s + n_times - 1) / sfreq for s in starts if 0 <= s <= raw.n_times - n_times])


def _align(live: LiveResult, ends: np.ndarray, expected: int, sfreq: float) -> list[Prediction]:
    """Return the live prediction of each event window (within two samples), in order."""
    if len(ends) != expected:
        raise LiveError("held-out replay", f"{len(ends)} event windows, {expected} trials")
    times = live.recording_times()
    if len(times) == 0:
        raise LiveError("held-out replay", "no live prediction was made")
    nearest = np.abs(times[None, :] - ends[:, None])
    missing = int(np.sum(nearest.min(axis=1) > 2.0 / sfreq))
    if missing:
        counts = live.summary["counts"]
        raise LiveError(
            "held-out replay", f"{missing} of {expected} events got no live decision ({counts})"
        )
    return [live.predictions[i] for i in nearest.argmin(axis=1)]
