"""What a self-supervised model offers the pretraining loop.

A pretrainable model is a torch module built from a configuration (a plain JSON mapping with
named sizes such as ``tiny`` or ``base``), which says what sequences it takes
(:class:`~decoders.pretraining.segments.SegmentSpec`) and returns its losses on a
micro-batch. Its vector quantisers are stepped by the loop once per optimisation step, with
statistics summed over processes and micro-batches.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from decoders.datasets.errors import DataError

if TYPE_CHECKING:
    from torch import Tensor

    from .checkpoint import Pretrained
    from .segments import CorpusPlan, SegmentSpec
    from .vq import VectorQuantizer


@dataclass(frozen=True)
class Losses:
    """The losses of one micro-batch.

    Attributes
    ----------
    total : Tensor
        The scalar to minimise.
    parts : dict of str to float
        Its named terms (detached), for logs and curves.
    """

    total: Tensor
    parts: dict[str, float]


class PretrainingModel(torch.nn.Module):
    """Base of the self-supervised models the pretraining loop trains.

    Subclasses set ``sizes`` (named configurations) and implement :meth:`segment_spec`,
    :meth:`losses` and :meth:`quantizers`; ``__init__`` takes the configuration's keys.
    """

    sizes: ClassVar[dict[str, dict[str, Any]]] = {}

    @classmethod
    def configuration(cls, size: str, **overrides: Any) -> dict[str, Any]:
        """Return the named configuration ``size`` updated by ``overrides``.

        Raises
        ------
        DataError
            For an unknown size or setting, or settings that cannot work together.
        """
        if size not in cls.sizes:
            raise DataError(cls.__name__, f"unknown size '{size}' (sizes: {', '.join(cls.sizes)})")
        unknown = sorted(set(overrides) - set(cls.sizes[size]))
        if unknown:
            raise DataError(
                cls.__name__,
                f"has no setting {', '.join(unknown)} (settings: {', '.join(cls.sizes[size])})",
            )
        config = {**cls.sizes[size], **overrides}
        cls.check(config)
        return config

    @classmethod
    def check(cls, config: dict[str, Any]) -> None:
        """Raise :class:`DataError` naming settings that cannot work together; none here."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PretrainingModel:
        """Build the model of a configuration returned by :meth:`configuration`."""
        return cls(**config)

    @staticmethod
    @abstractmethod
    def segment_spec(config: dict[str, Any]) -> SegmentSpec:
        """Return the sequences a model of ``config`` is pretrained on."""

    def attach(self, plan: CorpusPlan) -> None:
        """Adapt to the corpus before training (per-subject layers, ...); nothing here.

        Called on every process with the same plan, before weights are moved, resumed or
        averaged, so whatever it builds is identical everywhere.
        """

    def start_from(self, pretrained: Pretrained) -> dict[str, Any]:
        """Start from an earlier pretrained model (a later stage of a staged objective).

        Called before :meth:`attach`; returns the provenance to record. Refused here.

        Raises
        ------
        DataError
            Here always; in overrides, when ``pretrained`` is not a model to start from.
        """
        raise DataError(pretrained.path, f"{type(self).__name__} does not start from a model")

    def card(self) -> dict[str, Any]:
        """Return what the pretrained card records of the model beyond its configuration."""
        return {}

    @abstractmethod
    def losses(self, data: Tensor, weight: Tensor, source: Tensor) -> Losses:
        """Return the self-supervised losses of items ``data`` (weight 0: ignore them).

        ``source`` holds each item's index into the corpus plan's files.
        """

    @abstractmethod
    def quantizers(self) -> list[VectorQuantizer]:
        """Return the vector quantisers whose codebooks the loop updates each step."""

    def forward(
        self, data: Tensor, weight: Tensor, source: Tensor
    ) -> tuple[Tensor, dict[str, float]]:
        """Return the total loss and its parts (what data parallelism wraps)."""
        losses = self.losses(data, weight, source)
        return losses.total, losses.parts


def require_settings(
    pretrained: Pretrained,
    config: dict[str, Any],
    keys: tuple[str, ...],
    problem: str,
    remedy: str,
    side: str = "here",
) -> None:
    """Raise a :class:`DataError` naming the settings of ``keys`` ``pretrained`` differs on."""
    mismatched = [
        f"{key} {pretrained.config[key]} ({side}: {config[key]})"
        for key in keys
        if pretrained.config[key] != config[key]
    ]
    if mismatched:
        raise DataError(pretrained.path, f"{problem}: {', '.join(mismatched)} ({remedy})")


def require_stage_one(
    pretrained: Pretrained, model: str, label: str, stages: tuple[str, str], stage: str
) -> str:
    """Return the stage of ``pretrained`` if stage ``stage`` of ``model`` may start from it.

    A model pretrained in ``stages`` (first, second) starts its second stage only from a
    first-stage model of its own kind; ``label`` names the model in messages.

    Raises
    ------
    DataError
        When ``stage`` is the first (it starts from random weights) or ``pretrained`` is not
        a first-stage ``model``.
    """
    first, second = stages
    if stage != second:
        raise DataError(
            pretrained.path,
            f"stage {first} starts from random weights; --init is for stage {second}, which "
            f"starts from a stage-1 ({first}) model",
        )
    found = pretrained.config.get("stage") if pretrained.model == model else None
    if found != first:
        what = f"a stage-2 ({found}) {label}" if found else f"a pretrained {pretrained.model}"
        raise DataError(
            pretrained.path,
            f"is {what} model; stage {second} starts from a stage-1 ({first}) {label} model "
            f"(bci-app pretrain {model} --stage {first})",
        )
    return found
