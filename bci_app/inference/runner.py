"""One decoder on one stream: windows in, checked, decoded, published, traced.

A runner is driven by one thread calling :meth:`DecoderRunner.poll`. Between two windows it
swaps in a newer model offered by another thread (:meth:`DecoderRunner.offer`), so no window
is lost to a swap. Windows with NaN or infinite raw samples are skipped and counted, and
outputs that are not finite are never published. Windows with missing samples inside (a
stream loss, in hop and marker-locked mode alike) are decoded and published flagged
(:attr:`Prediction.gap`, written in the log and the session report) and counted. A model
whose card carries a seizure-alarm policy also raises alarms from its probabilities
(:mod:`bci_app.models.alarm`): each prediction carries the alarm status, which is published
on an alarm stream, and each alarm raised is noted in the log.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from acquisition.markers import MarkerBuffer
from acquisition.preprocessing.pipeline import Pipeline
from acquisition.ringbuffer import RingBuffer
from acquisition.windows import Window
from bci_app.models.alarm import AlarmPolicy, AlarmState, AlarmStatus
from bci_app.models.format import ModelCard

from .adapter import describe_adaptation, plan_pipeline
from .alarm_outlet import AlarmOutlet
from .log import PredictionLog
from .model import OnnxModel
from .outlet import PredictionOutlet
from .prediction import Prediction
from .ranking import CandidateRanker, RankingOutlet
from .sources import WindowSource, window_source
from .tracing import LatencyTrace, LatencyTracker

EXPLAIN_EVERY_S = 5.0
"""Seconds between two explained decisions on a continuous stream (each marker: always)."""


@dataclass
class RunnerCounts:
    """What happened to the windows of one runner.

    Attributes
    ----------
    published : int
        Predictions published.
    non_finite_windows : int
        Windows skipped because raw samples in them were NaN or infinite.
    non_finite_outputs : int
        Windows whose model outputs were not finite (never published).
    dropped : int
        Windows skipped because decoding fell behind the hop (hop mode), or markers whose
        samples were already gone (marker mode).
    gaps : int
        Published windows with missing samples inside (stream loss, timestamp jump), in
        hop and marker-locked mode.
    swaps : int
        Newer model versions swapped in.
    refused_swaps : int
        Newer versions not swapped in (other input or outputs than the running model's).
    alarms : int
        Seizure alarms raised (models with an alarm policy).
    """

    published: int = 0
    non_finite_windows: int = 0
    non_finite_outputs: int = 0
    dropped: int = 0
    gaps: int = 0
    swaps: int = 0
    refused_swaps: int = 0
    alarms: int = 0

    def to_dict(self) -> dict[str, int]:
        """Return the counts."""
        return asdict(self)


class DecoderRunner:
    """Decode one stream with one model.

    Parameters
    ----------
    model : OnnxModel
        The model (verified and loaded).
    ref : str
        Its ``name:version``.
    buffer : RingBuffer
        The stream (a signal inlet's buffer).
    name : str
        Name of this runner (suffix of its prediction stream).
    stream : str
        The stream's name, for messages.
    markers : MarkerBuffer or sequence of MarkerBuffer, optional
        Decode the window locked to each marker instead of one every hop.
    marker_offset_s : float
        Window start relative to its marker.
    marker_values : collection of str, optional
        Markers decoded (default: all).
    channel_map : mapping, optional
        ``{model channel: stream channel}`` for channels named differently.
    allow_type_change : bool
        Accept a channel map across channel types or with a rate change.
    outlet : PredictionOutlet, optional
        Where predictions are published.
    log : PredictionLog, optional
        Where predictions and events are written.
    alarm_outlet : AlarmOutlet, optional
        Where the alarm status is published, for models with an alarm policy.
    ranker : CandidateRanker, optional
        For speech models: rank a candidate set by each window's embedding.
    ranking_outlet : RankingOutlet, optional
        Where the rankings are published.

    Attributes
    ----------
    source : WindowSource
        Where the windows come from (every hop, or locked to each marker).
    counts : RunnerCounts
        Windows published, skipped and dropped; model swaps.
    latency : LatencyTracker
        Rolling latency percentiles.
    events : deque of (float, str)
        Recent events (LSL time, message): input adaptation, swaps, skipped windows.
    adaptation : list of str
        What is changed in the stream before the model sees it (channels read from other
        names, resampling); each line is also an event of the log.
    """

    def __init__(
        self,
        model: OnnxModel,
        ref: str,
        buffer: RingBuffer,
        *,
        name: str,
        stream: str,
        markers: MarkerBuffer | Sequence[MarkerBuffer] | None = None,
        marker_offset_s: float = 0.0,
        marker_values: Collection[str] | None = None,
        channel_map: Mapping[str, str] | None = None,
        allow_type_change: bool = False,
        outlet: PredictionOutlet | None = None,
        log: PredictionLog | None = None,
        alarm_outlet: AlarmOutlet | None = None,
        ranker: CandidateRanker | None = None,
        ranking_outlet: RankingOutlet | None = None,
    ) -> None:
        card = model.card
        source = f"stream '{stream}' for model {ref}"
        spec = plan_pipeline(
            card,
            buffer.ch_names,
            buffer.sfreq,
            ch_types=buffer.ch_types,
            channel_map=channel_map,
            allow_type_change=allow_type_change,
            source=source,
        )
        pipeline = Pipeline(spec, buffer.ch_names, buffer.ch_types, buffer.sfreq) if spec else None
        self.source: WindowSource = window_source(
            buffer,
            card,
            pipeline,
            markers=markers,
            marker_offset_s=marker_offset_s,
            marker_values=marker_values,
        )
        self.buffer = buffer
        self.name, self.stream = name, stream
        self.model, self.ref = model, ref
        self.pipeline_spec = spec
        self.outlet, self.log = outlet, log
        self.alarm_outlet = alarm_outlet
        self.alarm = _alarm_state(card)
        self.ranker, self.ranking_outlet = ranker, ranking_outlet
        self.latency = LatencyTracker()
        self.counts = RunnerCounts()
        self.events: deque[tuple[float, str]] = deque(maxlen=1000)
        self._pending: tuple[OnnxModel, str] | None = None
        self._lock = threading.Lock()
        self._explained = -np.inf  # LSL time of the last explained window
        self.adaptation = describe_adaptation(
            card, buffer.ch_names, buffer.ch_types, buffer.sfreq, channel_map
        )
        for line in self.adaptation:
            self.note(f"input: {line}", channel_map=dict(channel_map or {}))

    @property
    def card(self) -> ModelCard:
        """Return the running model's card."""
        return self.model.card

    def offer(self, model: OnnxModel, ref: str) -> bool:
        """Queue ``model`` to replace the running one before the next window.

        Returns False (and logs why) when it takes other input or gives other outputs.
        """
        differences = self.model.card.input_differences(model.card)
        if differences:
            self.counts.refused_swaps += 1
            self.note(f"model {ref} not swapped in: its {', '.join(differences)} differ")
            return False
        with self._lock:
            self._pending = (model, ref)
        return True

    def poll(self, timeout: float) -> list[Prediction]:
        """Wait up to ``timeout`` s for windows; decode, publish and return them."""
        import pylsl

        deadline = time.monotonic() + timeout
        while True:
            total = self.buffer.total
            picked = pylsl.local_clock()
            windows = self.source.read()
            ready = pylsl.local_clock()
            self.counts.dropped = self.source.dropped
            if windows:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self.buffer.wait(total, remaining)
        predictions = []
        for window in windows:
            prediction = self._decode(window, picked, ready)
            if prediction is not None:
                predictions.append(prediction)
            ready = pylsl.local_clock()
        return predictions

    def close(self) -> None:
        """Close the prediction stream."""
        for outlet in (self.outlet, self.alarm_outlet, self.ranking_outlet):
            if outlet is not None:
                outlet.close()

    def _decode(self, window: Window, picked: float, ready: float) -> Prediction | None:
        import pylsl

        self._swap_if_offered()
        if window.non_finite:
            self.counts.non_finite_windows += 1
            self.note("window skipped: NaN or infinite samples", timestamp=window.last_time)
            return None
        outputs = self.model.predict(window.data)
        inferred = pylsl.local_clock()
        if not np.isfinite(outputs).all():
            self.counts.non_finite_outputs += 1
            self.note("prediction not published: non-finite outputs", timestamp=window.last_time)
            return None
        ranking = self.ranker.rank(outputs) if self.ranker is not None else None
        ranked = pylsl.local_clock() if ranking is not None else None
        if self.outlet is not None:
            self.outlet.push(outputs, window.last_time)
        alarm = self._alarm(outputs, window)
        if self.ranking_outlet is not None and ranking is not None:
            self.ranking_outlet.push(ranking, window.last_time)
        published = pylsl.local_clock()
        trace = LatencyTrace.from_instants(
            window.last_time, window.arrival, picked, ready, inferred, published, ranked
        )
        self.latency.add(trace)
        self.counts.published += 1
        self.counts.gaps += int(window.gap)
        marker = window.marker
        prediction = Prediction(
            self.name,
            self.ref,
            window.last_time,
            outputs,
            self.model.card.output_names,
            trace,
            marker.value if marker else None,
            marker.timestamp if marker else None,
            window.gap,
            self._explanation(window),
            alarm=alarm,
            ranking=ranking,
        )
        if self.log is not None:
            self.log.prediction(prediction)
        return prediction

    def _explanation(self, window: Window) -> dict[str, object] | None:
        """Return the model's explanation of this window when it is due (always with markers).

        A decision locked to a marker is always explained; on a continuous stream, one
        decision every :data:`EXPLAIN_EVERY_S` seconds, which keeps the log small.
        """
        explanation = self.model.explain()
        if explanation is None:
            return None
        if window.marker is None and window.last_time - self._explained < EXPLAIN_EVERY_S:
            return None
        self._explained = window.last_time
        description = {k: v for k, v in self.model.card.explanation.items() if k != "output"}
        return {**description, "values": explanation}

    def _swap_if_offered(self) -> None:
        with self._lock:
            offered, self._pending = self._pending, None
        if offered is None:
            return
        previous = self.ref
        self.model, self.ref = offered
        if self.alarm is None or self.alarm.policy != AlarmPolicy.from_card(self.card.card):
            self.alarm = _alarm_state(self.card)
        self.counts.swaps += 1
        self.note(f"model {previous} replaced by {self.ref}")

    def _alarm(self, outputs: np.ndarray, window: Window) -> AlarmStatus | None:
        """Update the seizure alarm with this window's probability; publish and note it."""
        if self.alarm is None:
            return None
        policy = self.alarm.policy
        probability = float(outputs[self.card.output_names.index(policy.positive)])
        status = self.alarm.update(probability, window.last_time, gap=window.gap)
        if self.alarm_outlet is not None:
            self.alarm_outlet.push(status)
        if status.raised:
            self.counts.alarms += 1
            self.note(
                f"seizure alarm raised ({policy.positive} probability {probability:.2f}, "
                f"{status.positives} of the last {policy.n} windows): seizure expected "
                f"{policy.sph_s / 60:g}-{(policy.sph_s + policy.sop_s) / 60:g} min from now",
                timestamp=window.last_time,
            )
        return status

    def note(self, message: str, **details: object) -> None:
        """Record an event of this runner (kept in :attr:`events` and logged)."""
        import pylsl

        self.events.append((pylsl.local_clock(), message))
        if self.log is not None:
            self.log.event(self.name, message, **details)


def _alarm_state(card: ModelCard) -> AlarmState | None:
    """Return a fresh alarm for a card with an alarm policy on one of its outputs, else None."""
    policy = AlarmPolicy.from_card(card.card)
    if policy is None or policy.positive not in card.output_names:
        return None
    return AlarmState(policy)
