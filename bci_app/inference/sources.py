"""Where a decoder's windows come from: one every hop, or one locked to each marker.

Either way the stream runs through the model's pipeline (in the engine's thread, never the
acquisition thread) and comes out as :class:`~acquisition.windows.Window` objects, flagged
when samples are missing inside (``gap``) or were NaN or infinite in the raw stream
(``non_finite``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from acquisition.epochs import EpochStream
from acquisition.markers import MarkerBuffer
from acquisition.preprocessing.pipeline import Pipeline
from acquisition.ringbuffer import RingBuffer
from acquisition.windows import WindowStream
from bci_app.models.format import ModelCard

WindowSource = WindowStream | EpochStream
"""What a runner reads windows from: ``read()`` gives new windows, ``dropped`` counts the
windows skipped (hop: decoding fell behind; markers: samples gone before the cut)."""


def window_source(
    buffer: RingBuffer,
    card: ModelCard,
    pipeline: Pipeline | None,
    *,
    markers: MarkerBuffer | Sequence[MarkerBuffer] | None = None,
    marker_offset_s: float = 0.0,
    marker_values: Collection[str] | None = None,
) -> WindowSource:
    """Return the windows of ``buffer`` a model with card ``card`` decodes.

    Parameters
    ----------
    buffer : RingBuffer
        The raw stream.
    card : ModelCard
        The model's window length, hop and rate.
    pipeline : Pipeline, optional
        Turns the stream into the model's input (see :func:`~.adapter.plan_pipeline`).
    markers : MarkerBuffer or sequence of MarkerBuffer, optional
        Lock a window to each marker instead of cutting one every hop. Every marker gets
        its window (none dropped for lateness); without markers only the newest window is
        handed out when decoding falls behind.
    marker_offset_s : float
        Window start relative to its marker (negative: the window ends near it).
    marker_values : collection of str, optional
        Only markers with these values get a window.
    """
    if markers is None:
        return WindowStream(buffer, card.n_times, card.hop, pipeline=pipeline, drop_to_newest=True)
    return EpochStream(
        buffer,
        markers,
        tmin=marker_offset_s,
        tmax=marker_offset_s + card.n_times / card.sfreq,
        values=marker_values,
        pipeline=pipeline,
    )
