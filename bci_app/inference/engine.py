"""The inference engine: several decoders on several streams, each in its own thread.

Streams come from an :class:`~acquisition.session.AcquisitionSession` (the engine's own, or
the one the GUI holds); models come from a :class:`~bci_app.models.registry.ModelRegistry`
and are loaded only when their sha256 matches the manifest. Nothing here imports torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from acquisition.discovery import visible_streams_hint
from acquisition.inlet import MarkerInlet, SignalInlet
from acquisition.session import AcquisitionSession
from bci_app.errors import LiveError
from bci_app.models.alarm import AlarmPolicy
from bci_app.models.registry import ModelRegistry

from .alarm_outlet import AlarmOutlet
from .follow import ModelFollower
from .log import PredictionLog
from .model import OnnxModel
from .outlet import PredictionOutlet
from .prediction import Prediction
from .ranking import CandidateRanker, RankingOutlet
from .runner import DecoderRunner

PredictionCallback = Callable[[Prediction], None]


class InferenceEngine:
    """Decode live streams with registered models and publish the predictions.

    Parameters
    ----------
    registry : ModelRegistry, optional
        Where models are loaded from (default registry directory when None).
    session : AcquisitionSession, optional
        Streams already open (the GUI's); the engine opens its own when None.
    log_path : Path, optional
        JSON-lines log of every prediction and event.
    publish : bool
        Publish each runner's predictions as an LSL stream ``bci-app-<runner>`` (and, for
        seizure forecasters, their alarm status as ``bci-app-<runner>-alarm``).
    stream_timeout : float
        Seconds to wait for a stream to be found when it is added.

    Attributes
    ----------
    runners : dict of str to DecoderRunner
        The decoders on their streams, by runner name.
    followers : list of ModelFollower
        The watchers swapping in newer versions of followed models.
    errors : dict of str to Exception
        What stopped a runner, by runner name.

    Examples
    --------
    >>> with InferenceEngine(ModelRegistry(path)) as engine:  # doctest: +SKIP
    ...     engine.add("amplifier", "mi-decoder")
    ...     engine.subscribe(print)
    ...     engine.start()
    ...     time.sleep(10)
    """

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        *,
        session: AcquisitionSession | None = None,
        log_path: Path | None = None,
        publish: bool = True,
        stream_timeout: float = 5.0,
    ) -> None:
        self.registry = registry or ModelRegistry()
        self._own_session = session is None
        self.session = session or AcquisitionSession()
        self.log = PredictionLog(log_path) if log_path is not None else None
        self.publish = publish
        self.stream_timeout = stream_timeout
        self.runners: dict[str, DecoderRunner] = {}
        self.errors: dict[str, BaseException] = {}
        self.followers: list[ModelFollower] = []
        self._callbacks: list[PredictionCallback] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def add(
        self,
        stream: str,
        model: str,
        *,
        markers: str | None = None,
        marker_offset_s: float = 0.0,
        marker_values: Collection[str] | None = None,
        channel_map: Mapping[str, str] | None = None,
        allow_type_change: bool = False,
        follow: bool = True,
        name: str | None = None,
        candidates: str | None = None,
        top_k: int = 10,
    ) -> DecoderRunner:
        """Decode signal stream ``stream`` with registered model ``model``.

        Parameters
        ----------
        stream : str
            Name of the LSL signal stream (opened if not yet open).
        model : str
            ``NAME`` (latest version, followed), ``NAME:VERSION`` (fixed) or the path of a
            registered file (its version, fixed).
        markers : str, optional
            Name of a marker stream: decode the window locked to each marker instead of
            one window every hop.
        marker_offset_s : float
            Window start relative to its marker.
        marker_values : collection of str, optional
            Markers decoded (default: all).
        channel_map : mapping, optional
            ``{model channel: stream channel}`` for channels named differently.
        allow_type_change : bool
            Accept a channel map across channel types or with a rate change.
        follow : bool
            Swap in newer registered versions of ``NAME`` while running.
        name : str, optional
            Runner name (default: the model name); suffix of the prediction stream.
        candidates : str, optional
            A registered candidate set (``NAME`` or ``NAME:VERSION``) for a speech model:
            each window's ``top_k`` candidates are ranked and published as the stream
            ``bci-app-<runner>-ranking``.
        top_k : int
            Candidates kept per window.

        Raises
        ------
        LiveError
            When the model is unknown, fails its hash, cannot run, or does not fit the
            stream (missing channels, a rate it may not be resampled from).
        """
        record = self.registry.resolve(model)
        name = name or record.name
        if name in self.runners:
            raise LiveError(
                name,
                f"a runner of that name already decodes {self.runners[name].ref}: name this "
                "one (bci-app run: --name, one per --model)",
            )
        loaded = OnnxModel(self.registry.read_verified(record), record.ref)
        signal = self._inlet(stream, SignalInlet)
        marker_buffer = self._inlet(markers, MarkerInlet).markers if markers else None
        ranker = ranking_outlet = None
        if candidates is not None:
            from bci_app.models.candidates import CandidateStore

            chosen, candidate_set = CandidateStore(self.registry).load(candidates)
            ranker = CandidateRanker(candidate_set, loaded.card, top_k, chosen.ref)
            if self.publish:
                ranking_outlet = RankingOutlet(
                    f"bci-app-{name}-ranking",
                    ranker,
                    source_id=f"bci-app-ranking:{name}",
                    model=record.ref,
                    candidates=chosen.ref,
                )
        outlet = None
        if self.publish:
            outlet = PredictionOutlet(
                f"bci-app-{name}",
                loaded.card.output_names,
                source_id=f"bci-app-predictions:{name}",
                model=record.ref,
            )
        policy = AlarmPolicy.from_card(loaded.card.card)
        alarm_outlet = None
        if self.publish and policy is not None:
            alarm_outlet = AlarmOutlet(
                f"bci-app-{name}-alarm",
                policy,
                source_id=f"bci-app-alarm:{name}",
                model=record.ref,
            )
        try:
            runner = DecoderRunner(
                loaded,
                record.ref,
                signal.buffer,
                name=name,
                stream=stream,
                markers=marker_buffer,
                marker_offset_s=marker_offset_s,
                marker_values=marker_values,
                channel_map=channel_map,
                allow_type_change=allow_type_change,
                outlet=outlet,
                log=self.log,
                alarm_outlet=alarm_outlet,
                ranker=ranker,
                ranking_outlet=ranking_outlet,
            )
        except LiveError:
            for opened in (outlet, alarm_outlet, ranking_outlet):
                if opened is not None:
                    opened.close()
            raise
        self.runners[name] = runner
        if follow and model == record.name:
            self.followers.append(ModelFollower(self.registry, record.name, record.version, runner))
        return runner

    def subscribe(self, callback: PredictionCallback) -> None:
        """Call ``callback(prediction)`` for each prediction (from the runner's thread)."""
        self._callbacks.append(callback)

    def start(self) -> InferenceEngine:
        """Start one decoding thread per runner and the model followers."""
        for runner in self.runners.values():
            thread = threading.Thread(
                target=self._loop, args=(runner,), name=f"runner-{runner.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        for follower in self.followers:
            follower.start()
        return self

    def run_for(self, seconds: float | None) -> None:
        """Block for ``seconds`` (forever when None) while decoding, or until :meth:`stop`."""
        self._stop.wait(seconds)

    def stop(self) -> None:
        """Stop decoding, close the prediction streams, the log and the engine's own streams."""
        self._stop.set()
        for follower in self.followers:
            follower.stop()
        for thread in self._threads:
            thread.join(5.0)
        for runner in self.runners.values():
            runner.close()
        if self.log is not None:
            self.log.close()
        if self._own_session:
            self.session.stop()

    def summary(self) -> dict[str, dict[str, Any]]:
        """Return, per runner, its model, counts and latency percentiles."""
        return {
            name: {
                "model": runner.ref,
                "stream": runner.stream,
                "counts": runner.counts.to_dict(),
                "latency_ms": runner.latency.summary(),
            }
            for name, runner in self.runners.items()
        }

    def __enter__(self) -> InferenceEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _inlet(self, stream: str, kind: type) -> Any:
        inlet = self.session.inlets.get(stream)
        if inlet is None:
            try:
                inlet = self.session.open(name=stream, timeout=self.stream_timeout)
            except LookupError as error:
                raise LiveError(stream, f"{error}{visible_streams_hint(stream)}") from error
        if not isinstance(inlet, kind):
            wanted = "a signal" if kind is SignalInlet else "a marker"
            raise LiveError(stream, f"is not {wanted} stream")
        return inlet

    def _loop(self, runner: DecoderRunner) -> None:
        while not self._stop.is_set():
            try:
                predictions = runner.poll(0.1)
            except Exception as error:  # a broken runner stops alone, and says why
                self.errors[runner.name] = error
                runner.note(f"decoding stopped by an error: {error!r}")
                return
            for prediction in predictions:
                for callback in self._callbacks:
                    try:
                        callback(prediction)
                    except Exception as error:
                        runner.note(f"a prediction consumer failed: {error!r}")
