"""Play a recording as LSL streams and decode it live: the demo's machinery, as one call.

The recording is streamed in real time by the acquisition player (signal plus its events as
markers), which waits for the engine's inlets before its first sample, so nothing of the
recording is missed. A marker ``bci-app/recording-start`` is sent at the recording's first
sample: prediction times can then be turned into times in the recording.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bci_app.errors import LiveError
from bci_app.models.registry import ModelRegistry

from .engine import InferenceEngine
from .prediction import Prediction

if TYPE_CHECKING:
    import mne

START_MARKER = "bci-app/recording-start"
CONNECT_TIMEOUT = 10.0  # seconds the player waits for the engine's inlets
TAIL_S = 1.0  # seconds decoded after the last sample, for the last windows to come out


@dataclass
class LiveResult:
    """What a live replay produced.

    Attributes
    ----------
    predictions : list of Prediction
        Those made within the decoded duration, in time order.
    recording_start : float
        LSL time of the recording's first sample.
    summary : dict
        The runner's model, counts and latency percentiles (see
        :meth:`InferenceEngine.summary`).
    events : list of str
        The runner's events (model swaps, skipped windows).
    """

    predictions: list[Prediction]
    recording_start: float
    summary: dict[str, Any]
    events: list[str] = field(default_factory=list)

    def recording_times(self) -> np.ndarray:
        """Return each prediction's last-sample time in seconds from the recording's start."""
        return np.array([p.timestamp - self.recording_start for p in self.predictions])

    def accuracy(self) -> float:
        """Return the share of marker-locked predictions whose decided class is the marker.

        For recordings whose events are named after the classes (trials played back to back).
        """
        locked = [p for p in self.predictions if p.marker is not None]
        if not locked:
            raise ValueError("no marker-locked prediction: accuracy needs trials with markers")
        return float(np.mean([p.label == p.marker for p in locked]))


def play_and_decode(
    raw: mne.io.BaseRaw,
    model: str,
    *,
    registry: ModelRegistry | None = None,
    duration: float | None = None,
    marker_locked: bool = False,
    marker_offset_s: float = 0.0,
    marker_values: Collection[str] | None = None,
    channel_map: Mapping[str, str] | None = None,
    chunk_size: int | None = None,
    on_prediction: Callable[[Prediction], None] | None = None,
    log_path: Path | None = None,
    publish: bool = True,
) -> LiveResult:
    """Stream ``raw`` in real time and decode it with registered model ``model``.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording (SI units), with its events as annotations for marker-locked decoding.
    model : str
        ``NAME`` or ``NAME:VERSION`` in ``registry`` (newer versions of ``NAME`` are swapped in
        while running).
    registry : ModelRegistry, optional
        Default: the default registry directory.
    duration : float, optional
        Seconds of recording to decode (default: all of it).
    marker_locked : bool
        Decode the window locked to each event of the recording instead of one every hop.
    marker_offset_s : float
        Window start relative to its event.
    marker_values : collection of str, optional
        Events decoded (default: every event of the recording).
    channel_map : mapping, optional
        ``{model channel: recording channel}`` for channels named differently.
    chunk_size : int, optional
        Samples per LSL push (default: the player's, about 10 ms).
    on_prediction : callable, optional
        Called with each prediction as it is made (from the engine's thread).
    log_path : Path, optional
        JSON-lines log of predictions and events.
    publish : bool
        Also publish predictions as an LSL stream.
    """
    from acquisition.player import Player, events_of

    events = events_of(raw)
    if marker_locked and not events:
        raise LiveError("recording", "has no events to lock windows to")
    values = set(marker_values) if marker_values is not None else {text for _, text in events}
    name = f"bci-app-replay-{uuid.uuid4().hex[:8]}"
    player = Player(
        _with_start_marker(raw),
        name=name,
        chunk_size=chunk_size,
        source="replay",
        wait_for_consumer=CONNECT_TIMEOUT,
    )
    predictions: list[Prediction] = []
    with player, InferenceEngine(registry, log_path=log_path, publish=publish) as engine:
        runner = engine.add(
            name,
            model,
            markers=player.marker_name if marker_locked else None,
            marker_offset_s=marker_offset_s,
            marker_values=values if marker_locked else None,
            channel_map=channel_map,
        )
        markers = engine.session.inlets.get(player.marker_name) or engine.session.open(
            name=player.marker_name, timeout=engine.stream_timeout
        )
        engine.subscribe(predictions.append)
        if on_prediction is not None:
            engine.subscribe(on_prediction)
        engine.start()
        length = raw.n_times / raw.info["sfreq"] if duration is None else duration
        while player.running and player.pushed < length * player.sfreq:
            engine.run_for(0.05)
        engine.run_for(TAIL_S)
        starts = [m for m in markers.markers.since(0) if m.value == START_MARKER]
        summary = engine.summary()[runner.name]
        events_seen = [message for _, message in runner.events]
    if not starts:
        raise LiveError(name, "the recording-start marker never arrived; the replay failed")
    start = starts[0].timestamp
    inside = [p for p in predictions if p.timestamp - start <= length + 1e-6]
    return LiveResult(inside, start, summary, events_seen)


def _with_start_marker(raw: mne.io.BaseRaw) -> mne.io.RawArray:
    """Return ``raw`` with its events as annotations and a start marker at its first sample."""
    import mne

    from acquisition.player import events_of

    info = raw.info.copy()
    info.set_meas_date(None)
    copy = mne.io.RawArray(raw.get_data(), info, verbose=False)
    events = [(0, START_MARKER), *events_of(raw)]
    onsets = np.array([index for index, _ in events]) / info["sfreq"]
    copy.set_annotations(
        mne.Annotations(onsets, np.zeros(len(events)), [text for _, text in events])
    )
    return copy
