"""Online adaptation during feedback: cued trials cut live, the decoder updated and republished.

For decoders that learn from labelled feedback (RLEEGNet's ``partial_fit``, within its trust
region), or under any strategy of :mod:`decoders.adaptation` (Riemannian re-centering, the
adaptive LDA bias, online fine-tuning: the ones ``bench/adaptation.py`` compares), each
feedback trial is cut from the stream around its cue, the decoder is updated, and every
accepted update is exported and registered as a new version of the model; an inference engine
following the model's name swaps it in between two windows.

Imports torch and the ``decoders`` package when an adaptation is created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from acquisition.epochs import EpochStream
from acquisition.preprocessing.pipeline import Pipeline
from bci_app.inference.adapter import stream_channels
from bci_app.models.format import ModelCard
from bci_app.models.registry import ModelRecord

from .calibration import CalibrationPlan

if TYPE_CHECKING:
    from acquisition.markers import MarkerBuffer
    from acquisition.ringbuffer import RingBuffer


def adapts_online(decoder: str) -> bool:
    """Return True when the registered decoder ``decoder`` learns from feedback trials."""
    from decoders import registry

    return hasattr(registry.get(decoder).load_class(), "partial_fit")


def feedback_epochs(
    buffer: RingBuffer,
    cues: MarkerBuffer,
    card: ModelCard,
    plan: CalibrationPlan,
    *,
    channel_map: Mapping[str, str] | None = None,
) -> EpochStream:
    """Return the stream of cued trials as the decoder takes them (its channels and rate).

    The window is the plan's ``tmin`` to ``tmax`` from each cue; only picking and resampling
    are applied (the decoder applies its own declared preprocessing when it adapts).
    """
    picks = stream_channels(card, buffer.ch_names, channel_map=channel_map, source="feedback")
    spec: list[dict[str, Any]] = [{"step": "pick", "channels": picks}]
    if not np.isclose(buffer.sfreq, card.sfreq):
        spec.append({"step": "resample", "sfreq_out": card.sfreq})
    pipeline = Pipeline(spec, buffer.ch_names, buffer.ch_types, buffer.sfreq)
    return EpochStream(
        buffer, cues, tmin=plan.tmin, tmax=plan.tmax, values=plan.classes, pipeline=pipeline
    )


@dataclass(frozen=True)
class AdaptationOutcome:
    """What one feedback update did.

    Parameters
    ----------
    n_trials : int
        Trials learnt from.
    accuracy_before : float
        The decoder's accuracy on them before the update.
    drift : float
        Relative distance of the weights from those adaptation began at.
    clipped, refused : bool
        Whether the update was bounded to the trust region, or undone.
    record : ModelRecord, optional
        The new registered version (None when the update was refused).
    """

    n_trials: int
    accuracy_before: float
    drift: float
    clipped: bool
    refused: bool
    record: ModelRecord | None


class OnlineAdaptation:
    """A trained decoder adapted from feedback trials and republished after each update.

    Parameters
    ----------
    folder : Path
        The decoder's training run folder (weights and card).
    name : str
        Its model name in the registry.
    registry_dir : Path, optional
        The registry (default registry when None).
    strategy : str, optional
        A strategy of :data:`decoders.adaptation.online.STRATEGIES`; None: the decoder's own
        ``partial_fit``.
    calibration : ndarray, optional
        The calibration trials, for strategies that start from them (the adaptive LDA bias).

    Raises
    ------
    ValueError
        When the decoder does not adapt online.
    """

    def __init__(
        self,
        folder: Path,
        name: str,
        registry_dir: Path | None = None,
        *,
        strategy: str | None = None,
        calibration: np.ndarray | None = None,
    ) -> None:
        from decoders.checkpoint import load_decoder

        self.decoder, self.card = load_decoder(Path(folder))
        self.strategy = None
        if strategy is not None:
            from decoders.adaptation.online import make_strategy

            self.strategy = make_strategy(strategy, self.decoder, calibration)
        elif not hasattr(self.decoder, "partial_fit"):
            raise ValueError(f"decoder {self.decoder.name} does not adapt online")
        self.name = name
        self.registry_dir = registry_dir
        self.updates = 0

    def update(self, data: np.ndarray, labels: Sequence[str]) -> AdaptationOutcome:
        """Learn from trials ``(n, n_channels, n_times)`` and their true classes; republish."""
        from decoders.export.publish import publish

        if self.strategy is not None:
            return self._strategy_update(np.asarray(data, dtype=float), list(labels))
        report = self.decoder.partial_fit(data, list(labels))
        record = None
        if not report.refused:
            record = publish(self.decoder.snapshot(), self.registry_dir, self.name, card=self.card)
            self.updates += 1
        return AdaptationOutcome(
            report.n_trials,
            report.accuracy_before,
            report.drift,
            report.clipped,
            report.refused,
            record,
        )

    def _strategy_update(self, data: np.ndarray, labels: list[str]) -> AdaptationOutcome:
        """Decide each trial, then let the strategy adapt from it and its label; republish."""
        from decoders.export.publish import publish

        classes = list(self.decoder.output_spec_.names)
        unknown = [label for label in labels if label not in classes]
        if unknown or len(labels) != len(data):
            raise ValueError(
                f"feedback labels must name one class of {classes} per trial, got {labels}"
            )
        strategy = self.strategy
        correct, reports = [], []
        for trial, label in zip(data, labels, strict=True):
            correct.append(int(np.argmax(strategy.decide(trial))) == classes.index(label))
            reports += [strategy.observe(trial), strategy.learn(trial, classes.index(label))]
        reports = [report for report in reports if report is not None]
        record = None
        if reports:
            record = publish(strategy.snapshot(), self.registry_dir, self.name, card=self.card)
            self.updates += 1
        return AdaptationOutcome(
            len(labels),
            float(np.mean(correct)),
            reports[-1].drift if reports else 0.0,
            any(report.clipped for report in reports),
            False,
            record,
        )
