"""Abnormal recordings without labels: EEGFormer's spectral reconstruction error.

A model pretrained on mostly normal EEG reconstructs normal spectra through its codebook
better than abnormal ones (slowing, spikes, asymmetry it rarely saw). A recording's score is
the mean reconstruction error of its channels' segments; a higher score is more abnormal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from decoders.datasets.errors import DataError
from decoders.pretraining.checkpoint import load_pretrained
from decoders.pretraining.corpus import scan_corpus
from decoders.pretraining.segments import (
    MicroBatch,
    SegmentOrder,
    SlotStream,
    StreamReport,
    plan_corpus,
)


@dataclass(frozen=True)
class AnomalyScore:
    """A recording's anomaly score and how many sequences it rests on."""

    path: str
    score: float
    n_sequences: int


def anomaly_scores(
    pretrained: Path, sources: Sequence[str | Path], *, batch: int = 256
) -> tuple[list[AnomalyScore], list[tuple[str, str]]]:
    """Score every recording of ``sources`` with a pretrained EEGFormer.

    Returns the scores (files in path order) and the files left out with the reason.
    """
    import torch

    from .pretraining import EEGFormerPretraining

    model = load_pretrained(pretrained)
    if model.model != "eegformer":
        raise DataError(pretrained, f"is a pretrained {model.model}, not an eegformer")
    network = EEGFormerPretraining.from_config(model.config)
    network.load_state_dict(model.state)
    network.eval()
    plan = plan_corpus(scan_corpus(sources), EEGFormerPretraining.segment_spec(model.config))
    order = SegmentOrder(
        np.concatenate([np.full(item.n_segments, f) for f, item in enumerate(plan.files)]),
        np.concatenate([np.arange(item.n_segments) for item in plan.files]),
    )
    errors = [[] for _ in plan.files]
    report = StreamReport()
    items = SlotStream(plan, order, 0, 1, 1, report=report)
    with torch.no_grad():
        for micro in _batches(items, batch):
            keep = micro.weight > 0
            data = torch.from_numpy(micro.data[keep])
            if len(data):
                error = network.backbone.reconstruction_error(data).numpy()
                for source, value in zip(micro.source[keep], error, strict=True):
                    errors[source].append(float(value))
    scores = [
        AnomalyScore(item.file.path, float(np.mean(values)), len(values))
        for item, values in zip(plan.files, errors, strict=True)
        if values
    ]
    skipped = [(item.path, item.reason) for item in plan.skipped]
    skipped += list(report.broken_files.items())
    return scores, skipped


def _batches(items: Iterable[MicroBatch], size: int) -> Iterator[MicroBatch]:
    """Group single items into micro-batches of ``size`` (the last one may be smaller)."""
    buffer: list[MicroBatch] = []
    for item in items:
        buffer.append(item)
        if len(buffer) == size:
            yield _stacked(buffer)
            buffer = []
    if buffer:
        yield _stacked(buffer)


def _stacked(items: list[MicroBatch]) -> MicroBatch:
    return MicroBatch(
        np.concatenate([m.data for m in items]),
        np.concatenate([m.weight for m in items]),
        np.concatenate([m.source for m in items]),
    )
